/**
 * JSON text → JsonValue, for plugin configuration (RFC 8259, strict).
 *
 * API summary
 * - `parseJson(text: string, duplicateKeys = DuplicateKeys.Reject): JsonParseResult`
 * - `parseJsonBytes(bytes: ArrayBuffer, duplicateKeys = DuplicateKeys.Reject): JsonParseResult`
 *   for UTF-8 input as it comes from the proxy (no decode/re-encode round trip).
 * - `JsonParseResult`: `ok: bool`, `value: JsonValue | null` (set when ok), `error: string`
 *   ("" when ok; otherwise what is wrong and the byte offset, e.g.
 *   `unexpected character '}' at byte 17`), `errorOffset: i32` (-1 when ok).
 *
 * Guarantees: never traps on any input. Nesting deeper than `MAX_JSON_DEPTH` (64) is an error,
 * so recursion is bounded. Whitespace is the four RFC 8259 characters only; no comments, no
 * trailing commas, no NaN/Infinity, no leading zeros. Strings: all escapes decoded, surrogate
 * pairs joined; raw control characters and invalid UTF-8 rejected (as a fatal TextDecoder
 * rejects it). Numbers are f64 (as JSON.parse).
 *
 * Duplicate object keys: `DuplicateKeys.Reject` (the default, used for configuration: a repeated
 * key is nearly always an editing mistake) makes them an error naming the key; `LastWins`
 * keeps the last value, as JSON.parse does.
 */
import { hexByte } from "./hex";
import { JsonValue } from "./value";
import {
  scanString,
  decodeString,
  lastStringErrorAt,
  StringError,
} from "./string-codec";

export const MAX_JSON_DEPTH: i32 = 64;

export enum DuplicateKeys {
  Reject = 0,
  LastWins = 1,
}

export class JsonParseResult {
  ok: bool = false;
  value: JsonValue | null = null;
  error: string = "";
  errorOffset: i32 = -1;
}

export function parseJson(text: string, duplicateKeys: DuplicateKeys = DuplicateKeys.Reject): JsonParseResult {
  return parseJsonBytes(String.UTF8.encode(text, false), duplicateKeys);
}

export function parseJsonBytes(bytes: ArrayBuffer, duplicateKeys: DuplicateKeys = DuplicateKeys.Reject): JsonParseResult {
  const parser = new JsonParser(changetype<usize>(bytes), bytes.byteLength, duplicateKeys);
  const result = new JsonParseResult();
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  if (value != null) {
    parser.skipWhitespace();
    if (parser.pos < parser.len) parser.failUnexpected();
  }
  if (parser.error.length > 0) {
    result.error = parser.error;
    result.errorOffset = parser.errorOffset;
    return result;
  }
  result.ok = true;
  result.value = value;
  return result;
}

/** Describes the byte at `pos` for an error message. */
function describeByte(b: u32): string {
  if (b >= 0x21 && b < 0x7f) return "character '" + String.fromCharCode(<i32>b) + "'";
  return "byte 0x" + hexByte(b);
}

/** What follows an array element or object member. */
enum AfterItem {
  Comma,
  Close,
  Invalid,
}

class JsonParser {
  pos: i32 = 0;
  error: string = "";
  errorOffset: i32 = -1;

  constructor(
    private base: usize,
    public len: i32,
    private duplicateKeys: DuplicateKeys,
  ) {}

  fail(message: string, at: i32): void {
    if (this.error.length == 0) {
      this.error = message + " at byte " + at.toString();
      this.errorOffset = at;
    }
  }

  failUnexpected(): void {
    if (this.pos >= this.len) {
      this.fail("unexpected end of input", this.len);
    } else {
      this.fail("unexpected " + describeByte(this.peek()), this.pos);
    }
  }

  // @ts-ignore: decorator
  @inline
  peek(): u32 {
    return <u32>load<u8>(this.base + <usize>this.pos);
  }

