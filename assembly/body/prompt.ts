/**
 * Readable prompt text (role markers + text parts), read from a body that `scanBody` validated.
 * The endpoint picker hashes other bytes: the EPP's estimate form, `prefix-prompt.ts`, which
 * reuses the JSON cursors below.
 *
 * API summary
 * - `promptText(base, scan, out, maxBytes = i32.MAX_VALUE): bool`: resets `out` and appends
 *   the prompt as UTF-8; returns false when the body has no prompt source (out stays empty).
 *   Stops after `maxBytes` bytes (callers pass a bound and skip the rest of a long
 *   conversation).
 *
 * Which source: the top-level `messages` (chat completions) if present, else `prompt`
 * (legacy completions), else `input` (responses, embeddings). Duplicate keys: the last wins
 * (see scanner.ts), also for `role`/`content`/`text` inside a message.
 *
 * Text format (stable: the prefix index hashes it, so changing it invalidates learned state):
 * - each chat message: `<|ROLE|>` then its content text. Content is a string, or an array of
 *   parts whose `text` strings are concatenated in order (image/audio/file parts contribute
 *   nothing). A message without a string `role` gets `<||>`; a null content gives the marker
 *   only.
 * - `prompt` / `input` string: the decoded string.
 * - `prompt` / `input` array: elements joined by `\n`; a string element is decoded, an object
 *   element of `input` is read as a message (marker + content, as above), anything else
 *   (token ids, nested arrays) is copied as its raw JSON bytes.
 * Escapes are decoded; surrogate pairs are joined; lone surrogate escapes become U+FFFD.
 *
 * Cost: a second pass over the prompt source only; no allocation besides `out` growing. The
 * body must have been validated by scanBody (the cursors below rely on it and do not recheck).
 */
import { ByteBuffer } from "../json/byte-buffer";
import { scanString, decodeStringUtf8, contentEqualsAscii, lastStringHadEscape } from "../json/string-codec";
import { BodyScan } from "./scanner";

// @ts-ignore: decorator
@inline
function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

export function skipWs(base: usize, p: i32, limit: i32): i32 {
  while (p < limit && isWs(<u32>load<u8>(base + <usize>p))) p++;
  return p;
}

/**
 * End of the (valid) JSON value starting at `p`. Containers are skipped by bracket counting,
 * strings by scanning, scalars up to the next delimiter. `limit` bounds every read.
 */
export function skipValue(base: usize, p: i32, limit: i32): i32 {
  const c = <u32>load<u8>(base + <usize>p);
  if (c == 0x22) return scanString(base, limit, p);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (p < limit) {
      const b = <u32>load<u8>(base + <usize>p);
      if (b == 0x22) {
        p = scanString(base, limit, p);
        if (p < 0) return limit;
        continue;
      }
      if (b == 0x7b || b == 0x5b) depth++;
      else if (b == 0x7d || b == 0x5d) {
        depth--;
        if (depth == 0) return p + 1;
      }
      p++;
    }
    return limit;
  }
  while (p < limit) {
    const b = <u32>load<u8>(base + <usize>p);
    if (b == 0x2c || b == 0x7d || b == 0x5d || isWs(b)) break;
    p++;
  }
  return p;
}

/**
 * Where the next array element or object member starts: whitespace and one separating comma
 * skipped from `p`. -1 when the input ends first. The closing bracket is returned as is.
 */
function nextItemStart(base: usize, p: i32, limit: i32): i32 {
  p = skipWs(base, p, limit);
  if (p >= limit) return -1;
  if (<u32>load<u8>(base + <usize>p) == 0x2c) {
    p = skipWs(base, p + 1, limit);
    if (p >= limit) return -1;
  }
  return p;
}

/** Walks the elements of a valid JSON array. */
export class ArrayCursor {
  base: usize = 0;
  limit: i32 = 0;
  pos: i32 = 0;
  elemStart: i32 = 0;
  elemEnd: i32 = 0;

  init(base: usize, start: i32, end: i32): void {
    this.base = base;
    this.limit = end;
    this.pos = start + 1; // past '['
  }

  next(): bool {
    const base = this.base;
    const p = nextItemStart(base, this.pos, this.limit);
    if (p < 0) return false;
    if (firstByte(base, p) == 0x5d) {
      this.pos = this.limit;
      return false;
    }
    this.elemStart = p;
    this.elemEnd = skipValue(base, p, this.limit);
    this.pos = this.elemEnd;
    return true;
  }
}

/** Walks the members of a valid JSON object. */
export class ObjectCursor {
  base: usize = 0;
  limit: i32 = 0;
  pos: i32 = 0;
  keyStart: i32 = 0;
  keyEnd: i32 = 0;
  keyEscaped: bool = false;
  valueStart: i32 = 0;
  valueEnd: i32 = 0;

  init(base: usize, start: i32, end: i32): void {
    this.base = base;
    this.limit = end;
    this.pos = start + 1; // past '{'
  }

  next(): bool {
    const base = this.base;
    let p = nextItemStart(base, this.pos, this.limit);
    if (p < 0) return false;
    if (firstByte(base, p) != 0x22) {
      this.pos = this.limit;
      return false;
    }
    const e = scanString(base, this.limit, p);
    this.keyEscaped = lastStringHadEscape;
    this.keyStart = p + 1;
    this.keyEnd = e - 1;
    p = skipWs(base, e, this.limit) + 1; // past ':'
    p = skipWs(base, p, this.limit);
    this.valueStart = p;
    this.valueEnd = skipValue(base, p, this.limit);
    this.pos = this.valueEnd;
    return true;
  }

