// Encodings of the pool state workers share through proxy-wasm shared data (the only state
// Envoy shares between worker VMs). Pure: bytes/strings in and out; the picker stage owns keys,
// CAS loops and timing. Every decoder tolerates any input (a value written by another plugin
// version, a truncated write): bad records are skipped, never trapped on.
import { Endpoint, UNKNOWN_COUNT, UNKNOWN_FRACTION } from "../endpoints/endpoint";
import { hashChars } from "../prefix/hash";
import { joinStrings } from "./text-join";
import { NO_ADAPTERS } from "../metrics/engines";

/** Stable 64-bit id of an endpoint key (address or backend), the same in every VM. */
export function keyHash(key: string): u64 {
  return hashChars(0x77726b, key, 0, key.length);
}

function clean(s: string): bool {
  return s.indexOf("\t") < 0 && s.indexOf("\n") < 0;
}

// ---- Load records: one endpoint's load state, binary, written per scrape result / ORCA report --
// Little-endian:
//   u32 LOAD_MAGIC | i64 metricsAtMs | i32 waiting | i32 running | f64 kvUsage | i32 maxLora
//   | str key | u32 nActive, nActive x str | u32 nWaiting, nWaiting x str
// where str is u32 byte length + UTF-8 bytes. Adapter names are data (any byte, from label
// values): length-prefixed, never delimited, so no name can break a record or another endpoint's.
// Unknown values travel as UNKNOWN_COUNT / UNKNOWN_FRACTION. A record is decoded whole and
// validated before anything is applied.

export const LOAD_MAGIC: u32 = 0x314c5257; // "WRL1"
const FIXED: i32 = 4 + 8 + 4 + 4 + 8 + 4;
/** Bound on adapters per list and bytes per string a decoder accepts (a hostile writer). */
const MAX_LIST: u32 = 4096;
const MAX_STR: u32 = 1 << 20;

function strBytes(s: string): i32 {
  return 4 + <i32>String.UTF8.byteLength(s, false);
}

function putStr(p: usize, s: string): usize {
  let n = String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p + 4, false);
  store<u32>(p, <u32>n);
  return p + 4 + n;
}

/** Byte size of e's load record. */
export function loadRecordSize(e: Endpoint): i32 {
  let n = FIXED + strBytes(e.key) + 8;
  for (let i = 0; i < e.activeLoras.length; i++) n += strBytes(unchecked(e.activeLoras[i]));
  for (let i = 0; i < e.waitingLoras.length; i++) n += strBytes(unchecked(e.waitingLoras[i]));
  return n;
}

/** Writes e's load record at `p` (loadRecordSize(e) bytes); returns the end. */
export function writeLoadRecord(p: usize, e: Endpoint): usize {
  store<u32>(p, LOAD_MAGIC);
  store<i64>(p + 4, e.metricsAtMs);
  store<i32>(p + 12, e.waiting);
  store<i32>(p + 16, e.running);
  store<f64>(p + 20, e.kvUsage);
  store<i32>(p + 28, e.maxLora);
  p = putStr(p + <usize>FIXED, e.key);
  store<u32>(p, <u32>e.activeLoras.length);
  p += 4;
  for (let i = 0; i < e.activeLoras.length; i++) p = putStr(p, unchecked(e.activeLoras[i]));
  store<u32>(p, <u32>e.waitingLoras.length);
  p += 4;
  for (let i = 0; i < e.waitingLoras.length; i++) p = putStr(p, unchecked(e.waitingLoras[i]));
  return p;
}

/** e's load record as a value of its own. */
export function encodeLoadRecord(e: Endpoint): ArrayBuffer {
  let buf = new ArrayBuffer(loadRecordSize(e));
  writeLoadRecord(changetype<usize>(buf), e);
  return buf;
}

/** A decoded load record. */
export class LoadRecord {
  key: string = "";
  metricsAtMs: i64 = 0;
  waiting: i32 = 0;
  running: i32 = 0;
  kvUsage: f64 = 0;
  maxLora: i32 = 0;
  active: string[] = [];
  waitingLoras: string[] = [];
}

class Cursor {
  constructor(public p: usize, public end: usize) {}
  ok: bool = true;

  u32(): u32 {
    if (this.p + 4 > this.end) { this.ok = false; return 0; }
    let v = load<u32>(this.p);
    this.p += 4;
    return v;
  }

  str(): string {
    let n = this.u32();
    if (!this.ok || n > MAX_STR || this.p + <usize>n > this.end) { this.ok = false; return ""; }
    let s = String.UTF8.decodeUnsafe(this.p, n);
    this.p += n;
    return s;
  }

  list(): string[] {
    let n = this.u32();
    if (!this.ok || n > MAX_LIST) { this.ok = false; return NO_ADAPTERS; }
    // Most records carry no adapters: the shared empty list, no allocation.
    if (n == 0) return NO_ADAPTERS;
    let out: string[] = [];
    for (let i: u32 = 0; i < n && this.ok; i++) out.push(this.str());
    return out;
  }
}

/**
 * Decodes the record in `[from, from + len)` of `buf` into `into`. False (nothing usable) for
 * anything malformed: wrong magic, out-of-range values, lengths past the end, trailing bytes.
 */
export function decodeLoadRecord(buf: ArrayBuffer, from: i32, into: LoadRecord): bool {
  let len = buf.byteLength - from;
  if (from < 0 || len < FIXED) return false;
  let p = changetype<usize>(buf) + <usize>from;
  if (load<u32>(p) != LOAD_MAGIC) return false;
  let at = load<i64>(p + 4);
  let w = load<i32>(p + 12);
  let r = load<i32>(p + 16);
  let kv = load<f64>(p + 20);
  let ml = load<i32>(p + 28);
  if (w < UNKNOWN_COUNT || r < UNKNOWN_COUNT || ml < UNKNOWN_COUNT) return false;
  if (!(kv == UNKNOWN_FRACTION || (kv >= 0 && kv <= 1))) return false;
  let c = new Cursor(p + <usize>FIXED, p + <usize>len);
  let key = c.str();
  let active = c.list();
  let waiting = c.list();
  if (!c.ok || c.p != c.end) return false;
  into.key = key;
  into.metricsAtMs = at;
  into.waiting = w;
  into.running = r;
  into.kvUsage = kv;
  into.maxLora = ml;
  into.active = active;
  into.waitingLoras = waiting;
  return true;
}

/**
 * Applies a decoded record to the endpoint it names; false when the endpoint is not in the
 * pool or the record is older than what this VM has (never go back in time: a slower worker's
 * older view must not undo a newer report).
 */
export function applyLoadRecord(rec: LoadRecord, eps: Endpoint[], index: Map<string, i32>): bool {
  if (!index.has(rec.key)) return false;
  let e = eps[index.get(rec.key)];
  if (rec.metricsAtMs < e.metricsAtMs) return false;
  e.metricsAtMs = rec.metricsAtMs;
  e.waiting = rec.waiting;
  e.running = rec.running;
  e.kvUsage = rec.kvUsage;
  e.maxLora = rec.maxLora;
  e.activeLoras = rec.active;
  e.waitingLoras = rec.waitingLoras;
  return true;
}

function toInt(s: string): i64 {
  let n = s.length;
  if (n <= 0 || n > 18) return i64.MIN_VALUE;
  let neg = s.charCodeAt(0) == 45;
  let x: i64 = 0;
  for (let i = neg ? 1 : 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 48 || c > 57) return i64.MIN_VALUE;
    x = x * 10 + <i64>(c - 48);
  }
  return neg ? -x : x;
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
