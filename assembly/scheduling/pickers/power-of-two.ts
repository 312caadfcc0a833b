// power-of-two-picker: samples two distinct candidates uniformly and takes the higher score
// (ties at random); fallbacks follow by score. Cheap and herd-resistant when many proxies pick
// from the same stale view (Mitzenmacher, "The Power of Two Choices").
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Picker } from "../plugin";
import { appendByScore } from "./max-score";

export const POWER_OF_TWO_PICKER = "power-of-two-picker";

export class PowerOfTwoPicker extends Picker {
  private taken: StaticArray<bool> = new StaticArray<bool>(0);

  get typeName(): string {
    return POWER_OF_TWO_PICKER;
  }

  pick(ctx: SchedulingContext, cands: i32[], totals: Float64Array, max: i32, out: i32[]): void {
    out.length = 0;
    let n = cands.length;
    if (n == 0 || max <= 0) return;
    if (this.taken.length < n) this.taken = new StaticArray<bool>(n);
    let taken = this.taken;
    for (let k = 0; k < n; k++) unchecked((taken[k] = false));
    let a = ctx.rng.nextInt(n);
    let win = a;
    if (n > 1) {
      let b = ctx.rng.nextInt(n - 1);
      if (b >= a) b++;
      let sa = unchecked(totals[a]);
      let sb = unchecked(totals[b]);
      win = sb > sa || (sb == sa && ctx.rng.nextInt(2) == 0) ? b : a;
    }
    unchecked((taken[win] = true));
    out.push(unchecked(cands[win]));
    appendByScore(ctx, cands, totals, max, out, taken);
  }
}

export function parsePowerOfTwoPicker(r: ConfigReader, params: ConfigNode | null): Picker {
  if (params != null) r.rejectUnknown(params, "");
  return new PowerOfTwoPicker();
}
