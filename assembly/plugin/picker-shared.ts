// Cross-worker state of one pool, kept in proxy-wasm shared data (the only memory Envoy shares
// between worker VMs). Every VM reads it into its PoolRuntime; large values are re-read only
// when a small version key's CAS moved, so an unchanged pool costs a few tiny reads per request.
//
// Keys (under `wayroute.picker/<root id>/<pool>/`):
//   load, loadv     load snapshot (text) written by the scraping worker / ORCA merges; version
//   health          consecutive failures and ejections, CAS read-modify-written by any worker
//   inflight        (keyHash, count) pairs, CAS-incremented on pick, decremented at stream end
//   lease           which VM scrapes, until when (taken over when it lapses)
//   feed, feedv     the last valid endpoint-feed body; version
//   pj/seq, pj/<i>  prefix-decision journal: sequence counter and a ring of JOURNAL_SLOTS records
import { Status, getSharedData, setSharedData } from "../../proxy-wasm/index";
import { PoolRuntime } from "../pools/runtime";
import {
  applyLoad, encodeLoad, applyHealth, encodeHealth, decodeInFlight, encodeInFlight, adjustInFlight,
} from "../pools/state";
import { encodeJournalRecord, decodeJournalRecord, JournalRecord } from "../prefix/journal";
import { recordFailure, recordSuccess } from "../endpoints/health";
import { endpointAt } from "../scheduling/raw-access";

export const JOURNAL_SLOTS: i32 = 64;
const CAS_RETRIES: i32 = 16;

function u64Value(v: u64): ArrayBuffer {
  let b = new ArrayBuffer(8);
  store<u64>(changetype<usize>(b), v);
  return b;
}

function readU64(b: ArrayBuffer): u64 {
  return b.byteLength == 8 ? load<u64>(changetype<usize>(b)) : 0;
}

export class PoolShared {
  prefix: string;
  private loadCas: u32 = 0;
  private healthCas: u32 = 0;
  private feedCas: u32 = 0;
  private journalSeen: u64 = 0;
  private journalPrimed: bool = false;
  private ifHashes: u64[] = [];
  private ifCounts: i32[] = [];
  private record: JournalRecord = new JournalRecord();
  /** Shared-data values that did not decode (another version's format, torn write). */
  malformed: i32 = 0;
  /** Journal records skipped because they were overwritten before this VM read them. */
  journalLost: i32 = 0;

  constructor(rootId: string, public rt: PoolRuntime) {
    this.prefix = "wayroute.picker/" + rootId + "/" + rt.config.name + "/";
  }

  key(name: string): string {
    return this.prefix + name;
  }

  // ---- load ------------------------------------------------------------------------------

  /** Re-reads the load snapshot when its version moved. */
  syncLoad(): void {
    let v = getSharedData(this.key("loadv"));
    if (v == null || v.cas == this.loadCas) return;
    let snap = getSharedData(this.key("load"));
    this.loadCas = v.cas;
    if (snap == null) return;
    applyLoad(String.UTF8.decode(snap.value), this.rt.endpoints, this.rt.byKey);
  }

