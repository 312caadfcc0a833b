/**
 * JSON string scanning and decoding over UTF-8 bytes in linear memory.
 *
 * API summary (positions are byte offsets from `base`):
 * - `scanString(base, len, pos): i32`: `pos` is the opening quote. Returns the offset just past
 *   the closing quote, or a negative `StringError`. Validates escapes (`\" \\ \/ \b \f \n \r \t
 *   \uXXXX`), rejects raw control bytes (< 0x20), as RFC 8259 requires, and rejects invalid
 *   UTF-8 (overlong forms, surrogate code points, bytes above U+10FFFF, stray continuation
 *   bytes), as a fatal TextDecoder does: a body that is not UTF-8 is not JSON. Sets
 *   `lastStringHadEscape` and, on error, `lastStringErrorAt`.
 * - `decodeString(base, start, end): string`: the string content between the quotes (`start` just
 *   after the opening quote, `end` at the closing quote) as an AssemblyScript string. Escapes are
 *   decoded, surrogate pairs joined, lone surrogate escapes kept (as JSON.parse keeps them).
 *   Content that passed `scanString` is valid UTF-8; on other bytes invalid UTF-8 becomes
 *   U+FFFD the way WHATWG TextDecoder replaces it (kept for callers outside JSON).
 * - `decodeStringUtf8(base, start, end, out)`: the same content appended to a ByteBuffer as UTF-8
 *   (raw runs are copied as they are; lone surrogate escapes become U+FFFD).
 * - `contentEqualsAscii(base, start, end, hadEscape, key)`: compares string content with an ASCII
 *   key without allocating when the content had no escapes.
 *
 * Callers have already bounded `[start, end)` inside the buffer with `scanString`, so the loads
 * here stay in range by construction.
 */
import { ByteBuffer } from "./byte-buffer";

export enum StringError {
  Unterminated = -1,
  BadEscape = -2,
  ControlCharacter = -3,
  /** A byte sequence that is not UTF-8 (a fatal TextDecoder would throw). */
  InvalidUtf8 = -4,
}

/** Whether the string last scanned by `scanString` contained a backslash escape. */
export let lastStringHadEscape: bool = false;
/** Offset of the offending byte after `scanString` failed. */
export let lastStringErrorAt: i32 = 0;

// @ts-ignore: decorator
@inline
function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Reads 4 hex digits at `p` (caller guarantees p+4 <= end); -1 if any is not hex. */
function readHex4(base: usize, p: i32): i32 {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const h = hexValue(<u32>load<u8>(base + <usize>(p + k)));
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}

/**
 * Length of the valid UTF-8 sequence whose lead byte (>= 0x80) is at `p`: 2 to 4; 0 when the
 * bytes are not UTF-8 (WHATWG ranges: no overlong forms, no surrogates, nothing above
 * U+10FFFF); -1 when a valid prefix runs into `len` (the input was cut).
 */
function utf8SequenceLength(base: usize, p: i32, len: i32): i32 {
  const b0 = <u32>load<u8>(base + <usize>p);
  let need = 0;
  let lower: u32 = 0x80;
  let upper: u32 = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    if (b0 == 0xe0) lower = 0xa0;
    else if (b0 == 0xed) upper = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    if (b0 == 0xf0) lower = 0x90;
    else if (b0 == 0xf4) upper = 0x8f;
  } else {
    return 0;
  }
  for (let k = 1; k <= need; k++) {
    if (p + k >= len) return -1;
    const b = <u32>load<u8>(base + <usize>(p + k));
    if (b < lower || b > upper) return 0;
    lower = 0x80;
    upper = 0xbf;
  }
  return need + 1;
}

export function scanString(base: usize, len: i32, pos: i32): i32 {
  let i = pos + 1;
  lastStringHadEscape = false;
  while (i < len) {
    const c = <u32>load<u8>(base + <usize>i);
    if (c == 0x22) return i + 1;
    if (c == 0x5c) {
      lastStringHadEscape = true;
      if (i + 1 >= len) {
        lastStringErrorAt = len;
        return StringError.Unterminated;
      }
      const e = <u32>load<u8>(base + <usize>(i + 1));
      if (e == 0x75) {
        if (i + 6 > len) {
          lastStringErrorAt = len;
          return StringError.Unterminated;
        }
        if (readHex4(base, i + 2) < 0) {
          lastStringErrorAt = i;
          return StringError.BadEscape;
        }
        i += 6;
        continue;
      }
      if (
        e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 ||
        e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74
      ) {
        i += 2;
        continue;
      }
      lastStringErrorAt = i;
      return StringError.BadEscape;
    }
    if (c < 0x20) {
      lastStringErrorAt = i;
      return StringError.ControlCharacter;
    }
    if (c >= 0x80) {
      const n = utf8SequenceLength(base, i, len);
      if (n > 0) {
        i += n;
        continue;
      }
      if (n < 0) {
        lastStringErrorAt = len;
        return StringError.Unterminated;
      }
      lastStringErrorAt = i;
      return StringError.InvalidUtf8;
    }
    i++;
  }
  lastStringErrorAt = len;
  return StringError.Unterminated;
}

