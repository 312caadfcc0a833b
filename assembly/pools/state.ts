// Encodings of the pool state workers share through proxy-wasm shared data (the only state
// Envoy shares between worker VMs). Pure: bytes/strings in and out; the picker stage owns keys,
// CAS loops and timing. Every decoder tolerates any input (a value written by another plugin
// version, a truncated write): bad records are skipped, never trapped on.
import { Endpoint } from "../endpoints/endpoint";
import { hashChars } from "../prefix/hash";
import { joinStrings } from "./text-join";

/** Stable 64-bit id of an endpoint key (address or backend), the same in every VM. */
export function keyHash(key: string): u64 {
  return hashChars(0x77726b, key, 0, key.length);
}

function clean(s: string): bool {
  return s.indexOf("\t") < 0 && s.indexOf("\n") < 0;
}

// ---- Load snapshot: written by the scraping worker, read by all ----------------------------
// One line per endpoint: key, waiting, running, kv, metricsAtMs, maxLora, active, waiting-loras.

export function encodeLoad(eps: Endpoint[]): string {
  // Written every scrape round and on every merged ORCA report, over every endpoint: the
  // pieces go into one list joined once, in linear time (see text-join.ts).
  let parts: string[] = [];
  let lines = 0;
  for (let i = 0; i < eps.length; i++) {
    let e = eps[i];
    if (e.metricsAtMs < 0) continue;
    let active = e.activeLoras.join(",");
    let waiting = e.waitingLoras.join(",");
    if (!clean(e.key) || !clean(active) || !clean(waiting)) continue;
    if (lines++ > 0) parts.push("\n");
    parts.push(e.key);
    parts.push("\t");
    parts.push(e.waiting.toString());
    parts.push("\t");
    parts.push(e.running.toString());
    parts.push("\t");
    parts.push(e.kvUsage.toString());
    parts.push("\t");
    parts.push(e.metricsAtMs.toString());
    parts.push("\t");
    parts.push(e.maxLora.toString());
    parts.push("\t");
    parts.push(active);
    parts.push("\t");
    parts.push(waiting);
  }
  return joinStrings(parts, "");
}

function toInt(s: string): i64 {
  return toIntAt(s, 0, s.length);
}

/** toInt of `s[from, to)`, read in place. */
function toIntAt(s: string, from: i32, to: i32): i64 {
  let n = to - from;
  if (n <= 0 || n > 18) return i64.MIN_VALUE;
  let p = changetype<usize>(s) + (<usize>from << 1);
  let neg = load<u16>(p) == 45;
  let x: i64 = 0;
  for (let i = neg ? 1 : 0; i < n; i++) {
    let c = <i32>load<u16>(p + (<usize>i << 1));
    if (c < 48 || c > 57) return i64.MIN_VALUE;
    x = x * 10 + <i64>(c - 48);
  }
  return neg ? -x : x;
}

/** splitList of `s[from, to)`; an empty list keeps `current` when that is empty too. */
function listAt(s: string, from: i32, to: i32, current: string[]): string[] {
  if (to <= from) return current.length == 0 ? current : [];
  return s.substring(from, to).split(",");
}

const LOAD_FIELDS = 8;

/**
 * Applies a load snapshot to the endpoints it names; returns how many lines applied.
 * Every worker runs this whenever the snapshot moved (each scrape round), over every endpoint:
 * lines and fields are found in one pass over the text and numbers read in place, so a line
 * costs its key and KV substrings instead of ~10 split strings (measured in the harness at
 * 1024 endpoints: ~1.9 ms -> ~0.75 ms per snapshot). Same acceptance as splitting on "\n" and "\t": exactly 8 fields.
 */
export function applyLoad(text: string, eps: Endpoint[], index: Map<string, i32>): i32 {
  let applied = 0;
  let len = text.length;
  let base = changetype<usize>(text);
  // Start of each field of the current line, plus the line end (a field ends one before the
  // next field's start).
  let starts = new StaticArray<i32>(LOAD_FIELDS + 1);
  let lineStart = 0;
  while (lineStart <= len) {
    let fields = 1;
    unchecked((starts[0] = lineStart));
    let end = lineStart;
    while (end < len) {
      let c = load<u16>(base + (<usize>end << 1));
      if (c == 10) break;
      if (c == 9) {
        if (fields < LOAD_FIELDS) unchecked((starts[fields] = end + 1));
        fields++;
      }
      end++;
    }
    let next = end + 1;
    if (fields == LOAD_FIELDS) {
      unchecked((starts[LOAD_FIELDS] = end + 1));
      if (applyLoadLine(text, starts, eps, index)) applied++;
    }
    lineStart = next;
  }
  return applied;
}

