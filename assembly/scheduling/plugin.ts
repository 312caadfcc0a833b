// The three plugin roles of a scheduling profile (GIE framework: Filter, Scorer, Picker).
// Candidates are endpoint indices; outputs go into caller-owned arrays so a cycle allocates
// nothing. Each concrete plugin lives in its own file under filters/, scorers/ or pickers/ with
// its type name constant and config parser, and is listed once in registry.ts.
import { SchedulingContext } from "./context";

export abstract class Filter {
  /** Registered type name (e.g. "saturation-filter"). */
  abstract get typeName(): string;
  /** Writes the kept subset of `input` to `out` (cleared first), preserving order. */
  abstract filter(ctx: SchedulingContext, input: i32[], out: i32[]): void;
}

export abstract class Scorer {
  abstract get typeName(): string;
  /** Writes a score in [0, 1] for each candidate: `out[k]` belongs to `cands[k]`. */
  abstract score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void;
  /**
   * True when `score` would write 0 for every candidate of this cycle (e.g. no prompt, no
   * session key), so the profile may skip the pass. Must be cheap: O(1), no allocation.
   */
  scoresAllZero(ctx: SchedulingContext): bool {
    return false;
  }
  /** True when the profile must fill ctx.prefixMatched before scoring. */
  get needsPrefix(): bool {
    return false;
  }
}

export abstract class Picker {
  abstract get typeName(): string;
  /**
   * Writes up to `max` distinct picks (primary first, then fallbacks) to `out` (cleared first).
   * `totals[k]` is the weighted score of `cands[k]`.
   */
  abstract pick(ctx: SchedulingContext, cands: i32[], totals: Float64Array, max: i32, out: i32[]): void;
}
