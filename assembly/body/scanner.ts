/**
 * The request body scanner: one validating pass over an OpenAI-style JSON body, in place over
 * the bytes (no DOM), finding the top-level fields routing needs.
 *
 * API summary
 * - `scanBody(base: usize, len: i32, out: BodyScan): BodyScan`: scans `len` bytes at `base`
 *   (e.g. the buffer returned by proxy_get_buffer_bytes) and fills `out` (reuse one BodyScan
 *   where possible: scanning allocates nothing once its buffers have grown).
 *   `scanBodyBuffer(buf: ArrayBuffer, out)` is the same over an ArrayBuffer.
 * - `BodyScan` fields:
 *   - `ok`, `error: BodyScanError` (None, Empty, NotObject, Invalid, Truncated),
 *     `errorOffset` (byte where the problem was found, -1 when ok).
 *   - model: `hasModel` (a top-level `model` member exists), `modelIsString`,
 *     `modelStart`/`modelEnd` (byte span of the LAST model member's VALUE token, quotes
 *     included), `modelHadEscape`; `modelSpanCount` and `modelSpanStart(i)`/`modelSpanEnd(i)`:
 *     the value spans of EVERY top-level `model` member in body order (duplicates included),
 *     so a rewrite can replace all of them. `modelString(base, scan)` decodes the last one.
 *   - stream: `hasStream`, `streamIsBool`, `stream` (true only for a literal `true`).
 *   - prompt sources: `messagesStart/End`, `promptStart/End`, `inputStart/End` (value spans of
 *     the top-level `messages`, `prompt`, `input` members; -1 when absent). Turn them into text
 *     with `promptText` (prompt.ts).
 * - `modelValueIs(base, scan, name)`: compares the decoded model with `name` without
 *   allocating when the value has no escapes.
 *
 * Semantics (the reference is JSON.parse over a fatal UTF-8 decode, see docs/rewriting.md)
 * - Only members of the top-level object count. `model` keys nested in messages, tools,
 *   metadata etc. are skipped as ordinary values.
 * - Duplicate top-level keys: the LAST occurrence wins, as with JSON.parse (and Python's json,
 *   Go's encoding/json). Extraction and prompt text use the last one; every span is kept for
 *   the rewrite.
 * - Keys are compared after escape decoding: `"mod\u0065l"` is `model`, as JSON.parse sees it;
 *   a key that decodes to anything else (`"Model"`, `"model\u0000"`) is another key.
 * - The whole document is validated (RFC 8259: strings, escapes, numbers, literals, nesting,
 *   nothing but whitespace after the value) and so is its UTF-8: a body with any byte sequence
 *   a fatal TextDecoder refuses is invalid, wherever it is. A leading UTF-8 BOM is refused
 *   (JSON.parse refuses U+FEFF, and so do Go's and Python's decoders on bytes). Anything
 *   invalid returns an error, never a trap.
 * - Nesting has no limit: nested values are skipped in the same loop (no recursion) and each
 *   open container costs one bit of a stack that grows with the body. The depth is an i32
 *   that cannot wrap: every level consumes a byte of an input shorter than 2^31 bytes.
 */
import {
  scanString,
  decodeString,
  contentEqualsAscii,
  lastStringHadEscape,
  lastStringErrorAt,
  StringError,
} from "../json/string-codec";

export enum BodyScanError {
  None = 0,
  /** Zero bytes, or only whitespace. */
  Empty = 1,
  /** Valid start but the top-level value is not an object (`[`, `"`, a number...). */
  NotObject = 2,
  /** A syntax error before the end of input. */
  Invalid = 3,
  /** The input ended inside the document. */
  Truncated = 4,
}

export function bodyScanErrorName(e: BodyScanError): string {
  switch (e) {
    case BodyScanError.None:
      return "none";
    case BodyScanError.Empty:
      return "empty body";
    case BodyScanError.NotObject:
      return "body is not a JSON object";
    case BodyScanError.Invalid:
      return "invalid JSON";
    default:
      return "truncated JSON";
  }
}