/** One line of applyLoad, fields at `starts` (field i is [starts[i], starts[i+1] - 1)). */
function applyLoadLine(text: string, starts: StaticArray<i32>, eps: Endpoint[], index: Map<string, i32>): bool {
  let key = text.substring(unchecked(starts[0]), unchecked(starts[1]) - 1);
  if (!index.has(key)) return false;
  let w = toIntAt(text, unchecked(starts[1]), unchecked(starts[2]) - 1);
  let r = toIntAt(text, unchecked(starts[2]), unchecked(starts[3]) - 1);
  let kv = parseFloat(text.substring(unchecked(starts[3]), unchecked(starts[4]) - 1));
  let at = toIntAt(text, unchecked(starts[4]), unchecked(starts[5]) - 1);
  let ml = toIntAt(text, unchecked(starts[5]), unchecked(starts[6]) - 1);
  if (w < 0 || r < 0 || !(kv >= 0 && kv <= 1) || at == i64.MIN_VALUE || ml < 0) return false;
  let e = eps[index.get(key)];
  // Never go back in time: a slower worker's older snapshot must not undo a newer report.
  if (at < e.metricsAtMs) return false;
  e.waiting = <i32>min(w, 1_000_000_000);
  e.running = <i32>min(r, 1_000_000_000);
  e.kvUsage = kv;
  e.metricsAtMs = at;
  e.maxLora = <i32>min(ml, 1_000_000);
  e.activeLoras = listAt(text, unchecked(starts[6]), unchecked(starts[7]) - 1, e.activeLoras);
  e.waitingLoras = listAt(text, unchecked(starts[7]), unchecked(starts[8]) - 1, e.waitingLoras);
  return true;
}

// ---- Health table: read-modify-written (CAS) by whichever worker sees a failure --------------
// One line per endpoint with any failure history: key, consecutiveFailures, ejectedUntilMs,
// ejectionCount.

export function encodeHealth(eps: Endpoint[]): string {
  let parts: string[] = [];
  for (let i = 0; i < eps.length; i++) {
    let e = eps[i];
    if (e.consecutiveFailures == 0 && e.ejectedUntilMs == 0 && e.ejectionCount == 0) continue;
    if (!clean(e.key)) continue;
    parts.push(e.key + "\t" + e.consecutiveFailures.toString() + "\t" + e.ejectedUntilMs.toString() + "\t" + e.ejectionCount.toString());
  }
  return joinStrings(parts, "\n");
}

/** Replaces every endpoint's health with the table's (absent: healthy). */
export function applyHealth(text: string, eps: Endpoint[], index: Map<string, i32>): void {
  for (let i = 0; i < eps.length; i++) {
    eps[i].consecutiveFailures = 0;
    eps[i].ejectedUntilMs = 0;
    eps[i].ejectionCount = 0;
  }
  if (text.length == 0) return;
  let lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let f = lines[i].split("\t");
    if (f.length != 4 || !index.has(f[0])) continue;
    let c = toInt(f[1]);
    let u = toInt(f[2]);
    let n = toInt(f[3]);
    if (c < 0 || u < 0 || n < 0) continue;
    let e = eps[index.get(f[0])];
    e.consecutiveFailures = <i32>min(c, 1_000_000);
    e.ejectedUntilMs = u;
    e.ejectionCount = <i32>min(n, 64);
  }
}

// ---- In-flight table: (u64 keyHash, i32 count) pairs with count > 0, CAS-updated -----------

/** Decodes into `hashes`/`counts` (cleared). Returns false for a malformed value. */
export function decodeInFlight(buf: ArrayBuffer, hashes: u64[], counts: i32[]): bool {
  hashes.length = 0;
  counts.length = 0;
  let n = buf.byteLength;
  if (n % 12 != 0) return false;
  let p = changetype<usize>(buf);
  for (let off = 0; off < n; off += 12) {
    let c = load<i32>(p + <usize>off + 8);
    if (c <= 0) continue;
    hashes.push(load<u64>(p + <usize>off));
    counts.push(c);
  }
  return true;
}

export function encodeInFlight(hashes: u64[], counts: i32[]): ArrayBuffer {
  let live = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) live++;
  let buf = new ArrayBuffer(live * 12);
  let p = changetype<usize>(buf);
  let off: usize = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] <= 0) continue;
    store<u64>(p + off, hashes[i]);
    store<i32>(p + off + 8, counts[i]);
    off += 12;
  }
  return buf;
}

/** Adds `delta` to the count of `hash` in place (adding the pair if absent; floors at 0). */
export function adjustInFlight(hashes: u64[], counts: i32[], hash: u64, delta: i32): void {
  for (let i = 0; i < hashes.length; i++) {
    if (hashes[i] == hash) {
      let c = counts[i] + delta;
      counts[i] = c < 0 ? 0 : c;
      return;
    }
  }
  if (delta > 0) {
    hashes.push(hash);
    counts.push(delta);
  }
}

// ---- Scraper lease ---------------------------------------------------------------------------

export class Lease {
  holder: u32 = 0;
  expiresAtMs: i64 = 0;
  /** When the holder last started a scrape round (so a new holder keeps the cadence). */
  lastRoundMs: i64 = 0;
}

export function encodeLease(l: Lease): ArrayBuffer {
  let buf = new ArrayBuffer(20);
  let p = changetype<usize>(buf);
  store<u32>(p, l.holder);
  store<i64>(p + 4, l.expiresAtMs);
  store<i64>(p + 12, l.lastRoundMs);
  return buf;
}

export function decodeLease(buf: ArrayBuffer, into: Lease): bool {
  if (buf.byteLength != 20) return false;
  let p = changetype<usize>(buf);
  into.holder = load<u32>(p);
  into.expiresAtMs = load<i64>(p + 4);
  into.lastRoundMs = load<i64>(p + 12);
  return true;
}
