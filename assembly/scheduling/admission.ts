// Admission: the request's priority (per model/objective from config; a request header may
// override it only for trusted callers) and the shed decision. GIE: priority < 0 is sheddable
// (pkg/epp/util/request.IsSheddable) and sheddable requests get 429 while the pool is saturated.

export enum Admission {
  /** Route to the picked endpoint(s). */
  Route = 0,
  /** Shed with 429 (sheddable and the pool is saturated). */
  Shed = 1,
  /** No eligible endpoint, FailClose: 503. */
  Unavailable = 2,
  /** No eligible endpoint, FailOpen: leave the choice to the proxy's own load balancer. */
  PassThrough = 3,
}

/** Priority header values are small integers; anything else is ignored. */
export function parsePriorityHeader(v: string): i32 {
  let s = v.trim();
  let n = s.length;
  if (n == 0 || n > 6) return i32.MIN_VALUE;
  let neg = s.charCodeAt(0) == 45;
  let i = neg || s.charCodeAt(0) == 43 ? 1 : 0;
  if (i == n) return i32.MIN_VALUE;
  let x = 0;
  for (; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 48 || c > 57) return i32.MIN_VALUE;
    x = x * 10 + (c - 48);
  }
  return neg ? -x : x;
}

/**
 * The effective priority: `configured` unless the caller is trusted and sent a valid header.
 * Untrusted callers cannot raise (or lower) their own priority.
 */
export function resolvePriority(configured: i32, header: string | null, callerTrusted: bool): i32 {
  if (header == null || !callerTrusted) return configured;
  let p = parsePriorityHeader(header);
  return p == i32.MIN_VALUE ? configured : p;
}

export function isSheddable(priority: i32): bool {
  return priority < 0;
}

export function admit(priority: i32, poolSaturated: bool, picks: i32, failOpen: bool): Admission {
  if (isSheddable(priority) && poolSaturated) return Admission.Shed;
  if (picks == 0) return failOpen ? Admission.PassThrough : Admission.Unavailable;
  return Admission.Route;
}
