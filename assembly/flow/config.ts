// The `flowControl` block of a pool: instead of shedding while the pool is full, a request waits
// at its headers in a per-worker queue and is dispatched when capacity frees up.
//
// Bands are priority ranges (the request's priority comes from the pool's `priority` config:
// objective, header, model); strict priority across bands, round-robin across flows (the value
// of `flowHeader`, e.g. a tenant) within a band, FIFO within a flow. A request is refused only
// when its band is full (requests or bytes) or it waited `maxWaitMs`.
// Every refusal names the JSON path. Mirrors schemas/pools.schema.json.
import { ConfigNode, ConfigReader, quote } from "../config/reader";
import { isValidHeaderName } from "../rewrite/header-name";
import { BOOL, CHECKED, CUSTOM, ENUM, INT32, INT64, NON_EMPTY, NUMBER, REQUIRED, STRING } from "../config/fields";

/** When a waiting request may go. */
export enum DispatchWhen {
  /** The pool's saturation detector says it is not saturated (mean utilization < 1). */
  NotSaturated = 0,
  /** Fewer than maxInFlightPerEndpoint x endpoints requests of the pool are in flight. */
  InFlightBelow = 1,
}

export const DISPATCH_NAMES = "not-saturated in-flight-below";

export class FlowBand {
  name: string = "";
  minPriority: i32 = 0;
  maxPriority: i32 = 0;
  /** Most requests waiting in this band (per worker). */
  maxRequests: i32 = DEFAULT_MAX_REQUESTS;
  /** Most request bytes (content-length) waiting in this band (per worker). */
  maxBytes: i64 = DEFAULT_MAX_BYTES;
  /** Status of a request that waited too long: 429 (retry later) or 503 (do not retry). */
  expireStatus: i32 = 429;
  /**
   * Share of the pool's in-flight limit this band may fill: its requests go only while fewer
   * than that many of the pool's requests (any band) are in flight, so the rest stays free for
   * higher bands (a dispatched request cannot be overtaken at the model server). 1: no reserve.
   */
  maxInFlightShare: f64 = 1;

  contains(priority: i32): bool {
    return priority >= this.minPriority && priority <= this.maxPriority;
  }
}

/**
 * In-flight limit of a band allowed `share` of a pool limit of `limit`: rounded down, never
 * below one slot (a band that can never go would only expire).
 */
export function shareOfLimit(limit: i64, share: f64): i64 {
  return share >= 1 ? limit : max<i64>(1, <i64>Math.floor(<f64>limit * share));
}

export const DEFAULT_MAX_REQUESTS: i32 = 256;
export const DEFAULT_MAX_BYTES: i64 = 64 << 20;
export const DEFAULT_MAX_WAIT_MS: i64 = 30_000;
/** Header whose value is the flow (fairness key); "" puts every request of a band in one flow. */
export const DEFAULT_FLOW_HEADER = "";

export class FlowControlConfig {
  /** Highest priorities first (sorted at parse time). */
  bands: FlowBand[] = [];
  flowHeader: string = DEFAULT_FLOW_HEADER;
  maxWaitMs: i64 = DEFAULT_MAX_WAIT_MS;
  dispatch: DispatchWhen = DispatchWhen.NotSaturated;
  /** In-flight limit per endpoint; 0: none (only with not-saturated). */
  maxInFlightPerEndpoint: i32 = 0;
  /** Priority < 0 is still shed at once (429) while the pool is saturated, never queued. */
  shedSheddable: bool = false;
  /** How often waiting requests are checked for expiry and room (the root tick). */
  tickMs: i64 = 20;

  /** Index of the band holding `priority`, or -1 (such a request is not flow-controlled). */
  bandFor(priority: i32): i32 {
    for (let i = 0; i < this.bands.length; i++) if (unchecked(this.bands[i]).contains(priority)) return i;
    return -1;
  }
}

/** Parses one band; null with `r` holding the problem. */
function parseBand(r: ConfigReader, bn: ConfigNode): FlowBand | null {
  // The band's fields (config/fields.ts): keys in the order they are read, one row per key.
  const KEYS = "name minPriority maxPriority maxRequests maxBytes expireStatus maxInFlightShare";
  const FIELDS = memory.data<f64>([
    STRING + REQUIRED + NON_EMPTY, offsetof<FlowBand>("name"), 0, 0,
    INT32, offsetof<FlowBand>("minPriority"), -1000, 1000,
    INT32, offsetof<FlowBand>("maxPriority"), -1000, 1000,
    INT32, offsetof<FlowBand>("maxRequests"), 1, 1_000_000,
    INT64, offsetof<FlowBand>("maxBytes"), 1, 1_099_511_627_776, // 1 TiB
    INT32 + CHECKED, offsetof<FlowBand>("expireStatus"), 100, 599, // 429 or 503
    NUMBER + CHECKED, offsetof<FlowBand>("maxInFlightShare"), 0, 1, // > 0
  ]);
  if (!r.requireObject(bn)) return null;
  let b = new FlowBand();
  // A band without bounds takes every priority.
  b.minPriority = -1000;
  b.maxPriority = 1000;
  let next = r.readObject(bn, b, KEYS, FIELDS); // up to expireStatus
  if (r.ok && b.expireStatus != 429 && b.expireStatus != 503) {
    r.fail(bn.child("expireStatus")!, "must be 429 (retry later) or 503 (do not retry), got " + b.expireStatus.toString());
  }
  r.readFields(bn, b, KEYS, FIELDS, next); // maxInFlightShare
  if (r.ok && b.maxInFlightShare == 0) r.fail(bn.child("maxInFlightShare")!, "must be > 0: the band would never be dispatched");
  if (!r.ok) return null;
  if (b.minPriority > b.maxPriority) {
    r.fail(bn.child("minPriority") != null ? bn.child("minPriority")! : bn,
      "must be <= maxPriority (" + b.minPriority.toString() + " > " + b.maxPriority.toString() + ")");
    return null;
  }
  return b;
}

