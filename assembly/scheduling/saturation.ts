// The EPP's utilization detector (pkg/epp/framework/plugins/flowcontrol/saturationdetector/
// utilization/detector.go): an endpoint's saturation is max(queue / queueThreshold,
// kv / kvThreshold); metrics older than the staleness bound count as 1.0. The pool is saturated
// when the MEAN over the request's candidate endpoints is >= 1 (no candidates: saturated), and a
// sheddable request is then refused before scheduling. `shedWhen: "all-saturated"` keeps
// wayroute's older rule: saturated only when every candidate is.
import { Endpoint, NEVER } from "../endpoints/endpoint";
import { endpointAt } from "./raw-access";

export class SaturationThresholds {
  /** Waiting requests at which an endpoint counts as full (GIE default 5). */
  queueDepth: f64 = 5;
  /** KV-cache use at which an endpoint counts as full (GIE default 0.8). */
  kvCacheUtil: f64 = 0.8;
  /** Metrics older than this count as saturated (GIE default 200 ms). */
  metricsStalenessMs: i64 = 200;
  /** False when the pool has no load source at all (no scrape, no ORCA): never saturated then. */
  metricsRequired: bool = true;
  /** Older rule: the pool is saturated only when every candidate is (`shedWhen`). */
  shedWhenAllSaturated: bool = false;
}

/**
 * max(queue/Q, kv/K) over the values that are known; >= 1 means saturated. Infinity when
 * metrics are stale or neither value is known (missing data counts as stale does).
 */
export function utilization(ep: Endpoint, t: SaturationThresholds, nowMs: i64): f64 {
  if (!t.metricsRequired) return 0;
  if (ep.metricsAgeMs(nowMs) > t.metricsStalenessMs) return Infinity;
  if (!ep.hasWaiting && !ep.hasKv) return Infinity;
  let q = ep.hasWaiting && t.queueDepth > 0 ? <f64>ep.waiting / t.queueDepth : 0;
  let k = ep.hasKv && t.kvCacheUtil > 0 ? ep.kvUsage / t.kvCacheUtil : 0;
  return q > k ? q : k;
}

export function isSaturated(ep: Endpoint, t: SaturationThresholds, nowMs: i64): bool {
  return utilization(ep, t, nowMs) >= 1.0;
}

export function isStale(ep: Endpoint, t: SaturationThresholds, nowMs: i64): bool {
  return t.metricsRequired && ep.metricsAgeMs(nowMs) > t.metricsStalenessMs;
}

/**
 * How many of `endpoints` are stale (isStale). One pass over the whole pool, so it reads the
 * list in place and makes no calls (raw-access.ts).
 */
export function staleCount(endpoints: Endpoint[], t: SaturationThresholds, nowMs: i64): i32 {
  if (!t.metricsRequired) return 0;
  let bound = t.metricsStalenessMs;
  let stale = 0;
  for (let i = 0, n = endpoints.length; i < n; i++) {
    let at = endpointAt(endpoints, i).metricsAtMs;
    let age = at == NEVER ? i64.MAX_VALUE : nowMs - at;
    if ((age < 0 ? 0 : age) > bound) stale++;
  }
  return stale;
}

/** True when every endpoint in `candidates` (indices into `endpoints`) is saturated. */
export function allSaturated(endpoints: Endpoint[], candidates: i32[], t: SaturationThresholds, nowMs: i64): bool {
  for (let i = 0; i < candidates.length; i++) {
    if (!isSaturated(unchecked(endpoints[unchecked(candidates[i])]), t, nowMs)) return false;
  }
  return true;
}

/**
 * The EPP's pool saturation: mean over `candidates` of max(queue/Q, kv/K), stale metrics
 * counting 1.0; 1.0 for no candidates. 0 when the pool has no load source.
 */
export function meanSaturation(endpoints: Endpoint[], candidates: i32[], t: SaturationThresholds, nowMs: i64): f64 {
  if (!t.metricsRequired) return 0;
  let n = candidates.length;
  if (n == 0) return 1.0;
  let total = 0.0;
  for (let i = 0; i < n; i++) {
    let ep = unchecked(endpoints[unchecked(candidates[i])]);
    // Stale, or neither value known (missing data counts as stale does): 1.0, as the EPP
    // counts stale metrics. The EPP has no "unknown" (a missing series keeps the old value).
    if (ep.metricsAgeMs(nowMs) > t.metricsStalenessMs || (!ep.hasWaiting && !ep.hasKv)) {
      total += 1.0;
      continue;
    }
    let q = ep.hasWaiting && t.queueDepth > 0 ? <f64>ep.waiting / t.queueDepth : 0;
    let k = ep.hasKv && t.kvCacheUtil > 0 ? ep.kvUsage / t.kvCacheUtil : 0;
    // A NaN load (never stored by the parsers) would make the mean NaN: count it as full.
    let u = q > k ? q : k;
    total += u == u ? u : 1.0;
  }
  return total / <f64>n;
}

/** Whether a sheddable request is refused: the configured pool-saturation rule. */
export function poolSaturated(endpoints: Endpoint[], candidates: i32[], t: SaturationThresholds, nowMs: i64): bool {
  if (!t.metricsRequired) return false;
  if (t.shedWhenAllSaturated) return allSaturated(endpoints, candidates, t, nowMs);
  return meanSaturation(endpoints, candidates, t, nowMs) >= 1.0;
}
