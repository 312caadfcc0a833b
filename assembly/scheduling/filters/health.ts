// health-filter: drops endpoints that passive health checking has ejected. The one hard filter:
// when everything is ejected nothing is eligible (503 under FailClose, proxy LB under FailOpen).
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Filter } from "../plugin";

export const HEALTH_FILTER = "health-filter";

export class HealthFilter extends Filter {
  get typeName(): string {
    return HEALTH_FILTER;
  }

  filter(ctx: SchedulingContext, input: i32[], out: i32[]): void {
    out.length = 0;
    for (let i = 0; i < input.length; i++) {
      let e = unchecked(input[i]);
      if (!ctx.ep(e).isEjected(ctx.nowMs)) out.push(e);
    }
  }
}

export function parseHealthFilter(r: ConfigReader, params: ConfigNode | null): Filter {
  if (params != null) r.rejectUnknownKeys(params, []);
  return new HealthFilter();
}
