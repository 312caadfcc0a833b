// locality-filter: prefers endpoints near this proxy, spilling over when the near ones are
// saturated. Tiers: same zone (and same cluster when the proxy knows its cluster), then same
// cluster, then everything. The first tier with an unsaturated endpoint wins; if no tier has
// one, all endpoints are kept (saturation/shedding decide then). Endpoints without labels are
// only in the last tier. Without a known local zone/cluster the filter keeps everything.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Filter } from "../plugin";
import { isSaturated } from "../saturation";
import { copyInto } from "./saturation";

export const LOCALITY_FILTER = "locality-filter";

export class LocalityFilter extends Filter {
  get typeName(): string {
    return LOCALITY_FILTER;
  }

  filter(ctx: SchedulingContext, input: i32[], out: i32[]): void {
    let zone = ctx.localZone;
    let cluster = ctx.localCluster;
    if (zone.length == 0 && cluster.length == 0) {
      copyInto(input, out);
      return;
    }
    for (let tier = 0; tier < 2; tier++) {
      out.length = 0;
      let anyFree = false;
      for (let i = 0; i < input.length; i++) {
        let e = unchecked(input[i]);
        let ep = ctx.ep(e);
        let sameCluster = cluster.length == 0 || ep.cluster == cluster;
        let inTier = tier == 0
          ? zone.length > 0 && ep.zone == zone && sameCluster
          : cluster.length > 0 && ep.cluster == cluster;
        if (!inTier) continue;
        out.push(e);
        if (!isSaturated(ep, ctx.saturation, ctx.nowMs)) anyFree = true;
      }
      if (anyFree) return;
    }
    copyInto(input, out);
  }
}

export function parseLocalityFilter(r: ConfigReader, params: ConfigNode | null): Filter {
  if (params != null) r.rejectUnknown(params, "");
  return new LocalityFilter();
}
