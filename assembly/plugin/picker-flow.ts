// Flow control of one pool on one worker: the queue of streams paused at their request headers
// (assembly/flow), the pool's dispatch capacity shared by every worker, and the flow stats.
//
// Envoy facts this relies on (Envoy context.cc, proxy-wasm-cpp-host exports.cc):
// - a header StopIteration holds the stream (StopAllIterationAndWatermark under ABI 0.2.x):
//   Envoy keeps the request headers (still writable) and buffers the body up to its watermarks;
// - proxy_continue_stream / proxy_send_local_response act on the effective context, so another
//   stream's callback or the root tick can resume or answer a paused stream after
//   proxy_set_effective_context(its id); both take effect when the running VM call returns;
// - the effective context lasts until the callback returns, so a drain sets it back itself;
// - on_log runs for every stream end, a client that left while paused included.
//
// Capacity across workers: with an in-flight limit, one shared-data counter per pool holds the
// requests dispatched and not yet ended, changed only by compare-and-swap, so two workers never
// both take the last slot. The saturation detector alone reads metrics that move once per
// scrape, so a drain then dispatches at most one request per endpoint (see docs/picker.md).
//
// Fairness across workers (with a flowHeader): one shared table per band counts each flow
// bucket's waiting and in-flight requests on every worker (assembly/flow/fair.ts); a worker
// gives a free slot only to a flow that no waiting flow trails, and otherwise leaves it to the
// worker holding that flow (its tick takes it). A worker that has yielded for ten ticks (at least
// 200 ms) fills its free slots in that drain and then yields again: a late tick or a count left
// behind by a crashed VM delays the pool, never stalls it.
import {
  MetricType, Status, defineMetric, getSharedData, incrementMetric, lastHostStatus, recordMetric,
  setEffectiveContext, setSharedData,
} from "../../proxy-wasm/index";
import { FlowControlConfig } from "../flow/config";
import { FAIR_TABLE_BYTES, fairAllows, fairBucket, fairMove } from "../flow/fair";
import { FlowEntry, FlowQueue } from "../flow/queue";
import { metricName } from "./picker-metrics";
import { StreamState } from "./stage";
import { tickAtLeastEvery, wantTickEvery } from "./tick";
import { removeAt } from "../util/remove-at";

/** Response header saying what flow control did with the request (and how long it waited). */
export const FLOW_HEADER = "x-wayroute-flow";

/** What the stage that owns a flow does with the streams the flow lets go. */
export abstract class FlowOwner {
  /** Dispatch `stream` (its context is effective): pick, steer, continue. */
  abstract resumeFlow(flow: PoolFlow, stream: StreamState, entry: FlowEntry, nowMs: i64): void;
  /** Answer `stream` that waited too long (its context is effective). */
  abstract expireFlow(flow: PoolFlow, stream: StreamState, entry: FlowEntry, nowMs: i64): void;
  /**
   * Whether the pool has room for one more request of a band that may fill `share` of the
   * in-flight limit (FlowBand.maxInFlightShare) now; may take a shared slot.
   */
  abstract flowHasRoom(flow: PoolFlow, share: f64, nowMs: i64): bool;
  /** Most dispatches one drain may make (the saturation detector's metrics move per scrape). */
  abstract flowDrainBudget(flow: PoolFlow): i32;
}

export class PoolFlow {
  queue: FlowQueue;
  /** Paused streams by context id. */
  waiting: Map<u32, StreamState> = new Map<u32, StreamState>();
  readonly key: string;
  private lengthGauges: u32[] = [];
  private waitHistograms: u32[] = [];
  queuedTotal: u32 = 0;
  dispatchedTotal: u32 = 0;
  expiredTotal: u32 = 0;
  rejectedTotal: u32 = 0;
  abandonedTotal: u32 = 0;
  private metricsOk: bool = true;
  /** On the list of flows with waiting streams (drained on every tick, whichever config is active). */
  listed: bool = false;
  private expired: FlowEntry[] = [];
  /** Set by FlowOwner.flowHasRoom: the room found came with a shared slot taken. */
  tokenTaken: bool = false;
  private all: i32[] = [];
  /** Shared fairness table of each band; empty without a flowHeader (one flow per band). */
  private fairKeys: string[] = [];
  /** Since when this worker leaves its free slots to flows on other workers; -1: it does not. */
  private yieldingSinceMs: i64 = -1;
  /** This drain dispatches despite the table (it yielded too long); reset when the drain ends. */
  private overriding: bool = false;