export class BodyScan {
  ok: bool = false;
  error: BodyScanError = BodyScanError.None;
  errorOffset: i32 = -1;

  hasModel: bool = false;
  modelIsString: bool = false;
  modelStart: i32 = -1;
  modelEnd: i32 = -1;
  modelHadEscape: bool = false;
  /** Value spans of every top-level model member: start, end, start, end... (body order). */
  private modelSpans: i32[] = [];

  hasStream: bool = false;
  streamIsBool: bool = false;
  stream: bool = false;

  messagesStart: i32 = -1;
  messagesEnd: i32 = -1;
  promptStart: i32 = -1;
  promptEnd: i32 = -1;
  inputStart: i32 = -1;
  inputEnd: i32 = -1;

  reset(): void {
    this.ok = false;
    this.error = BodyScanError.None;
    this.errorOffset = -1;
    this.hasModel = false;
    this.modelIsString = false;
    this.modelStart = -1;
    this.modelEnd = -1;
    this.modelHadEscape = false;
    this.modelSpans.length = 0; // keeps its capacity
    this.hasStream = false;
    this.streamIsBool = false;
    this.stream = false;
    this.messagesStart = -1;
    this.messagesEnd = -1;
    this.promptStart = -1;
    this.promptEnd = -1;
    this.inputStart = -1;
    this.inputEnd = -1;
  }

  /** Number of top-level `model` members (duplicates counted). */
  get modelSpanCount(): i32 {
    return this.modelSpans.length >> 1;
  }

  /** Start of the value token of the i-th top-level model member (0 = first in the body). */
  modelSpanStart(i: i32): i32 {
    return this.modelSpans[i << 1];
  }

  /** End (exclusive) of the value token of the i-th top-level model member. */
  modelSpanEnd(i: i32): i32 {
    return this.modelSpans[(i << 1) + 1];
  }

  addModelSpan(start: i32, end: i32): void {
    this.modelSpans.push(start);
    this.modelSpans.push(end);
  }

  /** True when a string model was found (the usual routing precondition). */
  get hasStringModel(): bool {
    return this.ok && this.hasModel && this.modelIsString;
  }
}

/** Which top-level member the scanner is inside. */
const enum TopKey {
  Other = 0,
  Model = 1,
  Stream = 2,
  Messages = 3,
  Prompt = 4,
  Input = 5,
}

/**
 * One bit per open container: 1 = object, 0 = array. One per VM, grown (doubled) when a body
 * nests deeper than it has bits for, never shrunk: at most one bit per byte of the largest
 * body read.
 */
let containerBits = new StaticArray<u32>(32);

function growContainerBits(words: i32): void {
  let n = containerBits.length;
  while (n <= words) n <<= 1;
  const next = new StaticArray<u32>(n);
  memory.copy(changetype<usize>(next), changetype<usize>(containerBits), <usize>containerBits.length << 2);
  containerBits = next;
}

// @ts-ignore: decorator
@inline
function setContainer(depth: i32, isObject: bool): void {
  const w = depth >> 5;
  if (w >= containerBits.length) growContainerBits(w);
  const bit: u32 = 1 << <u32>(depth & 31);
  const cur = unchecked(containerBits[w]);
  unchecked((containerBits[w] = isObject ? cur | bit : cur & ~bit));
}

// @ts-ignore: decorator
@inline
function isObjectAt(depth: i32): bool {
  return (unchecked(containerBits[depth >> 5]) & (<u32>1 << <u32>(depth & 31))) != 0;
}

// @ts-ignore: decorator
@inline
function isWhitespace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

