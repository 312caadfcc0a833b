// queue-scorer (GIE): (maxQ - q) / (maxQ - minQ) over the candidates' waiting queues; 1 for
// all when every queue is equal. An unknown queue is missing data, not an empty queue: it gets
// no credit (0) and does not move minQ / maxQ.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { i32At, setF64At } from "../raw-access";
import { Scorer } from "../plugin";

export const QUEUE_SCORER = "queue-scorer";

export class QueueScorer extends Scorer {
  get typeName(): string {
    return QUEUE_SCORER;
  }

  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let n = cands.length;
    let lo = i32.MAX_VALUE;
    let hi = i32.MIN_VALUE;
    for (let k = 0; k < n; k++) {
      let q = ctx.ep(i32At(cands, k)).waiting;
      if (q < 0) continue; // unknown
      if (q < lo) lo = q;
      if (q > hi) hi = q;
    }
    let span = <f64>(hi - lo);
    for (let k = 0; k < n; k++) {
      let q = ctx.ep(i32At(cands, k)).waiting;
      setF64At(out, k, q < 0 ? 0.0 : span > 0 ? <f64>(hi - q) / span : 1.0);
    }
  }
}

export function parseQueueScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  if (params != null) r.rejectUnknownKeys(params, []);
  return new QueueScorer();
}
