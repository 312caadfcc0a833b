// lora-affinity-filter (GIE): splits endpoints into those with the requested adapter active or
// waiting ("affinity") and those with a free adapter slot ("available"); returns the affinity
// group with probability `threshold` (GIE default 0.999) when both exist, else whichever
// exists. Soft here (GIE returns nothing): when neither exists, e.g. a base-model request to
// servers without LoRA, all endpoints are kept.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { NUMBER } from "../../config/fields";
import { SchedulingContext } from "../context";
import { Filter } from "../plugin";
import { copyInto } from "./saturation";

export const LORA_AFFINITY_FILTER = "lora-affinity-filter";

export class LoraAffinityFilter extends Filter {
  private affinity: i32[] = [];
  private available: i32[] = [];

  constructor(public threshold: f64 = 0.999) {
    super();
  }

  get typeName(): string {
    return LORA_AFFINITY_FILTER;
  }

  filter(ctx: SchedulingContext, input: i32[], out: i32[]): void {
    let aff = this.affinity;
    let avail = this.available;
    aff.length = 0;
    avail.length = 0;
    for (let i = 0; i < input.length; i++) {
      let e = unchecked(input[i]);
      let ep = ctx.ep(e);
      if (ep.hasActiveLora(ctx.model) || ep.hasWaitingLora(ctx.model)) aff.push(e);
      else if (ep.activeLoras.length + ep.waitingLoras.length < ep.maxLora) avail.push(e);
    }
    if (aff.length > 0 && avail.length > 0) {
      copyInto(ctx.rng.nextF64() < this.threshold ? aff : avail, out);
    } else if (aff.length > 0) {
      copyInto(aff, out);
    } else if (avail.length > 0) {
      copyInto(avail, out);
    } else {
      copyInto(input, out);
    }
  }
}

export function parseLoraAffinityFilter(r: ConfigReader, params: ConfigNode | null): Filter {
  // Its params (config/fields.ts): one key, one row.
  const FIELDS = memory.data<f64>([NUMBER, offsetof<LoraAffinityFilter>("threshold"), 0, 1]);
  const f = new LoraAffinityFilter();
  if (params != null) r.readObject(params, f, "threshold", FIELDS);
  return f;
}
