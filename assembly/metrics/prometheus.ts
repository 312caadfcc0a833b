// Prometheus text exposition (0.0.4) reader over the scrape body's UTF-8 bytes, in place: no
// decode of the page, no document. A scrape page is mostly histogram buckets and process metrics
// the scheduler never reads, so a line whose name is not wanted is recognised by its first bytes
// and skipped to the next newline (found 8 bytes at a time) without being validated or decoded.
// Wanted lines are parsed strictly; malformed ones are skipped and counted, never trap.
//
// No partial samples: only newline-terminated lines are read. A page that does not end in a
// newline has a cut last line, which is never taken (`cutLine` tells the caller).
import { isStrictNumberBytes, parseStrictNumberBytes } from "./number";

/** Bound on lines read per scrape: a pathological body cannot pin the VM. */
export const MAX_LINES: i32 = 1_000_000;

// @ts-ignore: decorator
@inline function isNameStart(c: i32): bool {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c == 58;
}

// @ts-ignore: decorator
@inline function isNameChar(c: i32): bool {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

// @ts-ignore: decorator
@inline function isLabelChar(c: i32): bool {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || (c >= 48 && c <= 57);
}

// @ts-ignore: decorator
@inline function isBlank(c: i32): bool {
  return c == 32 || c == 9;
}

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;
const NEWLINES: u64 = 0x0a0a0a0a0a0a0a0a;

/**
 * Index of the first `\n` in `[from, to)` of the bytes at `base`, or -1. Eight bytes per step
 * (SWAR zero-byte test on `word ^ 0x0a..`; the lowest flagged byte is always a true match).
 */
export function findNewline(base: usize, from: i32, to: i32): i32 {
  let i = from;
  while (i + 8 <= to) {
    let x = load<u64>(base + <usize>i) ^ NEWLINES;
    let t = (x - ONES) & ~x & HIGHS;
    if (t != 0) return i + <i32>(ctz(t) >> 3);
    i += 8;
  }
  while (i < to) {
    if (load<u8>(base + <usize>i) == 10) return i;
    i++;
  }
  return -1;
}

/**
 * A set of metric names the reader returns; every other line is skipped unread. The per-line
 * tests read the per-name tables in place (`load` from `dataStart`) and the count from a field:
 * the release build is optimised for size and leaves `Array#length` / `Array#__uget` out of
 * line, which made them most of the cost of skipping a page (see scheduling/raw-access.ts).
 */
export class NameSet {
  names: string[] = [];
  private count: i32 = 0;
  /** Per name: its first byte (the cheap first test of a line). */
  private firsts: i32[] = [];
  /** Bit i set: some wanted name starts with byte i (for bytes below 128). */
  private startMask: StaticArray<u32> = new StaticArray<u32>(4);
  /** Per name: its first (up to) 8 bytes as a little-endian word, and the mask of those bytes. */
  private heads: u64[] = [];
  private headMasks: u64[] = [];
  /** Per name: its length (names are ASCII: bytes = UTF-16 code units). */
  private lens: i32[] = [];

  add(name: string): i32 {
    let id = this.names.indexOf(name);
    if (id >= 0) return id;
    this.names.push(name);
    let c = name.charCodeAt(0);
    this.firsts.push(c);
    if (c < 128) unchecked((this.startMask[c >> 5] |= 1 << (c & 31)));
    let head: u64 = 0;
    let mask: u64 = 0;
    for (let k = 0; k < 8 && k < name.length; k++) {
      head |= (<u64>(name.charCodeAt(k) & 0xff)) << (<u64>k * 8);
      mask |= (<u64>0xff) << (<u64>k * 8);
    }
    this.heads.push(head);
    this.headMasks.push(mask);
    this.lens.push(name.length);
    this.count = this.names.length;
    return this.count - 1;
  }

  /** Length of name `id` (a valid id). */
  // @ts-ignore: decorator
  @inline
  lengthOf(id: i32): i32 {
    return load<i32>(this.lens.dataStart + (<usize>id << 2));
  }

  /**
   * Id of the wanted name a line starts with, followed by `{`, a blank or the end; -1 if none.
   * The first 8 bytes are compared as one word per name, so the typical unwanted line (another
   * metric of the same engine) costs a load and a few compares. The line is `[from, end)` and
   * at least 8 bytes of the buffer follow `from`.
   */
  matchLine(base: usize, from: i32, end: i32): i32 {
    let w = load<u64>(base + <usize>from);
    let heads = this.heads.dataStart;
    let masks = this.headMasks.dataStart;
    let count = this.count;
    for (let k = 0; k < count; k++) {
      let off = <usize>k << 3;
      if ((w & load<u64>(masks + off)) != load<u64>(heads + off)) continue;
      let len = this.lengthOf(k);
      if (from + len > end) continue;
      let n = load<usize>(this.names.dataStart + (<usize>k << alignof<usize>()));
      let same = true;
      for (let j = 8; j < len; j++) {
        if (<i32>load<u8>(base + <usize>(from + j)) != <i32>load<u16>(n + (<usize>j << 1))) { same = false; break; }
      }
      if (!same) continue;
      if (from + len == end) return k;
      let t = <i32>load<u8>(base + <usize>(from + len));
      if (t == 123 || t == 32 || t == 9) return k;
    }
    return -1;
  }

  // @ts-ignore: decorator
  @inline
  mayStart(c: i32): bool {
    return c < 128 && (load<u32>(changetype<usize>(this.startMask) + (<usize>(c >> 5) << 2)) & (1 << (c & 31))) != 0;
  }

  /** Id of the name equal to bytes `[from, to)`, or -1. */
  find(base: usize, from: i32, to: i32): i32 {
    let len = to - from;
    let first = <i32>load<u8>(base + <usize>from);
    for (let k = 0; k < this.names.length; k++) {
      if (unchecked(this.firsts[k]) != first) continue;
      let n = unchecked(this.names[k]);
      if (n.length != len) continue;
      let same = true;
      for (let j = 1; j < len; j++) {
        if (<i32>load<u8>(base + <usize>(from + j)) != <i32>n.charCodeAt(j)) { same = false; break; }
      }
      if (same) return k;
    }
    return -1;
  }
}

export class PromReader {
  private base: usize;
  private len: i32;
  private pos: i32 = 0;
  private lines: i32 = 0;
  private wanted: NameSet | null;
  /** Keeps a reader made from a string's bytes alive (see ofText). */
  private owned: ArrayBuffer | null = null;

  // Current sample (valid after next() returned true); offsets into the bytes.
  /** Id of the sample's name in the wanted set (-1 when reading every name). */
  nameId: i32 = -1;
  nameStart: i32 = 0;
  nameEnd: i32 = 0;
  /** Range between `{` and `}` (empty when the sample has no labels). */
  labelsStart: i32 = 0;
  labelsEnd: i32 = 0;
  value: f64 = 0;
  /** Sample timestamp in ms, or -1 when absent. */
  timestampMs: i64 = -1;

  /** Wanted lines that were not valid samples (unwanted lines are not looked at). */
  malformed: i32 = 0;
  /** Valid samples returned so far. */
  samples: i32 = 0;
  /** The page did not end in a newline: its last line was cut and was not read. */
  cutLine: bool = false;

  /** Reads `len` bytes at `base` (kept alive by the caller); only `wanted` names when given. */
  constructor(base: usize, len: i32, wanted: NameSet | null = null) {
    this.base = base;
    this.len = len;
    this.wanted = wanted;
  }

  /** Starts over on other bytes (a reader is reused for every scrape: no allocation). */
  reset(base: usize, len: i32, wanted: NameSet | null): void {
    this.base = base;
    this.len = len;
    this.wanted = wanted;
    this.pos = 0;
    this.lines = 0;
    this.owned = null;
    this.nameId = -1;
    this.malformed = 0;
    this.samples = 0;
    this.cutLine = false;
  }

  /** A reader over the UTF-8 bytes of `text` (tests, configuration-time use). */
  static ofText(text: string, wanted: NameSet | null = null): PromReader {
    let buf = String.UTF8.encode(text, false);
    let r = new PromReader(changetype<usize>(buf), buf.byteLength, wanted);
    r.owned = buf;
    return r;
  }

  /** Advances to the next valid (wanted) sample. False at the end of the bytes. */
  next(): bool {
    let base = this.base;
    let n = this.len;
    let wanted = this.wanted;
    while (this.pos < n) {
      if (++this.lines > MAX_LINES) {
        this.pos = n;
        this.malformed++;
        return false;
      }
      let start = this.pos;
      let nl = findNewline(base, start, n);
      if (nl < 0) {
        this.cutLine = true;
        this.pos = n;
        return false;
      }
      this.pos = nl + 1;
      let end = nl;
      let i = start;
      let c = <i32>load<u8>(base + <usize>i);
      // First-bytes test: comments, blank lines and names no wanted name starts with are
      // skipped unread; so is a line whose first 8 bytes match no wanted name.
      if (wanted != null) {
        if (!wanted.mayStart(c)) {
          if (c != 32 && c != 9) continue;
        } else if (start + 8 <= n) {
          let id = wanted.matchLine(base, start, end > start && load<u8>(base + <usize>(end - 1)) == 13 ? end - 1 : end);
          if (id < 0) continue;
          let nameEnd = start + wanted.lengthOf(id);
          if (end > start && load<u8>(base + <usize>(end - 1)) == 13) end--;
          if (this.parseRest(start, nameEnd, end)) {
            this.nameId = id;
            this.samples++;
            return true;
          }
          this.malformed++;
          continue;
        }
      } else if (c == 35 /* # */ || c == 10 || c == 13) {
        continue;
      }
      if (end > start && load<u8>(base + <usize>(end - 1)) == 13) end--;
      while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
      if (i == end) continue;
      c = <i32>load<u8>(base + <usize>i);
      if (c == 35) continue;
      if (!isNameStart(c)) { this.malformed++; continue; }
      let nameStart = i;
      while (i < end && isNameChar(<i32>load<u8>(base + <usize>i))) i++;
      let id = -1;
      if (wanted != null) {
        id = wanted.find(base, nameStart, i);
        if (id < 0) continue;
      }
      if (this.parseRest(nameStart, i, end)) {
        this.nameId = id;
        this.samples++;
        return true;
      }
      this.malformed++;
    }
    return false;
  }

  /** Labels, value and timestamp after the name `[nameStart, i)`, up to `end`. */
  private parseRest(nameStart: i32, i: i32, end: i32): bool {
    let base = this.base;
    this.nameStart = nameStart;
    this.nameEnd = i;
    this.labelsStart = i;
    this.labelsEnd = i;
    if (i < end && load<u8>(base + <usize>i) == 123 /* { */) {
      let close = this.scanLabels(i + 1, end);
      if (close < 0) return false;
      this.labelsStart = i + 1;
      this.labelsEnd = close;
      i = close + 1;
    }
    if (i >= end || !isBlank(<i32>load<u8>(base + <usize>i))) return false;
    while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
    let vStart = i;
    while (i < end && !isBlank(<i32>load<u8>(base + <usize>i))) i++;
    if (i == vStart) return false;
    if (!isStrictNumberBytes(base, vStart, i)) return false; // `12abc`, `1,5`: not a value
    this.value = parseStrictNumberBytes(base, vStart, i);
    this.timestampMs = -1;
    while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
    if (i < end) {
      let neg = false;
      if (load<u8>(base + <usize>i) == 45) { neg = true; i++; }
      let t: i64 = 0;
      let digits = 0;
      while (i < end) {
        let d = <i32>load<u8>(base + <usize>i);
        if (d < 48 || d > 57) break;
        if (digits < 18) t = t * 10 + <i64>(d - 48);
        digits++;
        i++;
      }
      while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
      if (digits == 0 || i != end) return false;
      this.timestampMs = neg ? -t : t;
    }
    return true;
  }

  /** Validates `name="value",...` from `i`; returns the index of the closing `}` or -1. */
  private scanLabels(i: i32, end: i32): i32 {
    let base = this.base;
    while (true) {
      while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
      if (i >= end) return -1;
      let c = <i32>load<u8>(base + <usize>i);
      if (c == 125 /* } */) return i;
      if (!isLabelChar(c) || (c >= 48 && c <= 57)) return -1;
      while (i < end && isLabelChar(<i32>load<u8>(base + <usize>i))) i++;
      while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
      if (i >= end || load<u8>(base + <usize>i) != 61 /* = */) return -1;
      i++;
      while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
      if (i >= end || load<u8>(base + <usize>i) != 34 /* " */) return -1;
      i++;
      // Inside quotes `}`, `,` and `=` are text; `\` escapes the next byte.
      while (i < end) {
        let q = <i32>load<u8>(base + <usize>i);
        if (q == 92 /* \ */) { i += 2; continue; }
        if (q == 34) break;
        i++;
      }
      if (i >= end) return -1;
      i++; // closing quote
      while (i < end && isBlank(<i32>load<u8>(base + <usize>i))) i++;
      if (i < end && load<u8>(base + <usize>i) == 44 /* , */) { i++; continue; }
      if (i < end && load<u8>(base + <usize>i) == 125) return i;
      return -1;
    }
    return -1;
  }

  /** True when the current sample's metric name equals `name` (ASCII; no allocation). */
  nameIs(name: string): bool {
    let len = this.nameEnd - this.nameStart;
    if (len != name.length) return false;
    for (let k = 0; k < len; k++) {
      if (<i32>load<u8>(this.base + <usize>(this.nameStart + k)) != <i32>name.charCodeAt(k)) return false;
    }
    return true;
  }

  name(): string {
    return String.UTF8.decodeUnsafe(this.base + <usize>this.nameStart, <usize>(this.nameEnd - this.nameStart));
  }

  /**
   * Decoded value of label `key` on the current sample, or null when absent. Escapes `\"`,
   * `\\` and `\n` are undone; any other backslash stays as written (it is data).
   */
  label(key: string): string | null {
    let base = this.base;
    let i = this.labelsStart;
    let end = this.labelsEnd;
    while (i < end) {
      while (i < end && (isBlank(<i32>load<u8>(base + <usize>i)) || load<u8>(base + <usize>i) == 44)) i++;
      let kStart = i;
      while (i < end && isLabelChar(<i32>load<u8>(base + <usize>i))) i++;
      let kEnd = i;
      while (i < end && load<u8>(base + <usize>i) != 34) i++;
      i++; // opening quote
      let vStart = i;
      let escaped = false;
      while (i < end) {
        let c = <i32>load<u8>(base + <usize>i);
        if (c == 92) { escaped = true; i += 2; continue; }
        if (c == 34) break;
        i++;
      }
      let vEnd = i < end ? i : end;
      i++;
      if (kEnd - kStart == key.length && bytesEqual(base, kStart, key)) {
        return escaped ? unescapeLabel(base, vStart, vEnd) : String.UTF8.decodeUnsafe(base + <usize>vStart, <usize>(vEnd - vStart));
      }
    }
    return null;
  }

  /** True when label `key` exists with exactly `value`. */
  labelIs(key: string, value: string): bool {
    let v = this.label(key);
    return v != null && v == value;
  }
}

function bytesEqual(base: usize, from: i32, ascii: string): bool {
  for (let k = 0; k < ascii.length; k++) {
    if (<i32>load<u8>(base + <usize>(from + k)) != <i32>ascii.charCodeAt(k)) return false;
  }
  return true;
}

function unescapeLabel(base: usize, from: i32, to: i32): string {
  let out = new ArrayBuffer(to - from);
  let o = changetype<usize>(out);
  let n: usize = 0;
  let i = from;
  while (i < to) {
    let c = load<u8>(base + <usize>i);
    if (c == 92 && i + 1 < to) {
      let d = load<u8>(base + <usize>(i + 1));
      if (d == 110) { store<u8>(o + n++, 10); i += 2; continue; }
      if (d == 34 || d == 92) { store<u8>(o + n++, d); i += 2; continue; }
    }
    store<u8>(o + n++, c);
    i++;
  }
  return String.UTF8.decodeUnsafe(o, n);
}