// @ts-ignore: decorator
@inline
function isDigit(c: u32): bool {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The offset of the first non-whitespace byte at or after `p` (or `len`). Out of line where a
 * skip is rare or once per member; the per-value skips of the main loop stay inline.
 */
function skipWhitespace(base: usize, len: i32, p: i32): i32 {
  while (p < len && isWhitespace(<u32>load<u8>(base + <usize>p))) p++;
  return p;
}

/** Classifies a top-level key (content between the quotes). */
function classifyKey(base: usize, start: i32, end: i32, hadEscape: bool): TopKey {
  if (!hadEscape) {
    // Fast reject on length and first byte: most keys are none of ours.
    const n = end - start;
    if (n < 5 || n > 8) return TopKey.Other;
    const c0 = <u32>load<u8>(base + <usize>start);
    if (c0 != 0x6d && c0 != 0x73 && c0 != 0x70 && c0 != 0x69) return TopKey.Other;
  }
  if (contentEqualsAscii(base, start, end, hadEscape, "model")) return TopKey.Model;
  if (contentEqualsAscii(base, start, end, hadEscape, "stream")) return TopKey.Stream;
  if (contentEqualsAscii(base, start, end, hadEscape, "messages")) return TopKey.Messages;
  if (contentEqualsAscii(base, start, end, hadEscape, "prompt")) return TopKey.Prompt;
  if (contentEqualsAscii(base, start, end, hadEscape, "input")) return TopKey.Input;
  return TopKey.Other;
}

/**
 * Scans a JSON number starting at `p`. Returns the offset after it, or -(offset of the
 * problem) - 1 on error (so 0 maps to -1).
 */
export function scanNumber(base: usize, len: i32, p: i32): i32 {
  if (load<u8>(base + <usize>p) == 0x2d) p++;
  if (p >= len) return -p - 1;
  const c = <u32>load<u8>(base + <usize>p);
  if (c == 0x30) {
    p++;
  } else if (c >= 0x31 && c <= 0x39) {
    p++;
    while (p < len && isDigit(<u32>load<u8>(base + <usize>p))) p++;
  } else {
    return -p - 1;
  }
  if (p < len && load<u8>(base + <usize>p) == 0x2e) {
    p++;
    const s = p;
    while (p < len && isDigit(<u32>load<u8>(base + <usize>p))) p++;
    if (p == s) return -p - 1;
  }
  if (p < len && (load<u8>(base + <usize>p) | 0x20) == 0x65) {
    p++;
    if (p < len) {
      const s = <u32>load<u8>(base + <usize>p);
      if (s == 0x2b || s == 0x2d) p++;
    }
    const e = p;
    while (p < len && isDigit(<u32>load<u8>(base + <usize>p))) p++;
    if (p == e) return -p - 1;
  }
  return p;
}

/** Matches literal `word` at `p`; returns the offset after it, or -1. */
function scanLiteral(base: usize, len: i32, p: i32, word: string): i32 {
  const n = word.length;
  for (let k = 0; k < n; k++) {
    if (p + k >= len) return -1;
    if (<u32>load<u8>(base + <usize>(p + k)) != <u32>word.charCodeAt(k)) return -1;
  }
  return p + n;
}

function fail(out: BodyScan, error: BodyScanError, at: i32): BodyScan {
  out.ok = false;
  out.error = error;
  out.errorOffset = at;
  return out;
}

/** Fails as Truncated when `at` is at/after the end, else as Invalid. */
function failAt(out: BodyScan, len: i32, at: i32): BodyScan {
  return fail(out, at >= len ? BodyScanError.Truncated : BodyScanError.Invalid, at);
}

export function scanBodyBuffer(buf: ArrayBuffer, out: BodyScan): BodyScan {
  return scanBody(changetype<usize>(buf), buf.byteLength, out);
}

export function scanBody(base: usize, len: i32, out: BodyScan): BodyScan {
  out.reset();
  let p = 0;
  p = skipWhitespace(base, len, p);
  if (p >= len) return fail(out, BodyScanError.Empty, p);
  if (load<u8>(base + <usize>p) != 0x7b) {
    // Tell "valid JSON but not an object" from garbage only by the first byte; either way
    // there is nothing to route on.
    const c = <u32>load<u8>(base + <usize>p);
    const valueStart = c == 0x5b || c == 0x22 || c == 0x2d || isDigit(c) || c == 0x74 || c == 0x66 || c == 0x6e;
    return fail(out, valueStart ? BodyScanError.NotObject : BodyScanError.Invalid, p);
  }

  let depth = 0; // number of open containers (< len, so it cannot wrap)
  let topKey = TopKey.Other; // key of the current top-level member
  let topValueStart = -1;
  let topValueFirst: u32 = 0;
  let topStringEscaped = false;

  // The loop alternates between "expect a value at p" and "after a value".
  while (true) {
    // ---- expect a value ----
    while (p < len && isWhitespace(<u32>load<u8>(base + <usize>p))) p++;
    if (p >= len) return fail(out, BodyScanError.Truncated, p);
    if (depth == 1) {
      topValueStart = p;
      topValueFirst = <u32>load<u8>(base + <usize>p);
    }
    let c = <u32>load<u8>(base + <usize>p);
    if (c == 0x7b || c == 0x5b) {
      const isObj = c == 0x7b;
      setContainer(depth, isObj);
      depth++;
      p++;
      p = skipWhitespace(base, len, p);
      if (p >= len) return fail(out, BodyScanError.Truncated, p);
      c = <u32>load<u8>(base + <usize>p);
      if ((isObj && c == 0x7d) || (!isObj && c == 0x5d)) {
        depth--;
        p++;
      } else if (isObj) {
        // Read the first key, then loop back to expect its value.
        const kp = readKey(base, len, p, depth, out);
        if (kp < 0) return out;
        p = kp;
        if (depth == 1) topKey = pendingTopKey;
        continue;
      } else {
        continue; // first array element
      }
      // An empty container is a complete value: fall through to "after a value".
    } else if (c == 0x22) {
      const e = scanString(base, len, p);
      if (e < 0) {
        return e == StringError.Unterminated
          ? fail(out, BodyScanError.Truncated, lastStringErrorAt)
          : fail(out, BodyScanError.Invalid, lastStringErrorAt);
      }
      topStringEscaped = lastStringHadEscape;
      p = e;
    } else if (c == 0x2d || isDigit(c)) {
      const e = scanNumber(base, len, p);
      if (e < 0) return failAt(out, len, -e - 1);
      if (e < len && isDigit(<u32>load<u8>(base + <usize>e))) return fail(out, BodyScanError.Invalid, e);
      p = e;
    } else if (c == 0x74 || c == 0x66 || c == 0x6e) {
      const e = scanLiteral(base, len, p, c == 0x74 ? "true" : c == 0x66 ? "false" : "null");
      if (e < 0) {
        // A literal cut short by the end of input is truncation; a wrong letter is invalid.
        const word = c == 0x74 ? "true" : c == 0x66 ? "false" : "null";
        let k = 0;
        while (p + k < len && k < word.length && <u32>load<u8>(base + <usize>(p + k)) == <u32>word.charCodeAt(k)) k++;
        return failAt(out, len, p + k);
      }
      p = e;
    } else {
      return fail(out, BodyScanError.Invalid, p);
    }

    // ---- after a value: close containers / move to the next member ----
    while (true) {
      if (depth == 1) recordTopMember(out, topKey, topValueStart, p, topValueFirst, topStringEscaped);
      if (depth == 0) {
        p = skipWhitespace(base, len, p);
        if (p < len) return fail(out, BodyScanError.Invalid, p);
        out.ok = true;
        return out;
      }
      while (p < len && isWhitespace(<u32>load<u8>(base + <usize>p))) p++;
      if (p >= len) return fail(out, BodyScanError.Truncated, p);
      c = <u32>load<u8>(base + <usize>p);
      const inObject = isObjectAt(depth - 1);
      if (c == 0x2c) {
        p++;
        if (inObject) {
          p = skipWhitespace(base, len, p);
          const kp = readKey(base, len, p, depth, out);
          if (kp < 0) return out;
          p = kp;
          if (depth == 1) topKey = pendingTopKey;
        }
        break; // expect the next value
      }
      if ((inObject && c == 0x7d) || (!inObject && c == 0x5d)) {
        p++;
        depth--;
        continue; // the container was a value of its parent
      }
      return fail(out, BodyScanError.Invalid, p);
    }
  }
  return out;
}

/** Top-level key classification handed from readKey to the main loop. */
let pendingTopKey: TopKey = TopKey.Other;

/**
 * Reads `"key"` + whitespace + `:` at `p`. Returns the offset after the colon, or -1 after
 * filling `out` with the error. Classifies the key when `depth == 1`.
 */
function readKey(base: usize, len: i32, p: i32, depth: i32, out: BodyScan): i32 {
  if (p >= len) {
    fail(out, BodyScanError.Truncated, p);
    return -1;
  }
  if (load<u8>(base + <usize>p) != 0x22) {
    fail(out, BodyScanError.Invalid, p);
    return -1;
  }
  const e = scanString(base, len, p);
  if (e < 0) {
    if (e == StringError.Unterminated) fail(out, BodyScanError.Truncated, lastStringErrorAt);
    else fail(out, BodyScanError.Invalid, lastStringErrorAt);
    return -1;
  }
  if (depth == 1) pendingTopKey = classifyKey(base, p + 1, e - 1, lastStringHadEscape);
  let q = e;
  q = skipWhitespace(base, len, q);
  if (q >= len) {
    fail(out, BodyScanError.Truncated, q);
    return -1;
  }
  if (load<u8>(base + <usize>q) != 0x3a) {
    fail(out, BodyScanError.Invalid, q);
    return -1;
  }
  return q + 1;
}

/** Records the span of a finished top-level member value; later duplicates overwrite. */
function recordTopMember(out: BodyScan, key: TopKey, start: i32, end: i32, first: u32, escaped: bool): void {
  switch (key) {
    case TopKey.Model: {
      out.addModelSpan(start, end);
      out.hasModel = true;
      out.modelIsString = first == 0x22;
      out.modelStart = start;
      out.modelEnd = end;
      out.modelHadEscape = first == 0x22 && escaped;
      break;
    }
    case TopKey.Stream: {
      out.hasStream = true;
      out.streamIsBool = first == 0x74 || first == 0x66;
      out.stream = first == 0x74;
      break;
    }
    case TopKey.Messages: {
      out.messagesStart = start;
      out.messagesEnd = end;
      break;
    }
    case TopKey.Prompt: {
      out.promptStart = start;
      out.promptEnd = end;
      break;
    }
    case TopKey.Input: {
      out.inputStart = start;
      out.inputEnd = end;
      break;
    }
    default:
      break;
  }
}

/** The decoded model string ("" when there is no string model). */
export function modelString(base: usize, scan: BodyScan): string {
  if (!scan.hasStringModel) return "";
  return decodeString(base, scan.modelStart + 1, scan.modelEnd - 1);
}

/** Whether the decoded model equals `name` (allocation-free when the value has no escapes). */
export function modelValueIs(base: usize, scan: BodyScan, name: string): bool {
  if (!scan.hasStringModel) return false;
  if (scan.modelHadEscape) return modelString(base, scan) == name;
  const start = scan.modelStart + 1;
  const end = scan.modelEnd - 1;
  // Compare UTF-8 bytes of `name` with the raw bytes.
  const n = String.UTF8.byteLength(name, false);
  if (n != end - start) return false;
  let i = 0;
  let b = start;
  const units = name.length;
  while (i < units) {
    let cp = <u32>name.charCodeAt(i++);
    if (cp >= 0xd800 && cp <= 0xdbff && i < units) {
      const lo = <u32>name.charCodeAt(i);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) {
      if (<u32>load<u8>(base + <usize>b) != cp) return false;
      b++;
    } else {
      // Non-ASCII names are rare: fall back to decoding.
      return modelString(base, scan) == name;
    }
  }
  return true;
}
