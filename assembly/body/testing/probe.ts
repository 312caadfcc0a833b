// Test probe: exposes the body scanner, prompt text and model rewrite to vitest over raw wasm
// exports (no proxy-wasm host). Built by test/body/probe.ts; never part of the plugin.
//
// Protocol: the test writes the body into `input(len)`'s memory (and a model into
// `input2(len)`), calls an operation, and reads results from getters or from `outPtr()`.

import { BodyScan, scanBody, modelString } from "../scanner";
import { promptText } from "../prompt";
import { rewriteModel } from "../rewrite";
import { ByteBuffer } from "../../json/byte-buffer";
import { parseJsonBytes } from "../../json/parse";

let inBuf = new ArrayBuffer(0);
let inBuf2 = new ArrayBuffer(0);
const scan = new BodyScan();
const out = new ByteBuffer(1024);
let outCopy = new ArrayBuffer(0);

export function input(len: i32): usize {
  inBuf = new ArrayBuffer(len);
  return changetype<usize>(inBuf);
}

export function input2(len: i32): usize {
  inBuf2 = new ArrayBuffer(len);
  return changetype<usize>(inBuf2);
}

/** Runs scanBody on the input; returns the BodyScanError (0 = ok). */
export function runScan(): i32 {
  scanBody(changetype<usize>(inBuf), inBuf.byteLength, scan);
  return <i32>scan.error;
}

export function errorOffset(): i32 {
  return scan.errorOffset;
}
export function hasModel(): i32 {
  return scan.hasModel ? 1 : 0;
}
export function modelIsString(): i32 {
  return scan.modelIsString ? 1 : 0;
}
export function modelStart(): i32 {
  return scan.modelStart;
}
export function modelEnd(): i32 {
  return scan.modelEnd;
}
/** Number of top-level model members, and the value span of the i-th (body order). */
export function modelSpanCount(): i32 {
  return scan.modelSpanCount;
}
export function modelSpanStart(i: i32): i32 {
  return scan.modelSpanStart(i);
}
export function modelSpanEnd(i: i32): i32 {
  return scan.modelSpanEnd(i);
}

/** -1 absent, 0 false, 1 true, 2 present but not a boolean. */
export function streamState(): i32 {
  if (!scan.hasStream) return -1;
  if (!scan.streamIsBool) return 2;
  return scan.stream ? 1 : 0;
}

function publish(): i32 {
  outCopy = out.toArrayBuffer();
  return outCopy.byteLength;
}

export function outPtr(): usize {
  return changetype<usize>(outCopy);
}

/**
 * Decoded model as UTF-16 code units (so lone surrogates survive, as in JSON.parse) into the
 * out buffer; returns its byte length (-1 without a string model).
 */
export function model(): i32 {
  if (!scan.hasStringModel) return -1;
  const m = modelString(changetype<usize>(inBuf), scan);
  outCopy = String.UTF16.encode(m);
  return outCopy.byteLength;
}

/** Prompt text; returns its length, or -1 when the body has no prompt source. */
export function prompt(maxBytes: i32): i32 {
  if (!promptText(changetype<usize>(inBuf), scan, out, maxBytes)) return -1;
  return publish();
}

/** Rewrites the model to the UTF-8 string in input2; returns the new body length or -1. */
export function rewrite(): i32 {
  const name = String.UTF8.decode(inBuf2);
  if (!rewriteModel(changetype<usize>(inBuf), inBuf.byteLength, scan, name, out)) return -1;
  return publish();
}

/** Config JSON DOM parse of the input: 1 ok, 0 error. */
export function parseConfig(): i32 {
  return parseJsonBytes(inBuf).ok ? 1 : 0;
}