/** Parses a `flowControl` object at `node`. Returns null with `r` holding the first problem. */
export function parseFlowControl(r: ConfigReader, node: ConfigNode): FlowControlConfig | null {
  // The block's fields (config/fields.ts): keys in the order they are read, one row per key.
  const KEYS = "bands flowHeader maxWaitMs dispatch maxInFlightPerEndpoint shedSheddable tickMs";
  const FIELDS = memory.data<f64>([
    CUSTOM, 0, 0, 0, // bands
    CUSTOM, 0, 0, 0, // flowHeader
    INT64 + CHECKED, offsetof<FlowControlConfig>("maxWaitMs"), 0, 3_600_000, // > 0
    ENUM, offsetof<FlowControlConfig>("dispatch"), 0, 0, // DISPATCH_NAMES
    INT32 + CHECKED, offsetof<FlowControlConfig>("maxInFlightPerEndpoint"), 1, 1_000_000, // absent: 0, none
    BOOL, offsetof<FlowControlConfig>("shedSheddable"), 0, 0,
    INT64 + CHECKED, offsetof<FlowControlConfig>("tickMs"), 1, 10_000, // <= maxWaitMs
  ]);
  if (!r.requireObject(node)) return null;
  r.rejectUnknown(node, KEYS);
  let c = new FlowControlConfig();
  let bands = r.requireArrayField(node, "bands");
  if (bands == null || !r.ok) return null;
  if (bands.length == 0) {
    r.fail(bands, "needs at least one band");
    return null;
  }
  let paths: string[] = [];
  for (let i = 0; i < bands.length && r.ok; i++) {
    let bn = bands.at(i)!;
    let b = parseBand(r, bn);
    if (b == null) return null;
    for (let j = 0; j < c.bands.length; j++) {
      let o = c.bands[j];
      if (o.name == b.name) {
        r.fail(bn.child("name")!, "duplicate band name " + quote(b.name));
        return null;
      }
      if (b.minPriority <= o.maxPriority && o.minPriority <= b.maxPriority) {
        r.fail(bn, "priorities " + b.minPriority.toString() + ".." + b.maxPriority.toString() +
          " overlap band " + quote(o.name) + " (" + paths[j] + ": " + o.minPriority.toString() + ".." + o.maxPriority.toString() + ")");
        return null;
      }
    }
    c.bands.push(b);
    paths.push(bn.path);
  }
  // Highest priorities first: the dispatch order.
  c.bands.sort((a: FlowBand, b: FlowBand): i32 => b.maxPriority - a.maxPriority);
  let fh = node.child("flowHeader");
  if (fh != null) {
    let s = r.stringOf(fh);
    if (r.ok && !isValidHeaderName(s)) {
      r.fail(fh, "a lower-case header name (got " + quote(s) + ")");
    }
    c.flowHeader = s;
  }
  let next = r.readFields(node, c, KEYS, FIELDS, 2); // maxWaitMs
  if (r.ok && c.maxWaitMs == 0) {
    r.fail(node.child("maxWaitMs")!, "must be > 0: with a queue, a wait of 0 would expire every request it holds");
  }
  next = r.readFields(node, c, KEYS, FIELDS, next, DISPATCH_NAMES); // dispatch, maxInFlightPerEndpoint
  if (r.ok && c.dispatch == DispatchWhen.InFlightBelow && c.maxInFlightPerEndpoint == 0) {
    r.failAt(node.path + ".maxInFlightPerEndpoint", "required when dispatch is \"in-flight-below\"");
  }
  for (let i = 0; i < c.bands.length && r.ok; i++) {
    if (c.bands[i].maxInFlightShare < 1 && c.maxInFlightPerEndpoint == 0) {
      r.failAt(node.path + ".maxInFlightPerEndpoint", "required by band " + quote(c.bands[i].name) + "'s maxInFlightShare (a share of the in-flight limit)");
    }
  }
  r.readFields(node, c, KEYS, FIELDS, next); // shedSheddable, tickMs
  if (r.ok && c.tickMs > c.maxWaitMs) {
    // Named even when absent: the default tick (20 ms) is longer than a short maxWaitMs.
    r.failAt(node.path + ".tickMs", "must be <= maxWaitMs (" + c.maxWaitMs.toString() + "): expiry is checked on the tick");
  }
  return r.ok ? c : null;
}