  skipWhitespace(): void {
    while (this.pos < this.len) {
      const c = this.peek();
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) return;
      this.pos++;
    }
  }

  /** Parses the value at `pos` (whitespace already skipped). Null on error. */
  parseValue(depth: i32): JsonValue | null {
    if (this.pos >= this.len) {
      this.failUnexpected();
      return null;
    }
    const start = this.pos;
    const c = this.peek();
    let v: JsonValue | null = null;
    if (c == 0x7b) {
      v = this.parseObject(depth + 1);
    } else if (c == 0x5b) {
      v = this.parseArray(depth + 1);
    } else if (c == 0x22) {
      const s = this.parseStringToken();
      if (s != null) v = JsonValue.string(s);
    } else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      v = this.parseNumber();
    } else if (this.matchWord("true")) {
      v = JsonValue.bool(true);
    } else if (this.matchWord("false")) {
      v = JsonValue.bool(false);
    } else if (this.matchWord("null")) {
      v = JsonValue.null();
    } else {
      this.failUnexpected();
    }
    if (v != null) v.offset = start;
    return v;
  }

  matchWord(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.len) return false;
    for (let k = 0; k < n; k++) {
      if (<u32>load<u8>(this.base + <usize>(this.pos + k)) != <u32>word.charCodeAt(k)) return false;
    }
    this.pos += n;
    return true;
  }

  parseStringToken(): string | null {
    const start = this.pos;
    const end = scanString(this.base, this.len, start);
    if (end < 0) {
      if (end == StringError.Unterminated) this.fail("unterminated string", lastStringErrorAt);
      else if (end == StringError.BadEscape) this.fail("invalid escape sequence in string", lastStringErrorAt);
      else if (end == StringError.InvalidUtf8) this.fail("invalid UTF-8 in string", lastStringErrorAt);
      else this.fail("unescaped control character in string", lastStringErrorAt);
      return null;
    }
    this.pos = end;
    return decodeString(this.base, start + 1, end - 1);
  }

  parseNumber(): JsonValue | null {
    const start = this.pos;
    let p = this.pos;
    const len = this.len;
    const base = this.base;
    if (load<u8>(base + <usize>p) == 0x2d) p++;
    if (p >= len) {
      this.fail("invalid number", start);
      return null;
    }
    let c = <u32>load<u8>(base + <usize>p);
    if (c == 0x30) {
      p++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (p < len && isDigit(<u32>load<u8>(base + <usize>p))) p++;
    } else {
      this.fail("invalid number", start);
      return null;
    }
    if (p < len && load<u8>(base + <usize>p) == 0x2e) {
      p++;
      const fracStart = p;
      while (p < len && isDigit(<u32>load<u8>(base + <usize>p))) p++;
      if (p == fracStart) {
        this.fail("invalid number (digit expected after '.')", p);
        return null;
      }
    }
    if (p < len && (load<u8>(base + <usize>p) | 0x20) == 0x65) {
      p++;
      if (p < len) {
        c = <u32>load<u8>(base + <usize>p);
        if (c == 0x2b || c == 0x2d) p++;
      }
      const expStart = p;
      while (p < len && isDigit(<u32>load<u8>(base + <usize>p))) p++;
      if (p == expStart) {
        this.fail("invalid number (digit expected in exponent)", p);
        return null;
      }
    }
    // A number directly followed by a digit is "01"-style: leading zeros are not JSON.
    if (p < len && isDigit(<u32>load<u8>(base + <usize>p))) {
      this.fail("invalid number (leading zero)", start);
      return null;
    }
    this.pos = p;
    const text = String.UTF8.decodeUnsafe(base + <usize>start, <usize>(p - start), false);
    return JsonValue.number(parseFloat(text));
  }

  parseArray(depth: i32): JsonValue | null {
    if (this.tooDeep(depth)) return null;
    const arr = JsonValue.array();
    if (this.openIsEmpty(0x5d)) return arr;
    while (true) {
      this.skipWhitespace();
      const item = this.parseValue(depth);
      if (item == null) return null;
      arr.push(item);
      const next = this.afterItem(0x5d);
      if (next == AfterItem.Close) return arr;
      if (next == AfterItem.Invalid) return null;
    }
  }

  parseObject(depth: i32): JsonValue | null {
    if (this.tooDeep(depth)) return null;
    const obj = JsonValue.object();
    if (this.openIsEmpty(0x7d)) return obj;
    while (true) {
      this.skipWhitespace();
      if (this.pos >= this.len || this.peek() != 0x22) {
        this.failUnexpected();
        return null;
      }
      const keyAt = this.pos;
      const key = this.parseStringToken();
      if (key == null) return null;
      this.skipWhitespace();
      if (this.pos >= this.len || this.peek() != 0x3a) {
        this.failUnexpected();
        return null;
      }
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue(depth);
      if (value == null) return null;
      if (this.duplicateKeys == DuplicateKeys.Reject && obj.has(key)) {
        this.fail("duplicate key \"" + key + "\"", keyAt);
        return null;
      }
      obj.set(key, value);
      const next = this.afterItem(0x7d);
      if (next == AfterItem.Close) return obj;
      if (next == AfterItem.Invalid) return null;
    }
  }

  /** Fails (and returns true) when a container at `depth` would nest past MAX_JSON_DEPTH. */
  tooDeep(depth: i32): bool {
    if (depth <= MAX_JSON_DEPTH) return false;
    this.fail("nesting deeper than " + MAX_JSON_DEPTH.toString() + " levels", this.pos);
    return true;
  }

  /** Steps past `[` or `{`; true (with `close` consumed too) when the container is empty. */
  openIsEmpty(close: u32): bool {
    this.pos++;
    this.skipWhitespace();
    if (this.pos < this.len && this.peek() == close) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** After an array element or object member: consumes `,` or `close`; anything else fails. */
  afterItem(close: u32): AfterItem {
    this.skipWhitespace();
    if (this.pos >= this.len) {
      this.failUnexpected();
      return AfterItem.Invalid;
    }
    const c = this.peek();
    if (c == 0x2c) {
      this.pos++;
      return AfterItem.Comma;
    }
    if (c == close) {
      this.pos++;
      return AfterItem.Close;
    }
    this.failUnexpected();
    return AfterItem.Invalid;
  }
}

// @ts-ignore: decorator
@inline
function isDigit(c: u32): bool {
  return c >= 0x30 && c <= 0x39;
}