  constructor(public config: FlowControlConfig, public pool: string, rootId: string, public owner: FlowOwner, public handle: i32) {
    this.queue = new FlowQueue(config);
    this.key = "wayroute.flow/" + rootId + "/" + pool + "/dispatched";
    if (config.flowHeader.length > 0) {
      for (let i = 0; i < config.bands.length; i++) this.fairKeys.push("wayroute.flow/" + rootId + "/" + pool + "/fair/" + config.bands[i].name);
    }
  }

  /** Whether flows are shared fairly across workers (a flowHeader is configured). */
  get fair(): bool {
    return this.fairKeys.length > 0;
  }

  define(): void {
    this.createCounter();
    // Created before this worker serves, as the slot counter (no atomic create).
    for (let i = 0; i < this.fairKeys.length; i++) {
      if (getSharedData(this.fairKeys[i]) == null) setSharedData(this.fairKeys[i], new ArrayBuffer(FAIR_TABLE_BYTES), 0);
    }
    let at = latestAt(this.key);
    if (at < 0) LATEST.push(this);
    else LATEST[at] = this;
    let base = "wayroute_flow_" + metricName(this.pool) + "_";
    for (let i = 0; i < this.config.bands.length; i++) {
      let b = base + metricName(this.config.bands[i].name) + "_";
      this.lengthGauges.push(this.def(MetricType.Gauge, b + "queue_length"));
      this.waitHistograms.push(this.def(MetricType.Histogram, b + "wait_ms"));
    }
    this.queuedTotal = this.def(MetricType.Counter, base + "queued_total");
    this.dispatchedTotal = this.def(MetricType.Counter, base + "dispatched_after_wait_total");
    this.expiredTotal = this.def(MetricType.Counter, base + "expired_total");
    this.rejectedTotal = this.def(MetricType.Counter, base + "rejected_full_total");
    this.abandonedTotal = this.def(MetricType.Counter, base + "abandoned_total");
  }

  private def(type: MetricType, name: string): u32 {
    let id = defineMetric(type, name);
    if (lastHostStatus() != Status.Ok) this.metricsOk = false;
    return id;
  }

  inc(id: u32): void {
    if (this.metricsOk) incrementMetric(id, 1);
  }

  /** Queue length gauge of `band` moves by `delta` (a gauge every worker adds to). */
  lengthMoved(band: i32, delta: i64): void {
    if (this.metricsOk) incrementMetric(this.lengthGauges[band], delta);
  }

  waited(band: i32, ms: i64): void {
    if (this.metricsOk) recordMetric(this.waitHistograms[band], <u64>max<i64>(ms, 0));
  }

  /** Indices 0..n-1: every endpoint of the pool, for the saturation detector. */
  candidates(n: i32): i32[] {
    let out = this.all;
    if (out.length != n) {
      out.length = n;
      for (let i = 0; i < n; i++) out[i] = i;
    }
    return out;
  }

  // ---- capacity shared by every worker ---------------------------------------------------

  /** Requests of this pool dispatched (by any worker) and not yet ended. */
  dispatched(): i64 {
    let v = getSharedData(this.key);
    return v != null && v.value.byteLength == 8 ? load<i64>(changetype<usize>(v.value)) : 0;
  }

  /** Takes one dispatch slot if fewer than `limit` are taken; compare-and-swap on shared data. */
  tryAcquire(limit: i64): bool {
    for (let attempt = 0; attempt < 64; attempt++) {
      let cur = getSharedData(this.key);
      let n: i64 = cur != null && cur.value.byteLength == 8 ? load<i64>(changetype<usize>(cur.value)) : 0;
      if (n >= limit) return false;
      if (this.store(n + 1, cur != null ? cur.cas : 0)) return true;
    }
    return false;
  }

