// Opt-in decision explanation: one compact line for a debug response header or log, e.g.
//   pick=10.0.0.2:8000 | 10.0.0.2:8000 t=7 queue=1 kv-cache-utilization=0.5 prefix-cache=1 |
//   10.0.0.1:8000 t=3 ... | drop 10.0.0.3:8000<saturation
// Top `top` candidates by total, then up to 8 dropped endpoints with the filter that dropped them.
import { SchedulingContext } from "./context";
import { Profile, PickResult } from "./profile";

function shortName(name: string): string {
  if (name.endsWith("-scorer")) return name.substring(0, name.length - 7);
  if (name.endsWith("-filter")) return name.substring(0, name.length - 7);
  if (name.endsWith("-picker")) return name.substring(0, name.length - 7);
  return name;
}

/**
 * `x` rounded to `digits` decimals (0-22; the config allows 1-9), without trailing zeros.
 * 10^digits by repeated products: exact, as every power of ten up to 1e22 is a double, and it
 * spares the module `Math.pow` (2 KB of code).
 */
export function fmt3(x: f64, digits: i32 = 3): string {
  if (!isFinite(x)) return x.toString();
  let scale = 1.0;
  for (let i = 0; i < digits; i++) scale *= 10;
  let r = Math.round(x * scale) / scale;
  if (r == Math.floor(r) && Math.abs(r) < 1e15) return (<i64>r).toString();
  return r.toString();
}

export function explainPick(ctx: SchedulingContext, profile: Profile, res: PickResult, top: i32 = 3, digits: i32 = 3): string {
  let out = "pick=";
  for (let i = 0; i < res.picks.length; i++) {
    if (i > 0) out += ",";
    out += ctx.ep(res.picks[i]).address;
  }
  if (res.picks.length == 0) out += "none";
  let m = res.candidates.length;
  let shown: bool[] = new Array<bool>(m);
  for (let t = 0; t < top && t < m; t++) {
    let best = -1;
    for (let k = 0; k < m; k++) {
      if (shown[k]) continue;
      if (best < 0 || res.totals[k] > res.totals[best]) best = k;
    }
    if (best < 0) break;
    shown[best] = true;
    out += " | " + ctx.ep(res.candidates[best]).address + " t=" + fmt3(res.totals[best], digits);
    for (let s = 0; s < profile.scorers.length; s++) {
      let ws = profile.scorers[s];
      out += " " + shortName(ws.scorer.typeName) + "=" + fmt3(ws.last.length > best ? ws.last[best] : 0, digits);
    }
  }
  let dropped = 0;
  let more = 0;
  for (let e = 0; e < res.droppedBy.length; e++) {
    let f = res.droppedBy[e];
    if (f < 0) continue;
    if (dropped < 8) {
      out += (dropped == 0 ? " | drop " : ",") + ctx.ep(e).address + "<" + shortName(profile.filters[f].typeName);
    } else {
      more++;
    }
    dropped++;
  }
  if (more > 0) out += ",+" + more.toString();
  return out;
}
