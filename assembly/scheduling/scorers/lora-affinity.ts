// lora-affinity-scorer (GIE): 1.0 when the requested adapter is active on the endpoint, 0.8 when
// it has a free adapter slot, 0.6 when the adapter is waiting to load there, else 0.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Scorer } from "../plugin";

export const LORA_AFFINITY_SCORER = "lora-affinity-scorer";

export class LoraAffinityScorer extends Scorer {
  get typeName(): string {
    return LORA_AFFINITY_SCORER;
  }

  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let model = ctx.model;
    for (let k = 0; k < cands.length; k++) {
      let ep = ctx.ep(unchecked(cands[k]));
      let s = 0.0;
      if (ep.hasActiveLora(model)) s = 1.0;
      else if (ep.activeLoras.length + ep.waitingLoras.length < ep.maxLora) s = 0.8;
      else if (ep.hasWaitingLora(model)) s = 0.6;
      unchecked((out[k] = s));
    }
  }
}

export function parseLoraAffinityScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  if (params != null) r.rejectUnknown(params, "");
  return new LoraAffinityScorer();
}
