// queue-scorer (GIE): (maxQ - q) / (maxQ - minQ) over the candidates' waiting queues; 1 for
// all when every queue is equal. An unknown queue is missing data, not an empty queue: it gets
// the neutral 0.5 and does not move maxQ; while any candidate is unknown the range starts at 0
// (an unknown queue could be anywhere from 0), so a known busy endpoint never outranks the
// unknown ones just for being the only one known. While the scrape budget spaces scrapes out
// (SchedulingContext.carryInFlight), the queue is the reported one plus this proxy's in-flight
// change since that report (Endpoint.queueEstimate).
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { f64At, i32At, setF64At } from "../raw-access";
import { Scorer } from "../plugin";

export const QUEUE_SCORER = "queue-scorer";
/** Score of a candidate whose value is unknown: neither credit nor penalty. */
export const UNKNOWN_SCORE: f64 = 0.5;

export class QueueScorer extends Scorer {
  get typeName(): string {
    return QUEUE_SCORER;
  }

  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let n = cands.length;
    let carry = ctx.carryInFlight;
    let lo = i32.MAX_VALUE;
    let hi = i32.MIN_VALUE;
    let unknown = false;
    for (let k = 0; k < n; k++) {
      let e = ctx.ep(i32At(cands, k));
      let q = carry ? e.queueEstimate() : e.waiting;
      setF64At(out, k, <f64>q); // read back below
      if (q < 0) { unknown = true; continue; }
      if (q < lo) lo = q;
      if (q > hi) hi = q;
    }
    if (unknown) lo = 0;
    let span = <f64>(hi - lo);
    for (let k = 0; k < n; k++) {
      let q = <i32>f64At(out, k);
      setF64At(out, k, q < 0 ? UNKNOWN_SCORE : span > 0 ? <f64>(hi - q) / span : 1.0);
    }
  }
}

export function parseQueueScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  if (params != null) r.rejectUnknown(params, "");
  return new QueueScorer();
}
