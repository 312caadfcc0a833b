// saturation-filter: keeps endpoints below GIE's saturation point (see ../saturation.ts),
// treating stale metrics as saturated. When every endpoint is saturated it keeps them all:
// shedding is the admission step's job, not the filter's.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Filter } from "../plugin";
import { isSaturated } from "../saturation";

export const SATURATION_FILTER = "saturation-filter";

export class SaturationFilter extends Filter {
  get typeName(): string {
    return SATURATION_FILTER;
  }

  filter(ctx: SchedulingContext, input: i32[], out: i32[]): void {
    out.length = 0;
    for (let i = 0; i < input.length; i++) {
      let e = unchecked(input[i]);
      if (!isSaturated(ctx.ep(e), ctx.saturation, ctx.nowMs)) out.push(e);
    }
    if (out.length == 0) copyInto(input, out);
  }
}

export function copyInto(input: i32[], out: i32[]): void {
  out.length = 0;
  for (let i = 0; i < input.length; i++) out.push(unchecked(input[i]));
}

export function parseSaturationFilter(r: ConfigReader, params: ConfigNode | null): Filter {
  if (params != null) r.rejectUnknown(params, "");
  return new SaturationFilter();
}
