/** Results of the real-stack benchmark (`npm run bench -- --stack real`), as written to JSON. */
import type { RealMacroCell } from "./macro.js";

/** One routing-overhead measurement: a policy at one body size and endpoint count. */
export interface OverheadRow {
  /** "headers only", "4 KB" or "220 KB". */
  body: string;
  endpoints: number;
  policy: string;
  /** Requests per second offered (open loop). */
  rate: number;
  requests: number;
  ok: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** p50/p99 minus plain Envoy's at the same body and endpoint count (NaN for the baseline itself). */
  addedP50Ms: number;
  addedP99Ms: number;
  /** CPU time of Envoy, and of the EPP when there is one, per 1,000 requests (ms, from /proc). */
  envoyCpuMsPer1k: number;
  eppCpuMsPer1k?: number;
}

export interface RealStackResults {
  /** Versions of the peers that ran. */
  versions: { envoy: string; epp: string; simulator: string };
  /** The exact commands that reproduce the run. */
  commands: string[];
  macro: RealMacroCell[];
  overhead: OverheadRow[];
  skipped: { policy: string; workload: string; reason: string }[];
  notes: string[];
}
