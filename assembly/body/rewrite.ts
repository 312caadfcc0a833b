/**
 * Model rewrite: replaces the bytes of every top-level `model` value and nothing else.
 *
 * API summary
 * - `rewriteModel(base, len, scan, newModel, out): bool`: writes into `out` (reset first) the
 *   body with the value span of EVERY top-level `model` member (`scan.modelSpanStart(i)` ..
 *   `scan.modelSpanEnd(i)`, duplicates included, whatever their type) replaced by `newModel`
 *   as a JSON string. Every other byte (the keys, escapes included, whitespace, key order,
 *   number spellings) is copied unchanged. Returns false (out empty) when the scan has no
 *   string model to route on.
 * - `encodeJsonString(s, out)`: appends `s` as a JSON string literal: `"` and `\` escaped,
 *   control characters as `\u00XX`, everything else as raw UTF-8 (lone surrogates as U+FFFD).
 * - `rewriteModelPrefix(base, len, scan, newModel, out): i32`: the same, but only up to the end
 *   of the last model value; returns that offset (the unchanged tail starts there), -1 when
 *   there is no string model. The plugin hands the host the prefix and then the tail from the
 *   body buffer itself, so a rewrite never copies the body inside the VM.
 * - `rewrittenLength(len, scan, newModel)`: the new body length, for `content-length`, without
 *   building the body.
 *
 * Why every duplicate: JSON.parse, Go and Python keep the last member, other parsers the first.
 * Replacing only the last would leave a backend that reads the first with a model the router
 * never chose (model smuggling); after this rewrite every parser reads `newModel`.
 * Callers pass a header-safe, well-formed `newModel` (see isHeaderSafeModel): the config
 * refuses any other rewrite target, so the U+FFFD branch of encodeJsonString is never taken.
 */
import { ByteBuffer } from "../json/byte-buffer";
import { BodyScan } from "./scanner";

const HEX = "0123456789abcdef";

/**
 * The code point at UTF-16 index `i`: a surrogate pair joined (a value above 0xffff, two units
 * long), anything else (lone surrogates included) as the one unit it is.
 */
// @ts-ignore: decorator
@inline
function codePointAt(s: string, i: i32): u32 {
  const cp = <u32>s.charCodeAt(i);
  if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
    const lo = <u32>s.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo <= 0xdfff) return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
  }
  return cp;
}

export function encodeJsonString(s: string, out: ByteBuffer): void {
  out.pushByte(0x22);
  const n = s.length;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(s, i);
    i += cp > 0xffff ? 2 : 1;
    if (cp == 0x22 || cp == 0x5c) {
      out.pushByte(0x5c);
      out.pushByte(cp);
    } else if (cp < 0x20) {
      out.pushByte(0x5c);
      out.pushByte(0x75);
      out.pushByte(0x30);
      out.pushByte(0x30);
      out.pushByte(<u32>HEX.charCodeAt(<i32>(cp >> 4)));
      out.pushByte(<u32>HEX.charCodeAt(<i32>(cp & 15)));
    } else {
      out.pushCodePoint(cp);
    }
  }
  out.pushByte(0x22);
}

/** Encoded size of `s` as a JSON string literal (matches encodeJsonString). */
export function encodedJsonStringLength(s: string): i32 {
  let total = 2;
  const n = s.length;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(s, i);
    i += cp > 0xffff ? 2 : 1;
    if (cp > 0xffff) total += 4;
    else if (cp == 0x22 || cp == 0x5c) total += 2;
    else if (cp < 0x20) total += 6;
    else if (cp < 0x80) total += 1;
    else if (cp < 0x800) total += 2;
    else total += 3; // BMP, including lone surrogates written as U+FFFD
  }
  return total;
}

export function rewrittenLength(len: i32, scan: BodyScan, newModel: string): i32 {
  if (!scan.hasStringModel) return len;
  const encoded = encodedJsonStringLength(newModel);
  let total = len;
  for (let i = 0, n = scan.modelSpanCount; i < n; i++) {
    total += encoded - (scan.modelSpanEnd(i) - scan.modelSpanStart(i));
  }
  return total;
}

export function rewriteModel(base: usize, len: i32, scan: BodyScan, newModel: string, out: ByteBuffer): bool {
  const tail = rewriteModelPrefix(base, len, scan, newModel, out);
  if (tail < 0) return false;
  out.pushBytes(base + <usize>tail, len - tail);
  return true;
}

/**
 * The rewritten body up to the end of its last `model` value only: writes into `out` (reset
 * first) bytes [0, end) with every model span replaced, and returns `end`, the offset from which
 * the original body continues unchanged (-1, out empty, when there is no string model). The
 * host can take the prefix and then the unchanged tail straight from the body buffer, so a
 * rewrite costs a few bytes of guest memory, not a second copy of the body.
 */
export function rewriteModelPrefix(base: usize, len: i32, scan: BodyScan, newModel: string, out: ByteBuffer): i32 {
  out.reset();
  if (!scan.hasStringModel || scan.modelEnd > len) return -1;
  let copied = 0;
  for (let i = 0, n = scan.modelSpanCount; i < n; i++) {
    const start = scan.modelSpanStart(i);
    out.pushBytes(base + <usize>copied, start - copied);
    encodeJsonString(newModel, out);
    copied = scan.modelSpanEnd(i);
  }
  return copied;
}
