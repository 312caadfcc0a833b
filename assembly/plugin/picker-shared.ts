// Cross-worker state of one pool, kept in proxy-wasm shared data (the only memory Envoy shares
// between worker VMs). Every VM reads it into its PoolRuntime; large values are re-read only
// when a small version key's CAS moved, so an unchanged pool costs a few tiny reads per request.
// Every get/set crosses the VM boundary, so a write that follows a read of the same key in the
// same callback (inflight after syncInFlight, pj/seq after replayJournal; the caller says so)
// makes its first CAS attempt on that read: if another worker wrote in between, the CAS fails
// and the loop re-reads, exactly as if it had read afresh. Only for keys that existed (CAS 0
// would write unconditionally).
//
// Keys (under `wayroute.picker/<root id>/<pool>/`):
//   le/<endpoint>   one endpoint's latest load record (binary, pools/state.ts), written by
//                   the scraper per scrape result and by any worker per ORCA report
//   lseq, lj/<i>    load journal: counter (the load version) and a ring of LOAD_SLOTS entries
//                   (u64 sequence + the record), so a worker reads only what changed
//   health          consecutive failures and ejections, CAS read-modify-written by any worker
//   inflight        (keyHash, count) pairs, CAS-incremented on pick, decremented at stream end
//   lease           which VM scrapes, until when (taken over when it lapses)
//   feed, feedv     the last valid endpoint-feed body; version
//   pj/seq, pj/<i>  prefix-decision journal: sequence counter and a ring of JOURNAL_SLOTS records
import { Status, getSharedDataBytes, setSharedDataAt, setSharedDataBytes } from "../../proxy-wasm/index";
import { PoolRuntime } from "../pools/runtime";
import {
  applyHealth, encodeHealth, decodeInFlight, encodeInFlight, adjustInFlight, LoadRecord, decodeLoadRecord,
  applyLoadRecord, loadRecordSize, writeLoadRecord,
} from "../pools/state";
import { encodeJournalRecord, decodeJournalRecord, JournalRecord } from "../prefix/journal";
import { recordFailure, recordSuccess } from "../endpoints/health";
import { endpointAt } from "../scheduling/raw-access";
import { Endpoint } from "../endpoints/endpoint";

export const JOURNAL_SLOTS: i32 = 64;
/** Load journal entries kept; a VM further behind reads every endpoint's record instead. */
export const LOAD_SLOTS: i32 = 256;
const CAS_RETRIES: i32 = 16;

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false);
}

function readU64(b: ArrayBuffer): u64 {
  return b.byteLength == 8 ? load<u64>(changetype<usize>(b)) : 0;
}

export class PoolShared {
  prefix: string;
  // Keys built and UTF-8 encoded once: they are used on every request and update (no string
  // concatenation or encoding per call).
  private loadSeqKey: ArrayBuffer;
  private loadSlotKeys: ArrayBuffer[] = [];
  private endpointKeys: ArrayBuffer[] = [];
  private keysFor: Endpoint[] | null = null;
  private loadSeen: u64 = 0;
  private loadSeqCas: u32 = 0;
  private loadPrimed: bool = false;
  private loadRec: LoadRecord = new LoadRecord();
  /** Reused for every publish: u64 sequence + the record (grows to the largest record). */
  private entry: ArrayBuffer = new ArrayBuffer(128);
  /** Reused for 8-byte counter values. */
  private u64Buf: ArrayBuffer = new ArrayBuffer(8);
  /** Times this VM fell behind the load journal and read every endpoint's record. */
  loadResyncs: i32 = 0;
  private healthKey: ArrayBuffer;
  private inflightKey: ArrayBuffer;
  private seqKey: ArrayBuffer;
  private feedKey: ArrayBuffer;
  private feedvKey: ArrayBuffer;
  private journalKeys: ArrayBuffer[] = [];
  private healthCas: u32 = 0;
  private feedCas: u32 = 0;
  private journalSeen: u64 = 0;
  private journalPrimed: bool = false;
  private ifHashes: u64[] = [];
  private ifCounts: i32[] = [];
  /** ifHashes/ifCounts hold the decoded `inflight` value of CAS ifCas, read by syncInFlight. */
  private ifFresh: bool = false;
  private ifCas: u32 = 0;
  /** `pj/seq` as replayJournal last read it (value, CAS), for publishDecision's first attempt. */
  private seqFresh: bool = false;
  private seqCas: u32 = 0;
  private seqValue: u64 = 0;
  private record: JournalRecord = new JournalRecord();
  /** Shared-data values that did not decode (another version's format, torn write). */
  malformed: i32 = 0;
  /** Journal records skipped because they were overwritten before this VM read them. */
  journalLost: i32 = 0;

