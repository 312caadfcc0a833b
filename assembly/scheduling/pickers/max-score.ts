// max-score-picker (GIE): highest total score first, ties broken uniformly at random (GIE
// shuffles then stable-sorts; we do k reservoir-sampled argmax passes: same distribution, no
// allocation, O(k·n) for the k <= 8 picks a steering header can carry).
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Picker } from "../plugin";
import { f64At, i32At } from "../raw-access";

export const MAX_SCORE_PICKER = "max-score-picker";

export class MaxScorePicker extends Picker {
  private taken: StaticArray<bool> = new StaticArray<bool>(0);

  get typeName(): string {
    return MAX_SCORE_PICKER;
  }

  pick(ctx: SchedulingContext, cands: i32[], totals: Float64Array, max: i32, out: i32[]): void {
    out.length = 0;
    let n = cands.length;
    if (this.taken.length < n) this.taken = new StaticArray<bool>(n);
    let taken = this.taken;
    memory.fill(changetype<usize>(taken), 0, <usize>n);
    appendByScore(ctx, cands, totals, max, out, taken);
  }
}

/**
 * Appends best-scoring untaken candidates (random tie-break) until `out` has `max` entries.
 * Per pick: one pass for the best score and its tie count, one random draw, one pass to take
 * the drawn tie. NaN scores rank lowest.
 */
export function appendByScore(
  ctx: SchedulingContext, cands: i32[], totals: Float64Array, max: i32, out: i32[], taken: StaticArray<bool>,
): void {
  // O(picks x candidates) per request: plain loads (raw-access.ts), no calls in the loops.
  let n = cands.length;
  let takenAt = changetype<usize>(taken);
  while (out.length < max) {
    let bestScore = -Infinity;
    let ties = 0;
    for (let k = 0; k < n; k++) {
      if (load<bool>(takenAt + <usize>k)) continue;
      let s = f64At(totals, k);
      if (s != s) s = -Infinity;
      if (ties == 0 || s > bestScore) {
        bestScore = s;
        ties = 1;
      } else if (s == bestScore) {
        ties++;
      }
    }
    if (ties == 0) return;
    let r = ties > 1 ? ctx.rng.nextInt(ties) : 0;
    for (let k = 0; k < n; k++) {
      if (load<bool>(takenAt + <usize>k)) continue;
      let s = f64At(totals, k);
      if (s != s) s = -Infinity;
      if (s != bestScore) continue;
      if (r == 0) {
        store<bool>(takenAt + <usize>k, true);
        out.push(i32At(cands, k));
        break;
      }
      r--;
    }
  }
}

export function parseMaxScorePicker(r: ConfigReader, params: ConfigNode | null): Picker {
  if (params != null) r.rejectUnknown(params, "");
  return new MaxScorePicker();
}
