// Replacement for AssemblyScript's `abort`, wired in with `--use abort=proxy-wasm/abort/wayrouteAbort`.
// The default imports `env.abort`, which Envoy does not provide, so the module would not link.
// This one logs the reason at critical through proxy_log, then traps (`unreachable`): Envoy
// fails the stream and, without FAIL_RELOAD, keeps the VM dead, so the log line is the only
// trace left. It allocates nothing (it may run because memory ran out): the line is built in a
// static buffer, UTF-16 text squeezed to ASCII ('?' for anything else), truncated to fit.

import { proxy_log } from "./imports";
import { LogLevel } from "./types";

// @ts-ignore: decorator
@inline const LINE_CAPACITY: usize = 512;
const line: usize = memory.data(<i32>LINE_CAPACITY);
let lineLength: usize = 0;
let aborting = false;

function appendAscii(text: string): void {
  const units = <usize>text.length;
  const base = changetype<usize>(text);
  for (let i: usize = 0; i < units && lineLength < LINE_CAPACITY; i++) {
    const unit = load<u16>(base + (i << 1));
    store<u8>(line + lineLength++, unit >= 0x20 && unit < 0x7f ? <u8>unit : 0x3f);
  }
}

function appendNumber(value: u32): void {
  // Up to 10 digits, written backwards into place.
  let digits: usize = 1;
  for (let rest = value / 10; rest > 0; rest /= 10) digits++;
  if (lineLength + digits > LINE_CAPACITY) return;
  let at = line + lineLength + digits;
  let rest = value;
  do {
    store<u8>(--at, <u8>(0x30 + rest % 10));
    rest /= 10;
  } while (rest > 0);
  lineLength += digits;
}

export function wayrouteAbort(
  message: string | null,
  fileName: string | null,
  lineNumber: u32,
  columnNumber: u32,
): void {
  if (!aborting) {
    aborting = true;
    lineLength = 0;
    appendAscii("wayroute: fatal: ");
    appendAscii(message != null ? message : "abort");
    if (fileName != null) {
      appendAscii(" at ");
      appendAscii(fileName);
      appendAscii(":");
      appendNumber(lineNumber);
      appendAscii(":");
      appendNumber(columnNumber);
    }
    proxy_log(<u32>LogLevel.Critical, line, lineLength);
    aborting = false;
  }
  unreachable();
}
