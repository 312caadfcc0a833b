// Folds an ORCA report into an endpoint's load state. Model servers report their scheduler state
// as named metrics (vLLM: `kv_cache_usage_perc`, `num_requests_waiting`); the report is as
// fresh as the response that carried it, so it also refreshes the metrics timestamp.
import { Endpoint } from "../endpoints/endpoint";
import { OrcaReport } from "./orca";

/** Applies `r` to `ep`; returns true when any scheduling field was updated. */
export function applyOrcaReport(ep: Endpoint, r: OrcaReport, nowMs: i64): bool {
  if (!r.ok) return false;
  let updated = false;
  let kv = r.named("kv_cache_usage_perc");
  if (isNaN(kv)) kv = r.named("kv_cache_utilization");
  if (isNaN(kv)) kv = r.named("gpu_cache_usage_perc");
  // Out-of-range values are clamped (counts >= 0, utilisation [0, 1]); NaN/Inf are ignored.
  if (isFinite(kv)) {
    ep.kvUsage = kv < 0 ? 0.0 : kv > 1.0 ? 1.0 : kv;
    updated = true;
  }
  let waiting = r.named("num_requests_waiting");
  if (isFinite(waiting)) {
    ep.waiting = <i32>Math.round(Math.max(0, Math.min(waiting, 1e9)));
    updated = true;
  }
  let running = r.named("num_requests_running");
  if (isFinite(running)) {
    ep.running = <i32>Math.round(Math.max(0, Math.min(running, 1e9)));
    updated = true;
  }
  if (updated) ep.metricsAtMs = nowMs;
  return updated;
}