  /** Publishes this VM's view of load (scraper, or an ORCA report merged by CAS). */
  publishLoad(): void {
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      let cur = getSharedData(this.key("load"));
      let cas: u32 = 0;
      if (cur != null) {
        cas = cur.cas;
        // Fold in newer reports from other workers first (applyLoad never goes back in time).
        applyLoad(String.UTF8.decode(cur.value), this.rt.endpoints, this.rt.byKey);
      }
      let st = setSharedData(this.key("load"), String.UTF8.encode(encodeLoad(this.rt.endpoints), false), cas);
      if (st == Status.Ok) break;
      if (st != Status.CasMismatch) return;
    }
    let ver = getSharedData(this.key("loadv"));
    let next: u64 = ver != null ? readU64(ver.value) + 1 : 1;
    setSharedData(this.key("loadv"), u64Value(next), 0);
    let mine = getSharedData(this.key("loadv"));
    if (mine != null) this.loadCas = mine.cas;
  }

  // ---- health ----------------------------------------------------------------------------

  syncHealth(): void {
    let h = getSharedData(this.key("health"));
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
      let cur = getSharedData(this.key("health"));
      let cas: u32 = 0;
      applyHealth(cur != null ? String.UTF8.decode(cur.value) : "", this.rt.endpoints, this.rt.byKey);
      if (cur != null) cas = cur.cas;
      let ep = this.rt.endpoints[e];
      let before = ep.consecutiveFailures.toString() + "/" + ep.ejectedUntilMs.toString() + "/" + ep.ejectionCount.toString();
      let ejected = false;
      if (failed) {
        ejected = recordFailure(ep, this.rt.config.health, nowMs);
      } else {
        recordSuccess(ep, nowMs);
      }
      let after = ep.consecutiveFailures.toString() + "/" + ep.ejectedUntilMs.toString() + "/" + ep.ejectionCount.toString();
      if (before == after) {
        this.healthCas = cas;
        return false;
      }
      let st = setSharedData(this.key("health"), String.UTF8.encode(encodeHealth(this.rt.endpoints), false), cas);
      if (st == Status.Ok) {
        let mine = getSharedData(this.key("health"));
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
    let cur = getSharedData(this.key("inflight"));
    if (cur == null) return;
    if (!decodeInFlight(cur.value, this.ifHashes, this.ifCounts)) {
      this.malformed++;
      return;
    }
    let byHash = this.rt.byHash;
    for (let i = 0; i < this.ifHashes.length; i++) {
      let h = this.ifHashes[i];
      if (byHash.has(h)) eps[byHash.get(h)].inFlight = this.ifCounts[i];
    }
  }

  /** Adds `delta` to the shared in-flight count of endpoint key hash `h` (CAS loop). */
  adjustInFlight(h: u64, delta: i32): bool {
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      let cur = getSharedData(this.key("inflight"));
      let cas: u32 = 0;
      if (cur != null) {
        cas = cur.cas;
        if (!decodeInFlight(cur.value, this.ifHashes, this.ifCounts)) {
          this.malformed++;
          this.ifHashes.length = 0;
          this.ifCounts.length = 0;
        }
      } else {
        this.ifHashes.length = 0;
        this.ifCounts.length = 0;
      }
      adjustInFlight(this.ifHashes, this.ifCounts, h, delta);
      let st = setSharedData(this.key("inflight"), encodeInFlight(this.ifHashes, this.ifCounts), cas);
      if (st == Status.Ok) return true;
      if (st != Status.CasMismatch) return false;
    }
    return false;
  }

  // ---- prefix journal --------------------------------------------------------------------

  /** Publishes one decision (endpoint key + block hashes) for the other workers. */
  publishDecision(key: string, hashes: StaticArray<u64>, n: i32): void {
    if (n <= 0) return;
    let seqKey = this.key("pj/seq");
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      let cur = getSharedData(seqKey);
      let seq: u64 = cur != null ? readU64(cur.value) : 0;
      let next = seq + 1;
      let st = setSharedData(seqKey, u64Value(next), cur != null ? cur.cas : 0);
      if (st == Status.CasMismatch) continue;
      if (st != Status.Ok) return;
      setSharedData(this.key("pj/" + (<i32>(next % <u64>JOURNAL_SLOTS)).toString()), encodeJournalRecord(next, key, hashes, n), 0);
      if (this.journalSeen == seq) this.journalSeen = next; // own record: already learned
      return;
    }
  }

  /** Learns the decisions other workers published since this VM last looked. */
  replayJournal(): i32 {
    let cur = getSharedData(this.key("pj/seq"));
    if (cur == null) return 0;
    let seq = readU64(cur.value);
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
      let slot = getSharedData(this.key("pj/" + (<i32>(s % <u64>JOURNAL_SLOTS)).toString()));
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
    let v = getSharedData(this.key("feedv"));
    if (v == null || v.cas == this.feedCas) return null;
    this.feedCas = v.cas;
    let body = getSharedData(this.key("feed"));
    return body == null ? null : String.UTF8.decode(body.value);
  }

  publishFeed(body: string): void {
    setSharedData(this.key("feed"), String.UTF8.encode(body, false), 0);
    let ver = getSharedData(this.key("feedv"));
    setSharedData(this.key("feedv"), u64Value(ver != null ? readU64(ver.value) + 1 : 1), 0);
  }
}