/** Value of the simple escape letter `e` (not `u`). */
function simpleEscape(e: u32): u32 {
  switch (e) {
    case 0x62:
      return 0x08;
    case 0x66:
      return 0x0c;
    case 0x6e:
      return 0x0a;
    case 0x72:
      return 0x0d;
    case 0x74:
      return 0x09;
    default:
      return e; // " \ /
  }
}

/**
 * Decodes one UTF-8 sequence at `p` (< end). Returns the code point, or 0xFFFD for an invalid
 * or truncated sequence; `utf8Consumed` says how many bytes were used (WHATWG maximal subpart).
 */
let utf8Consumed: i32 = 1;
function decodeUtf8At(base: usize, p: i32, end: i32): u32 {
  const b0 = <u32>load<u8>(base + <usize>p);
  utf8Consumed = 1;
  if (b0 < 0x80) return b0;
  let need = 0;
  let cp: u32 = 0;
  let lower: u32 = 0x80;
  let upper: u32 = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    if (b0 == 0xe0) lower = 0xa0;
    else if (b0 == 0xed) upper = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xf0) lower = 0x90;
    else if (b0 == 0xf4) upper = 0x8f;
  } else {
    return 0xfffd;
  }
  let q = p + 1;
  for (let k = 0; k < need; k++) {
    if (q >= end) {
      utf8Consumed = q - p;
      return 0xfffd;
    }
    const b = <u32>load<u8>(base + <usize>q);
    if (b < lower || b > upper) {
      utf8Consumed = q - p;
      return 0xfffd;
    }
    lower = 0x80;
    upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    q++;
  }
  utf8Consumed = q - p;
  return cp;
}

export function decodeString(base: usize, start: i32, end: i32): string {
  if (end <= start) return "";
  // Each input byte yields at most one UTF-16 unit (a 4-byte sequence yields two), so the
  // byte count bounds the output.
  const outStart = __new(<usize>(end - start) << 1, idof<String>());
  let out = outStart;
  let i = start;
  while (i < end) {
    const c = <u32>load<u8>(base + <usize>i);
    if (c == 0x5c) {
      const e = <u32>load<u8>(base + <usize>(i + 1));
      if (e != 0x75) {
        store<u16>(out, simpleEscape(e));
        out += 2;
        i += 2;
        continue;
      }
      let unit = <u32>readHex4(base, i + 2);
      i += 6;
      // Join a high surrogate with an escaped low surrogate that follows it.
      if (unit >= 0xd800 && unit <= 0xdbff && i + 6 <= end &&
          load<u8>(base + <usize>i) == 0x5c && load<u8>(base + <usize>(i + 1)) == 0x75) {
        const low = readHex4(base, i + 2);
        if (low >= 0xdc00 && low <= 0xdfff) {
          store<u16>(out, unit);
          store<u16>(out + 2, <u32>low);
          out += 4;
          i += 6;
          continue;
        }
      }
      store<u16>(out, unit);
      out += 2;
      continue;
    }
    if (c < 0x80) {
      store<u16>(out, c);
      out += 2;
      i++;
      continue;
    }
    const cp = decodeUtf8At(base, i, end);
    i += utf8Consumed;
    if (cp < 0x10000) {
      store<u16>(out, cp);
      out += 2;
    } else {
      const v = cp - 0x10000;
      store<u16>(out, 0xd800 | (v >> 10));
      store<u16>(out + 2, 0xdc00 | (v & 0x3ff));
      out += 4;
    }
  }
  return changetype<string>(__renew(outStart, out - outStart));
}

export function decodeStringUtf8(base: usize, start: i32, end: i32, out: ByteBuffer): void {
  let i = start;
  let runStart = start;
  while (i < end) {
    if (load<u8>(base + <usize>i) != 0x5c) {
      i++;
      continue;
    }
    out.pushBytes(base + <usize>runStart, i - runStart);
    const e = <u32>load<u8>(base + <usize>(i + 1));
    if (e != 0x75) {
      out.pushByte(simpleEscape(e));
      i += 2;
    } else {
      let cp = <u32>readHex4(base, i + 2);
      i += 6;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= end &&
          load<u8>(base + <usize>i) == 0x5c && load<u8>(base + <usize>(i + 1)) == 0x75) {
        const low = readHex4(base, i + 2);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>low - 0xdc00);
          i += 6;
        }
      }
      out.pushCodePoint(cp);
    }
    runStart = i;
  }
  out.pushBytes(base + <usize>runStart, end - runStart);
}

export function contentEqualsAscii(
  base: usize,
  start: i32,
  end: i32,
  hadEscape: bool,
  key: string,
): bool {
  if (hadEscape) return decodeString(base, start, end) == key;
  const n = key.length;
  if (end - start != n) return false;
  for (let k = 0; k < n; k++) {
    if (<u32>load<u8>(base + <usize>(start + k)) != <u32>key.charCodeAt(k)) return false;
  }
  return true;
}