  constructor(rootId: string, public rt: PoolRuntime) {
    let prefix = "wayroute.picker/" + rootId + "/" + rt.config.name + "/";
    this.prefix = prefix;
    this.loadSeqKey = utf8(prefix + "lseq");
    this.healthKey = utf8(prefix + "health");
    this.inflightKey = utf8(prefix + "inflight");
    this.seqKey = utf8(prefix + "pj/seq");
    this.feedKey = utf8(prefix + "feed");
    this.feedvKey = utf8(prefix + "feedv");
    for (let i = 0; i < JOURNAL_SLOTS; i++) this.journalKeys.push(utf8(prefix + "pj/" + i.toString()));
    for (let i = 0; i < LOAD_SLOTS; i++) this.loadSlotKeys.push(utf8(prefix + "lj/" + i.toString()));
  }

  /** UTF-8 shared-data key of `name` under this pool's prefix (encode once, keep it). */
  keyBytes(name: string): ArrayBuffer {
    return utf8(this.prefix + name);
  }

  /** An 8-byte value `v` (the buffer is reused: write it before the next call). */
  private u64Value(v: u64): ArrayBuffer {
    store<u64>(changetype<usize>(this.u64Buf), v);
    return this.u64Buf;
  }

  private journalKey(seq: u64): ArrayBuffer {
    return unchecked(this.journalKeys[<i32>(seq % <u64>JOURNAL_SLOTS)]);
  }

  // ---- load ----------------------------------------------------------------------------

  /** Shared-data key of endpoint i's latest load record (built once per endpoint list). */
  private endpointKey(i: i32): ArrayBuffer {
    let eps = this.rt.endpoints;
    if (this.keysFor !== eps) {
      this.keysFor = eps;
      this.endpointKeys.length = 0;
      for (let k = 0; k < eps.length; k++) this.endpointKeys.push(utf8(this.prefix + "le/" + eps[k].key));
      this.loadPrimed = false; // a new endpoint list reads every endpoint's record once
    }
    return unchecked(this.endpointKeys[i]);
  }

  private loadSlotKey(seq: u64): ArrayBuffer {
    return unchecked(this.loadSlotKeys[<i32>(seq % <u64>LOAD_SLOTS)]);
  }

  /**
   * Brings this VM's load state up to date: one 8-byte read when nothing moved; else the
   * journal entries since the last look (each one endpoint's record). A VM that starts, sees a
   * new endpoint list, or fell more than LOAD_SLOTS entries behind reads every endpoint's record.
   */
  syncLoad(): void {
    let eps = this.rt.endpoints;
    if (eps.length > 0) this.endpointKey(0); // notices a new endpoint list
    let cur = getSharedDataBytes(this.loadSeqKey);
    if (cur == null) return;
    if (this.loadPrimed && cur.cas == this.loadSeqCas) return;
    this.loadSeqCas = cur.cas;
    let seq = readU64(cur.value);
    if (!this.loadPrimed || seq - this.loadSeen > <u64>LOAD_SLOTS || seq < this.loadSeen) {
      this.loadAll();
      this.loadSeen = seq;
      return;
    }
    let rec = this.loadRec;
    for (let s = this.loadSeen + 1; s <= seq; s++) {
      let slot = getSharedDataBytes(this.loadSlotKey(s));
      let at = slot != null && slot.value.byteLength >= 8 ? load<u64>(changetype<usize>(slot.value)) : 0;
      if (at < s) {
        // The writer moved the counter and has not written its entry yet: look again next time.
        this.loadSeen = s - 1;
        this.loadSeqCas = 0;
        return;
      }
      if (at > s) {
        // Overwritten before this VM read it: read every endpoint's latest record instead.
        this.loadResyncs++;
        this.loadAll();
        this.loadSeen = seq;
        return;
      }
      if (decodeLoadRecord(slot!.value, 8, rec)) applyLoadRecord(rec, eps, this.rt.byKey);
      else this.malformed++;
    }
    this.loadSeen = seq;
  }

  /** Reads every endpoint's latest record (start, endpoint list change, journal overrun). */
  private loadAll(): void {
    let eps = this.rt.endpoints;
    let rec = this.loadRec;
    for (let i = 0; i < eps.length; i++) {
      let v = getSharedDataBytes(this.endpointKey(i));
      if (v == null) continue;
      if (decodeLoadRecord(v.value, 0, rec)) applyLoadRecord(rec, eps, this.rt.byKey);
      else this.malformed++;
    }
    this.loadPrimed = true;
  }