  keyIs(key: string): bool {
    return contentEqualsAscii(this.base, this.keyStart, this.keyEnd, this.keyEscaped, key);
  }
}

// One cursor per nesting role, allocated once per VM.
const listCursor = new ArrayCursor();
const messageCursor = new ObjectCursor();
const partsCursor = new ArrayCursor();
const partCursor = new ObjectCursor();

// @ts-ignore: decorator
@inline
function firstByte(base: usize, p: i32): u32 {
  return <u32>load<u8>(base + <usize>p);
}

/** Appends the decoded string value at [start, end) (quotes included). */
export function appendString(base: usize, start: i32, end: i32, out: ByteBuffer): void {
  decodeStringUtf8(base, start + 1, end - 1, out);
}

/** Content: a string, or an array of parts with `text`. */
function appendContent(base: usize, start: i32, end: i32, out: ByteBuffer, maxBytes: i32): void {
  const c = firstByte(base, start);
  if (c == 0x22) {
    appendString(base, start, end, out);
    return;
  }
  if (c != 0x5b) return;
  partsCursor.init(base, start, end);
  while (out.length < maxBytes && partsCursor.next()) {
    const ps = partsCursor.elemStart;
    const pe = partsCursor.elemEnd;
    const pc = firstByte(base, ps);
    if (pc == 0x22) {
      appendString(base, ps, pe, out);
      continue;
    }
    if (pc != 0x7b) continue;
    let textStart = -1;
    let textEnd = -1;
    partCursor.init(base, ps, pe);
    while (partCursor.next()) {
      if (partCursor.keyIs("text")) {
        if (firstByte(base, partCursor.valueStart) == 0x22) {
          textStart = partCursor.valueStart;
          textEnd = partCursor.valueEnd;
        } else {
          textStart = -1;
        }
      }
    }
    if (textStart >= 0) appendString(base, textStart, textEnd, out);
  }
}

/** A message object: `<|role|>` + content. */
function appendMessage(base: usize, start: i32, end: i32, out: ByteBuffer, maxBytes: i32): void {
  let roleStart = -1;
  let roleEnd = -1;
  let contentStart = -1;
  let contentEnd = -1;
  messageCursor.init(base, start, end);
  while (messageCursor.next()) {
    if (messageCursor.keyIs("role")) {
      if (firstByte(base, messageCursor.valueStart) == 0x22) {
        roleStart = messageCursor.valueStart;
        roleEnd = messageCursor.valueEnd;
      } else {
        roleStart = -1;
      }
    } else if (messageCursor.keyIs("content")) {
      contentStart = messageCursor.valueStart;
      contentEnd = messageCursor.valueEnd;
    }
  }
  out.pushByte(0x3c); // <
  out.pushByte(0x7c); // |
  if (roleStart >= 0) appendString(base, roleStart, roleEnd, out);
  out.pushByte(0x7c);
  out.pushByte(0x3e); // >
  if (contentStart >= 0) appendContent(base, contentStart, contentEnd, out, maxBytes);
}

/** `prompt` or `input`: string, or array of strings / message objects / other values. */
function appendPromptLike(base: usize, start: i32, end: i32, out: ByteBuffer, maxBytes: i32, objectsAreMessages: bool): void {
  const c = firstByte(base, start);
  if (c == 0x22) {
    appendString(base, start, end, out);
    return;
  }
  if (c != 0x5b) {
    out.pushBytes(base + <usize>start, end - start);
    return;
  }
  listCursor.init(base, start, end);
  let first = true;
  while (out.length < maxBytes && listCursor.next()) {
    if (!first) out.pushByte(0x0a);
    first = false;
    const es = listCursor.elemStart;
    const ee = listCursor.elemEnd;
    const ec = firstByte(base, es);
    if (ec == 0x22) appendString(base, es, ee, out);
    else if (ec == 0x7b && objectsAreMessages) appendMessage(base, es, ee, out, maxBytes);
    else out.pushBytes(base + <usize>es, ee - es);
  }
}

export function promptText(base: usize, scan: BodyScan, out: ByteBuffer, maxBytes: i32 = i32.MAX_VALUE): bool {
  out.reset();
  if (!scan.ok) return false;
  if (scan.messagesStart >= 0) {
    const s = scan.messagesStart;
    const e = scan.messagesEnd;
    if (firstByte(base, s) == 0x5b) {
      listCursor.init(base, s, e);
      while (out.length < maxBytes && listCursor.next()) {
        if (firstByte(base, listCursor.elemStart) == 0x7b) {
          appendMessage(base, listCursor.elemStart, listCursor.elemEnd, out, maxBytes);
        }
      }
    }
  } else if (scan.promptStart >= 0) {
    appendPromptLike(base, scan.promptStart, scan.promptEnd, out, maxBytes, false);
  } else if (scan.inputStart >= 0) {
    appendPromptLike(base, scan.inputStart, scan.inputEnd, out, maxBytes, true);
  } else {
    return false;
  }
  out.truncate(maxBytes);
  return true;
}
