// Passive health: consecutive failures eject an endpoint for a backoff that doubles with each
// ejection (capped), like Envoy outlier detection's consecutive-5xx with a growing ejection time.
import { Endpoint } from "./endpoint";

export class HealthPolicy {
  /** Consecutive failures (5xx, reset, connect failure) that eject an endpoint. */
  failureThreshold: i32 = 5;
  /** First ejection length; doubled per further ejection. */
  baseEjectionMs: i64 = 10_000;
  /** Upper bound of one ejection. */
  maxEjectionMs: i64 = 300_000;
}

/** Records a failed exchange. Returns true when this failure ejected the endpoint. */
export function recordFailure(ep: Endpoint, policy: HealthPolicy, nowMs: i64): bool {
  if (ep.isEjected(nowMs)) return false;
  ep.consecutiveFailures++;
  if (ep.consecutiveFailures < policy.failureThreshold) return false;
  let shift = ep.ejectionCount < 20 ? ep.ejectionCount : 20;
  let span = policy.baseEjectionMs << shift;
  if (span > policy.maxEjectionMs || span <= 0) span = policy.maxEjectionMs;
  ep.ejectedUntilMs = nowMs + span;
  ep.ejectionCount++;
  ep.consecutiveFailures = 0;
  return true;
}

/**
 * Records a successful exchange. A success after an ejection has ended walks the backoff back
 * down one step, so an endpoint that stays healthy returns to the base ejection time.
 */
export function recordSuccess(ep: Endpoint, nowMs: i64): void {
  ep.consecutiveFailures = 0;
  if (!ep.isEjected(nowMs) && ep.ejectionCount > 0 && ep.ejectedUntilMs <= nowMs) {
    ep.ejectionCount--;
  }
}

/** True for a response status that counts as an endpoint failure (5xx except 501/505). */
export function isFailureStatus(status: i32): bool {
  return status >= 500 && status != 501 && status != 505;
}
