// low-queue-filter (GIE): keeps endpoints whose waiting queue is at most `threshold`
// (GIE default 128). Soft: if none qualifies, all are kept. An unknown queue does not qualify.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { INT32 } from "../../config/fields";
import { SchedulingContext } from "../context";
import { Filter } from "../plugin";
import { copyInto } from "./saturation";

export const LOW_QUEUE_FILTER = "low-queue-filter";

export class LowQueueFilter extends Filter {
  constructor(public threshold: i32 = 128) {
    super();
  }

  get typeName(): string {
    return LOW_QUEUE_FILTER;
  }

  filter(ctx: SchedulingContext, input: i32[], out: i32[]): void {
    out.length = 0;
    for (let i = 0; i < input.length; i++) {
      let e = unchecked(input[i]);
      let q = ctx.ep(e).waiting;
      if (q >= 0 && q <= this.threshold) out.push(e);
    }
    if (out.length == 0) copyInto(input, out);
  }
}

export function parseLowQueueFilter(r: ConfigReader, params: ConfigNode | null): Filter {
  // Its params (config/fields.ts): one key, one row.
  const FIELDS = memory.data<f64>([INT32, offsetof<LowQueueFilter>("threshold"), 0, 1_000_000]);
  const f = new LowQueueFilter();
  if (params != null) r.readObject(params, f, "threshold", FIELDS);
  return f;
}
