/** The data a benchmark run produces; written as JSON and rendered as the HTML report. */
import type { MicroResult } from "../bench/suite.js";
import type { RealStackResults } from "../bench/real/types.js";
import type { LoadSummary } from "../load/summary.js";

/** One micro-benchmark row with the suite it came from. */
export interface MicroRow extends MicroResult {
  suite: string;
}

/** One (workload, policy) cell of the macro benchmark. */
export interface MacroCell {
  workload: string;
  policy: string;
  durationMs: number;
  summary: LoadSummary;
  /** Prefix-cache hit rate over the run, from the simulators' token counters (0..1). */
  prefixHitRate: number;
  /** Successful TTFTs in ms, sorted (for the CDF chart). */
  ttftSamples: number[];
  /** The load generator's seed for this cell (set when the run repeats, `--repeat`). */
  seed?: number;
}

export interface BenchResults {
  /** ISO time the run started. */
  startedAt: string;
  /** Machine and settings worth knowing when reading the numbers. */
  environment: Record<string, string | number>;
  micro: MicroRow[];
  /** Suites that could not run, with the reason. */
  microSkipped: { suite: string; reason: string }[];
  macro: MacroCell[];
  /** Notes printed at the top of the report. */
  notes: string[];
  /** The real-stack run (Envoy, llm-d EPP, llm-d-inference-sim), when `--stack real` ran. */
  real?: RealStackResults;
}
