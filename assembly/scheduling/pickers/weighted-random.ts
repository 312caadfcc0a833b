// weighted-random-picker (GIE): random pick with probability proportional to the total score,
// by A-Res weighted reservoir sampling (key = u^(1/w), largest keys win). Zero scores are never
// picked unless every score is zero; then the pick is uniform. The endpoint's static `weight`
// label multiplies its score (route-mode subsets of different sizes, canaries).
//
// The key is kept as its logarithm, ln(u)·(1/w): the logarithm is increasing, so the order and
// the picks are those of u^(1/w), and Math.log is a fraction of Math.pow's code (2 KB).
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Picker } from "../plugin";

export const WEIGHTED_RANDOM_PICKER = "weighted-random-picker";

// ln(2^-1075): u^(1/w) at or below 2^-1075 rounds to 0 (very small weights), where such keys tie
// and the lowest index wins; clamping the logarithm here keeps those ties.
const LN_KEY_UNDERFLOW: f64 = -745.1332191019411;
// Ineligible (zero-weight) candidates rank below every eligible key, ordered by their draw:
// -1 + u·1e-9 as before, times 1024 (exact, so the same order and the same ties) to sit below
// LN_KEY_UNDERFLOW.
const INELIGIBLE_SCALE: f64 = 1024;

export class WeightedRandomPicker extends Picker {
  private keys: Float64Array = new Float64Array(0);

  get typeName(): string {
    return WEIGHTED_RANDOM_PICKER;
  }

  pick(ctx: SchedulingContext, cands: i32[], totals: Float64Array, max: i32, out: i32[]): void {
    out.length = 0;
    let n = cands.length;
    if (this.keys.length < n) this.keys = new Float64Array(n);
    let keys = this.keys;
    let anyPositive = false;
    for (let k = 0; k < n; k++) if (unchecked(totals[k]) > 0) anyPositive = true;
    for (let k = 0; k < n; k++) {
      let w = unchecked(totals[k]) * ctx.ep(unchecked(cands[k])).weight;
      let u = ctx.rng.nextF64();
      if (u == 0) u = 1e-12;
      // Zero-weight candidates get keys near -1024 so they come last (and only as fallbacks).
      unchecked((keys[k] = !anyPositive ? u : w > 0 ? Math.max(Math.log(u) * (1.0 / w), LN_KEY_UNDERFLOW) : (-1.0 + u * 1e-9) * INELIGIBLE_SCALE));
    }
    while (out.length < max) {
      let best = -1;
      let bestKey = -Infinity;
      for (let k = 0; k < n; k++) {
        let key = unchecked(keys[k]);
        if (key > bestKey) {
          bestKey = key;
          best = k;
        }
      }
      if (best < 0) return;
      unchecked((keys[best] = -Infinity));
      out.push(unchecked(cands[best]));
    }
  }
}

export function parseWeightedRandomPicker(r: ConfigReader, params: ConfigNode | null): Picker {
  if (params != null) r.rejectUnknown(params, "");
  return new WeightedRandomPicker();
}