  /** Gives a slot back (the stream ended). */
  release(): void {
    for (let attempt = 0; attempt < 64; attempt++) {
      let cur = getSharedData(this.key);
      if (cur == null || cur.value.byteLength != 8) return;
      let n = load<i64>(changetype<usize>(cur.value));
      if (this.store(n > 0 ? n - 1 : 0, cur.cas)) return;
    }
  }

  private store(n: i64, cas: u32): bool {
    let b = new ArrayBuffer(8);
    store<i64>(changetype<usize>(b), n);
    return setSharedData(this.key, b, cas) == Status.Ok;
  }

  /**
   * Creates the counter at activation, before this worker serves: shared data has no atomic
   * create (a missing key ignores the cas), so the one unconditional write happens here, while
   * the count can only be 0. A reconfigure finds the key and keeps the count.
   */
  private createCounter(): void {
    if (getSharedData(this.key) == null) this.store(0, 0);
  }

  // ---- fairness across workers -------------------------------------------------------------

  /** Band `band`'s shared table (zeros when missing or torn). */
  fairTable(band: i32): ArrayBuffer {
    let v = getSharedData(this.fairKeys[band]);
    return v != null && v.value.byteLength == FAIR_TABLE_BYTES ? v.value : new ArrayBuffer(FAIR_TABLE_BYTES);
  }

  /** Moves a bucket's waiting and in-flight counts in the shared table (compare-and-swap). */
  fairMoved(band: i32, bucket: i32, dWaiting: i32, dInFlight: i32): void {
    if (!this.fair || band < 0 || bucket < 0) return;
    let key = this.fairKeys[band];
    for (let attempt = 0; attempt < 64; attempt++) {
      let cur = getSharedData(key);
      let t = cur != null && cur.value.byteLength == FAIR_TABLE_BYTES ? cur.value : new ArrayBuffer(FAIR_TABLE_BYTES);
      fairMove(t, bucket, dWaiting, dInFlight);
      if (setSharedData(key, t, cur != null ? cur.cas : 0) == Status.Ok) return;
    }
  }

  /** Whether a newcomer of `bucket` may pass straight through (no waiting flow trails it). */
  fairAdmits(band: i32, bucket: i32): bool {
    return !this.fair || fairAllows(this.fairTable(band), bucket);
  }

  /**
   * Which of `band`'s flows goes next: k turns on from the round's position (0 without
   * fairness), or -1 when every local flow must leave the slot to a flow on another worker.
   */
  private fairTurn(band: i32, nowMs: i64): i32 {
    if (!this.fair) return 0;
    let t = this.fairTable(band);
    let n = this.queue.flowCount(band);
    for (let k = 0; k < n; k++) {
      if (fairAllows(t, fairBucket(this.queue.flowInTurn(band, k)))) {
        this.yieldingSinceMs = -1;
        return k;
      }
    }
    if (this.yieldingSinceMs < 0) this.yieldingSinceMs = nowMs;
    // The other worker's tick takes the slot within tickMs; much longer means a late tick (a
    // busy proxy) or a stale count: this drain fills what it can, then the next one yields again.
    if (this.overriding || nowMs - this.yieldingSinceMs > max<i64>(10 * this.config.tickMs, 200)) {
      this.overriding = true;
      return 0;
    }
    return -1;
  }

  private hasRoom(rule: PoolFlow, share: f64, nowMs: i64): bool {
    let ok = rule.owner.flowHasRoom(rule, share, nowMs);
    this.tokenTaken = rule.tokenTaken;
    return ok;
  }

  // ---- waiting streams ---------------------------------------------------------------------

  /** Drops a waiting stream whose client left. True when it was waiting. */
  abandon(stream: StreamState): bool {
    let e = this.queue.remove(stream.contextId);
    if (e == null) return false;
    this.waiting.delete(stream.contextId);
    this.lengthMoved(e.band, -1);
    this.fairMoved(e.band, fairBucket(e.flow), -1, 0);
    this.inc(this.abandonedTotal);
    return true;
  }