  /**
   * Publishes endpoint i's load state (a scrape result or an ORCA report): its own record, then
   * one journal entry. O(1) in the pool size: no other endpoint is read or written.
   */
  publishEndpoint(i: i32): void {
    let e = this.rt.endpoints[i];
    let key = this.endpointKey(i);
    let size = loadRecordSize(e);
    // One encoding serves both values: the record alone, and the journal entry (sequence + record).
    if (this.entry.byteLength < 8 + size) this.entry = new ArrayBuffer(8 + size);
    let entry = changetype<usize>(this.entry);
    writeLoadRecord(entry + 8, e);
    // Written without a read: readers never apply a record older than what they have, so a
    // racing older write here can only delay a worker that re-reads everything (start, overrun)
    // until that endpoint's next update. One host call instead of a CAS loop per report.
    if (setSharedDataAt(key, entry + 8, <usize>size, 0) != Status.Ok) return;
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      let cur = getSharedDataBytes(this.loadSeqKey);
      let seq: u64 = cur != null ? readU64(cur.value) : 0;
      let st = setSharedDataBytes(this.loadSeqKey, this.u64Value(seq + 1), cur != null ? cur.cas : 0);
      if (st == Status.CasMismatch) continue;
      if (st != Status.Ok) return;
      store<u64>(entry, seq + 1);
      setSharedDataAt(this.loadSlotKey(seq + 1), entry, <usize>(8 + size), 0);
      if (this.loadSeen == seq) this.loadSeen = seq + 1; // own entry: already applied here
      return;
    }
  }

  // ---- health ----------------------------------------------------------------------------

  syncHealth(): void {
    let h = getSharedDataBytes(this.healthKey);
    if (h == null) {
      if (this.healthCas != 0) {
        applyHealth("", this.rt.endpoints, this.rt.byKey);
        this.healthCas = 0;
      }
      return;
    }
    if (h.cas == this.healthCas) return;
    this.healthCas = h.cas;
    applyHealth(String.UTF8.decode(h.value), this.rt.endpoints, this.rt.byKey);
  }

  /**
   * Applies a health event on endpoint `e` on top of the shared table and writes it back with
   * CAS, retrying on conflicts. Returns true when this event ejected the endpoint.
   */
  updateHealth(e: i32, failed: bool, nowMs: i64): bool {
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      let cur = getSharedDataBytes(this.healthKey);
      let cas: u32 = 0;
      applyHealth(cur != null ? String.UTF8.decode(cur.value) : "", this.rt.endpoints, this.rt.byKey);
      if (cur != null) cas = cur.cas;
      let ep = this.rt.endpoints[e];
      let failures = ep.consecutiveFailures;
      let until = ep.ejectedUntilMs;
      let ejections = ep.ejectionCount;
      let ejected = false;
      if (failed) {
        ejected = recordFailure(ep, this.rt.config.health, nowMs);
      } else {
        recordSuccess(ep, nowMs);
      }
      if (ep.consecutiveFailures == failures && ep.ejectedUntilMs == until && ep.ejectionCount == ejections) {
        this.healthCas = cas;
        return false;
      }
      let st = setSharedDataBytes(this.healthKey, String.UTF8.encode(encodeHealth(this.rt.endpoints), false), cas);
      if (st == Status.Ok) {
        let mine = getSharedDataBytes(this.healthKey);
        this.healthCas = mine != null ? mine.cas : 0;
        return ejected;
      }
      if (st != Status.CasMismatch) return false;
    }
    return false;
  }

  // ---- in-flight -------------------------------------------------------------------------

  /** Loads every endpoint's in-flight count (all workers) from shared data. */
  syncInFlight(): void {
    let eps = this.rt.endpoints;
    let n = eps.length;
    for (let i = 0; i < n; i++) endpointAt(eps, i).inFlight = 0; // every request: no calls
    this.ifFresh = false;
    let cur = getSharedDataBytes(this.inflightKey);
    if (cur == null) return;
    if (!decodeInFlight(cur.value, this.ifHashes, this.ifCounts)) {
      this.malformed++;
      return;
    }
    this.ifCas = cur.cas;
    this.ifFresh = true;
    let byHash = this.rt.byHash;
    for (let i = 0; i < this.ifHashes.length; i++) {
      let h = this.ifHashes[i];
      let e = byHash.get(h);
      if (e >= 0) eps[e].inFlight = this.ifCounts[i];
    }
  }

  /**
   * Adds `delta` to the shared in-flight count of endpoint key hash `h` (CAS loop).
   * `afterSync`: syncInFlight ran earlier in this callback; its read is the first attempt.
   */
  adjustInFlight(h: u64, delta: i32, afterSync: bool = false): bool {
    let reuse = afterSync && this.ifFresh;
    this.ifFresh = false;
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      let cas: u32 = 0;
      if (reuse) {
        reuse = false;
        cas = this.ifCas;
      } else {
        let cur = getSharedDataBytes(this.inflightKey);
        let ok = false;
        if (cur != null) {
          cas = cur.cas;
          ok = decodeInFlight(cur.value, this.ifHashes, this.ifCounts);
          if (!ok) this.malformed++;
        }
        if (!ok) {
          this.ifHashes.length = 0;
          this.ifCounts.length = 0;
        }
      }
      adjustInFlight(this.ifHashes, this.ifCounts, h, delta);
      let st = setSharedDataBytes(this.inflightKey, encodeInFlight(this.ifHashes, this.ifCounts), cas);
      if (st == Status.Ok) return true;
      if (st != Status.CasMismatch) return false;
    }
    return false;
  }

  // ---- prefix journal --------------------------------------------------------------------

  /**
   * Publishes one decision (endpoint key + block hashes) for the other workers.
   * `afterReplay`: replayJournal ran earlier in this callback; its read of the counter is the
   * first attempt.
   */
  publishDecision(key: string, hashes: StaticArray<u64>, n: i32, afterReplay: bool = false): void {
    let reuse = afterReplay && this.seqFresh;
    this.seqFresh = false;
    if (n <= 0) return;
    let seqKey = this.seqKey;
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      let seq: u64 = 0;
      let cas: u32 = 0;
      if (reuse) {
        reuse = false;
        seq = this.seqValue;
        cas = this.seqCas;
      } else {
        let cur = getSharedDataBytes(seqKey);
        if (cur != null) {
          seq = readU64(cur.value);
          cas = cur.cas;
        }
      }
      let next = seq + 1;
      let st = setSharedDataBytes(seqKey, this.u64Value(next), cas);
      if (st == Status.CasMismatch) continue;
      if (st != Status.Ok) return;
      setSharedDataBytes(this.journalKey(next), encodeJournalRecord(next, key, hashes, n), 0);
      if (this.journalSeen == seq) this.journalSeen = next; // own record: already learned
      return;
    }
  }

  /** Learns the decisions other workers published since this VM last looked. */
  replayJournal(): i32 {
    this.seqFresh = false;
    let cur = getSharedDataBytes(this.seqKey);
    if (cur == null) return 0;
    let seq = readU64(cur.value);
    this.seqValue = seq;
    this.seqCas = cur.cas;
    this.seqFresh = true;
    if (!this.journalPrimed) {
      // A VM that starts late still learns what is in the ring.
      this.journalPrimed = true;
      this.journalSeen = seq > <u64>JOURNAL_SLOTS ? seq - <u64>JOURNAL_SLOTS : 0;
    }
    if (seq <= this.journalSeen) return 0;
    let from = this.journalSeen + 1;
    if (seq - this.journalSeen > <u64>JOURNAL_SLOTS) {
      this.journalLost += <i32>(seq - this.journalSeen - <u64>JOURNAL_SLOTS);
      from = seq - <u64>JOURNAL_SLOTS + 1;
    }
    let learned = 0;
    for (let s = from; s <= seq; s++) {
      let slot = getSharedDataBytes(this.journalKey(s));
      if (slot == null) {
        // Writer bumped the sequence but has not written the record yet: retry next time.
        this.journalSeen = s - 1;
        return learned;
      }
      let rec = decodeJournalRecord(slot.value, this.record);
      if (!rec.ok) {
        this.malformed++;
        continue;
      }
      if (rec.seq < s) {
        this.journalSeen = s - 1;
        return learned;
      }
      if (rec.seq > s) {
        this.journalLost++;
        continue;
      }
      let e = this.rt.find(rec.address);
      if (e >= 0) {
        this.rt.learn(e, rec.hashes, rec.count);
        learned++;
      }
    }
    this.journalSeen = seq;
    return learned;
  }

  // ---- feed ------------------------------------------------------------------------------

  /** The shared feed body when it changed since last read, else null. */
  changedFeed(): string | null {
    let v = getSharedDataBytes(this.feedvKey);
    if (v == null || v.cas == this.feedCas) return null;
    this.feedCas = v.cas;
    let body = getSharedDataBytes(this.feedKey);
    return body == null ? null : String.UTF8.decode(body.value);
  }

  publishFeed(body: string): void {
    setSharedDataBytes(this.feedKey, String.UTF8.encode(body, false), 0);
    let ver = getSharedDataBytes(this.feedvKey);
    setSharedDataBytes(this.feedvKey, this.u64Value(ver != null ? readU64(ver.value) + 1 : 1), 0);
  }
}
