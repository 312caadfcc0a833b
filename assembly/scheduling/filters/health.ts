// health-filter: drops endpoints that passive health checking has ejected. The one hard filter:
// when everything is ejected nothing is eligible (503 under FailClose, proxy LB under FailOpen).
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { i32At, setI32At } from "../raw-access";
import { Filter } from "../plugin";

export const HEALTH_FILTER = "health-filter";

export class HealthFilter extends Filter {
  get typeName(): string {
    return HEALTH_FILTER;
  }

  filter(ctx: SchedulingContext, input: i32[], out: i32[]): void {
    // Per request over every endpoint: raw-access loop (no calls, no push).
    let n = input.length;
    out.length = n;
    let now = ctx.nowMs;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      let e = i32At(input, i);
      if (!ctx.ep(e).isEjected(now)) setI32At(out, kept++, e);
    }
    out.length = kept;
  }
}

export function parseHealthFilter(r: ConfigReader, params: ConfigNode | null): Filter {
  if (params != null) r.rejectUnknown(params, "");
  return new HealthFilter();
}