  /** Removes and returns the paused stream of context `id` (null when it is not waiting). */
  private take(id: u32): StreamState | null {
    let w = this.waiting;
    if (!w.has(id)) return null;
    let stream = w.get(id);
    w.delete(id);
    return stream;
  }

  /**
   * Answers the expired, then dispatches while there is room, in queue order. `restoreId` is
   * the context the caller runs in: set back as the effective context afterwards.
   */
  drain(nowMs: i64, restoreId: u32): void {
    if (this.queue.length == 0) return;
    let expired = this.expired;
    let n = this.queue.expire(nowMs, expired);
    for (let i = 0; i < n; i++) {
      let e = expired[i];
      let stream = this.take(e.id);
      if (stream == null) continue;
      this.lengthMoved(e.band, -1);
      this.fairMoved(e.band, fairBucket(e.flow), -1, 0);
      this.waited(e.band, nowMs - e.enqueuedMs);
      this.inc(this.expiredTotal);
      setEffectiveContext(e.id);
      this.owner.expireFlow(this, stream, e, nowMs);
    }
    // Room is judged by the pool's newest rules (a reconfigure may have changed the limit);
    // the slots are the same shared ones.
    let rule = newestFlow(this);
    let budget = rule.owner.flowDrainBudget(rule);
    while (this.queue.length > 0 && budget > 0) {
      // Strict priority: the top band's turn, even when its flows must leave the slot to others.
      let band = this.queue.firstBand();
      let k = this.fairTurn(band, nowMs);
      // Strict priority: a band held back by its in-flight share holds the lower bands back too.
      if (k < 0 || !this.hasRoom(rule, this.config.bands[band].maxInFlightShare, nowMs)) break;
      let e = this.queue.popTurn(band, k);
      budget--;
      this.lengthMoved(e.band, -1);
      this.waited(e.band, nowMs - e.enqueuedMs);
      this.fairMoved(e.band, fairBucket(e.flow), -1, 1);
      let stream = this.take(e.id);
      if (stream == null) continue;
      this.inc(this.dispatchedTotal);
      setEffectiveContext(e.id);
      this.owner.resumeFlow(this, stream, e, nowMs);
    }
    if (this.overriding) {
      this.overriding = false;
      this.yieldingSinceMs = -1;
    }
    setEffectiveContext(restoreId);
  }
}

/**
 * The newest flow of each pool (one per shared key): its config's dispatch rule is the one in
 * force. A few pools at most, so a list searched by key (no Map instance of its own).
 */
const LATEST: PoolFlow[] = [];

function latestAt(key: string): i32 {
  for (let i = 0; i < LATEST.length; i++) if (LATEST[i].key == key) return i;
  return -1;
}

/** The newest flow of `flow`'s pool (itself unless a reconfigure made a newer one). */
export function newestFlow(flow: PoolFlow): PoolFlow {
  let at = latestAt(flow.key);
  return at < 0 ? flow : LATEST[at];
}

/**
 * Flows that hold waiting streams, whichever config they belong to: a reconfigure leaves the
 * old config's streams on the old stage, and the root tick keeps draining them (served or
 * expired, never forgotten).
 */
const LISTED: PoolFlow[] = [];

export function listFlow(flow: PoolFlow): void {
  if (flow.listed) return;
  flow.listed = true;
  LISTED.push(flow);
  // Waiting streams need this VM's tick (drain, expiry), at the flow's pace.
  tickAtLeastEvery(flow.config.tickMs);
}

/** Root tick: drains every listed flow; drops the ones left empty. */
export function drainListedFlows(nowMs: i64, rootContextId: u32): void {
  for (let i = LISTED.length - 1; i >= 0; i--) {
    let f = LISTED[i];
    f.drain(nowMs, rootContextId);
    if (f.queue.length == 0) {
      f.listed = false;
      removeAt(LISTED, i);
    } else {
      wantTickEvery(f.config.tickMs);
    }
  }
}
