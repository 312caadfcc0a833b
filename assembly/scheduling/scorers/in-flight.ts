// in-flight-scorer: least-request balancing on the requests this proxy has outstanding to each
// endpoint (counted across all workers): (maxF - f) / (maxF - minF), 1 when all are equal.
// Reacts faster than scraped queues, which lag by the scrape interval.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { i32At, setF64At } from "../raw-access";
import { Scorer } from "../plugin";

export const IN_FLIGHT_SCORER = "in-flight-scorer";

export class InFlightScorer extends Scorer {
  get typeName(): string {
    return IN_FLIGHT_SCORER;
  }

  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let n = cands.length;
    let lo = i32.MAX_VALUE;
    let hi = i32.MIN_VALUE;
    for (let k = 0; k < n; k++) {
      let f = ctx.ep(i32At(cands, k)).inFlight;
      if (f < lo) lo = f;
      if (f > hi) hi = f;
    }
    let span = <f64>(hi - lo);
    for (let k = 0; k < n; k++) {
      let f = ctx.ep(i32At(cands, k)).inFlight;
      setF64At(out, k, span > 0 ? <f64>(hi - f) / span : 1.0);
    }
  }
}

export function parseInFlightScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  if (params != null) r.rejectUnknown(params, "");
  return new InFlightScorer();
}
