// session-affinity-scorer: the request's session key (a header or cookie value, extracted by the
// entry) maps to one endpoint by rendezvous hashing (highest hash of key + address), with bounded
// load (Mirrokni et al., "consistent hashing with bounded loads"): an endpoint whose in-flight
// count would exceed ceil(c * (total + 1) / n) is passed over for the next in rendezvous order.
// That endpoint scores 1, the others 0; no key scores all 0.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { NUMBER } from "../../config/fields";
import { hashChars } from "../../prefix/hash";
import { SchedulingContext } from "../context";
import { Scorer } from "../plugin";

export const SESSION_AFFINITY_SCORER = "session-affinity-scorer";

export class SessionAffinityScorer extends Scorer {
  constructor(public loadFactor: f64 = 1.25) {
    super();
  }

  get typeName(): string {
    return SESSION_AFFINITY_SCORER;
  }

  scoresAllZero(ctx: SchedulingContext): bool {
    return ctx.sessionKey.length == 0;
  }
  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let n = cands.length;
    for (let k = 0; k < n; k++) unchecked((out[k] = 0.0));
    let key = ctx.sessionKey;
    if (key.length == 0 || n == 0) return;
    let keyHash = hashChars(0x5e55, key, 0, key.length);
    let total: i64 = 0;
    for (let k = 0; k < n; k++) total += ctx.ep(unchecked(cands[k])).inFlight;
    let cap = <i64>Math.ceil(this.loadFactor * <f64>(total + 1) / <f64>n);
    // Pick the highest-ranked candidate under the cap; without one, the highest-ranked overall.
    let best = -1;
    let bestRank: u64 = 0;
    let top = -1;
    let topRank: u64 = 0;
    for (let k = 0; k < n; k++) {
      let ep = ctx.ep(unchecked(cands[k]));
      let rank = hashChars(keyHash, ep.address, 0, ep.address.length);
      if (top < 0 || rank > topRank) {
        top = k;
        topRank = rank;
      }
      if (<i64>ep.inFlight + 1 <= cap && (best < 0 || rank > bestRank)) {
        best = k;
        bestRank = rank;
      }
    }
    unchecked((out[best >= 0 ? best : top] = 1.0));
  }
}

export function parseSessionAffinityScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  // Its params (config/fields.ts): one key, one row.
  const FIELDS = memory.data<f64>([NUMBER, offsetof<SessionAffinityScorer>("loadFactor"), 1, 100]);
  const s = new SessionAffinityScorer();
  if (params != null) r.readObject(params, s, "loadFactor", FIELDS);
  return s;
}
