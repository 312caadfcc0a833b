// Prometheus text exposition (0.0.4) reader. Walks the scrape body sample by sample without
// building a document: the name and label set stay as ranges into the text and are compared or
// decoded only when the engine mapping asks. Malformed lines are skipped and counted, never trap.
import { parseStrictNumber } from "./number";

/** Bound on lines read per scrape: a pathological body cannot pin the VM. */
export const MAX_LINES: i32 = 200_000;

function isNameStart(c: i32): bool {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c == 58;
}

function isNameChar(c: i32): bool {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

function isLabelStart(c: i32): bool {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95;
}

function isLabelChar(c: i32): bool {
  return isLabelStart(c) || (c >= 48 && c <= 57);
}

function isBlank(c: i32): bool {
  return c == 32 || c == 9;
}

export class PromReader {
  private text: string;
  private pos: i32 = 0;
  private lines: i32 = 0;

  // Current sample (valid after next() returned true).
  nameStart: i32 = 0;
  nameEnd: i32 = 0;
  /** Range of the text between `{` and `}` (empty when the sample has no labels). */
  labelsStart: i32 = 0;
  labelsEnd: i32 = 0;
  value: f64 = 0;
  /** Sample timestamp in ms, or -1 when absent. */
  timestampMs: i64 = -1;

  /** Lines that were neither blank, comments, nor valid samples. */
  malformed: i32 = 0;
  /** Valid samples read so far. */
  samples: i32 = 0;

  constructor(text: string) {
    this.text = text;
  }

  /** Advances to the next valid sample. False at the end of the text. */
  next(): bool {
    let s = this.text;
    let n = s.length;
    while (this.pos < n) {
      if (++this.lines > MAX_LINES) {
        this.pos = n;
        this.malformed++;
        return false;
      }
      let start = this.pos;
      let end = s.indexOf("\n", start);
      if (end < 0) end = n;
      this.pos = end + 1;
      if (end > start && s.charCodeAt(end - 1) == 13) end--;
      let i = start;
      while (i < end && isBlank(s.charCodeAt(i))) i++;
      if (i == end || s.charCodeAt(i) == 35 /* # */) continue;
      if (this.parseLine(i, end)) {
        this.samples++;
        return true;
      }
      this.malformed++;
    }
    return false;
  }

  private parseLine(from: i32, end: i32): bool {
    let s = this.text;
    let i = from;
    if (!isNameStart(s.charCodeAt(i))) return false;
    while (i < end && isNameChar(s.charCodeAt(i))) i++;
    this.nameStart = from;
    this.nameEnd = i;
    this.labelsStart = i;
    this.labelsEnd = i;
    if (i < end && s.charCodeAt(i) == 123 /* { */) {
      let close = this.scanLabels(i + 1, end);
      if (close < 0) return false;
      this.labelsStart = i + 1;
      this.labelsEnd = close;
      i = close + 1;
    }
    if (i >= end || !isBlank(s.charCodeAt(i))) return false;
    while (i < end && isBlank(s.charCodeAt(i))) i++;
    let vStart = i;
    while (i < end && !isBlank(s.charCodeAt(i))) i++;
    let v = parseStrictNumber(s, vStart, i);
    if (isNaN(v)) {
      // NaN is a legal sample value; anything else that failed to parse is not.
      let word = s.substring(vStart, i);
      if (word != "NaN" && word != "+NaN" ) return false;
    }
    this.value = v;
    this.timestampMs = -1;
    while (i < end && isBlank(s.charCodeAt(i))) i++;
    if (i < end) {
      let tStart = i;
      let neg = false;
      if (s.charCodeAt(i) == 45) { neg = true; i++; }
      let t: i64 = 0;
      let digits = 0;
      while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
        if (digits < 18) t = t * 10 + <i64>(s.charCodeAt(i) - 48);
        digits++;
        i++;
      }
      while (i < end && isBlank(s.charCodeAt(i))) i++;
      if (digits == 0 || i != end || i == tStart) return false;
      this.timestampMs = neg ? -t : t;
    }
    return true;
  }

  /** Validates `name="value",...` from `i`; returns the index of the closing `}` or -1. */
  private scanLabels(i: i32, end: i32): i32 {
    let s = this.text;
    while (true) {
      while (i < end && isBlank(s.charCodeAt(i))) i++;
      if (i >= end) return -1;
      if (s.charCodeAt(i) == 125 /* } */) return i;
      if (!isLabelStart(s.charCodeAt(i))) return -1;
      while (i < end && isLabelChar(s.charCodeAt(i))) i++;
      while (i < end && isBlank(s.charCodeAt(i))) i++;
      if (i >= end || s.charCodeAt(i) != 61 /* = */) return -1;
      i++;
      while (i < end && isBlank(s.charCodeAt(i))) i++;
      if (i >= end || s.charCodeAt(i) != 34 /* " */) return -1;
      i++;
      while (i < end) {
        let c = s.charCodeAt(i);
        if (c == 92 /* \ */) { i += 2; continue; }
        if (c == 34) break;
        i++;
      }
      if (i >= end) return -1;
      i++; // closing quote
      while (i < end && isBlank(s.charCodeAt(i))) i++;
      if (i < end && s.charCodeAt(i) == 44 /* , */) { i++; continue; }
      if (i < end && s.charCodeAt(i) == 125) return i;
      return -1;
    }
    return -1;
  }

  /** True when the current sample's metric name equals `name` (no allocation). */
  nameIs(name: string): bool {
    let len = this.nameEnd - this.nameStart;
    if (len != name.length) return false;
    let s = this.text;
    for (let k = 0; k < len; k++) {
      if (s.charCodeAt(this.nameStart + k) != name.charCodeAt(k)) return false;
    }
    return true;
  }

  /** True when the current sample's metric name starts with `prefix`. */
  nameStartsWith(prefix: string): bool {
    let len = prefix.length;
    if (this.nameEnd - this.nameStart < len) return false;
    let s = this.text;
    for (let k = 0; k < len; k++) {
      if (s.charCodeAt(this.nameStart + k) != prefix.charCodeAt(k)) return false;
    }
    return true;
  }

  name(): string {
    return this.text.substring(this.nameStart, this.nameEnd);
  }

  /** Decoded value of label `key` on the current sample, or null when absent. */
  label(key: string): string | null {
    let s = this.text;
    let i = this.labelsStart;
    let end = this.labelsEnd;
    while (i < end) {
      while (i < end && (isBlank(s.charCodeAt(i)) || s.charCodeAt(i) == 44)) i++;
      let kStart = i;
      while (i < end && isLabelChar(s.charCodeAt(i))) i++;
      let kEnd = i;
      while (i < end && s.charCodeAt(i) != 34) i++;
      i++; // opening quote
      let vStart = i;
      let escaped = false;
      while (i < end) {
        let c = s.charCodeAt(i);
        if (c == 92) { escaped = true; i += 2; continue; }
        if (c == 34) break;
        i++;
      }
      let vEnd = i < end ? i : end;
      i++;
      if (kEnd - kStart == key.length && s.substring(kStart, kEnd) == key) {
        return escaped ? unescapeLabel(s, vStart, vEnd) : s.substring(vStart, vEnd);
      }
    }
    return null;
  }

  /** True when label `key` exists with exactly `value` (no allocation for unescaped values). */
  labelIs(key: string, value: string): bool {
    let v = this.label(key);
    return v != null && v == value;
  }
}

function unescapeLabel(s: string, from: i32, to: i32): string {
  let out = "";
  let i = from;
  while (i < to) {
    let c = s.charCodeAt(i);
    if (c == 92 && i + 1 < to) {
      let d = s.charCodeAt(i + 1);
      if (d == 110) out += "\n";
      else out += String.fromCharCode(d);
      i += 2;
    } else {
      out += String.fromCharCode(c);
      i++;
    }
  }
  return out;
}
