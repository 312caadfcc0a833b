import { OciError } from "./errors.js";

/** `\0asm` followed by binary format version 1. */
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** True when `bytes` starts like a WebAssembly binary module (magic and version 1). */
export function looksLikeWasm(bytes: Uint8Array): boolean {
  if (bytes.length < WASM_HEADER.length) return false;
  return WASM_HEADER.every((b, i) => bytes[i] === b);
}

/** Throws E_NOT_WASM naming `source` unless `bytes` is a WebAssembly binary. */
export function assertWasm(bytes: Uint8Array, source: string): void {
  if (!looksLikeWasm(bytes)) {
    throw new OciError(
      "E_NOT_WASM",
      `${source} is not a WebAssembly module (it does not start with \\0asm version 1); pass the compiled plugin, e.g. build/plugin.wasm`,
    );
  }
}
