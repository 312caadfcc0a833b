// GIE saturation detector: an endpoint is saturated when max(queue / queueThreshold,
// kv / kvThreshold) >= 1, or when its metrics are older than the staleness bound (we cannot
// tell, so we assume the worst). The pool is saturated when every endpoint is.
import { Endpoint } from "../endpoints/endpoint";

export class SaturationThresholds {
  /** Waiting requests at which an endpoint counts as full (GIE default 5). */
  queueDepth: f64 = 5;
  /** KV-cache use at which an endpoint counts as full (GIE default 0.8). */
  kvCacheUtil: f64 = 0.8;
  /** Metrics older than this count as saturated (GIE default 200 ms). */
  metricsStalenessMs: i64 = 200;
  /** False when the pool has no load source at all (no scrape, no ORCA): never saturated then. */
  metricsRequired: bool = true;
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

/** True when every endpoint in `candidates` (indices into `endpoints`) is saturated. */
export function allSaturated(endpoints: Endpoint[], candidates: i32[], t: SaturationThresholds, nowMs: i64): bool {
  for (let i = 0; i < candidates.length; i++) {
    if (!isSaturated(unchecked(endpoints[unchecked(candidates[i])]), t, nowMs)) return false;
  }
  return true;
}
