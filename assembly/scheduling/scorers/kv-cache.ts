// kv-cache-utilization-scorer (GIE): 1 - KV-cache use, so emptier caches score higher. An unknown
// KV use is missing data, not an empty cache: it gets the neutral 0.5.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { i32At, setF64At } from "../raw-access";
import { Scorer } from "../plugin";
import { UNKNOWN_SCORE } from "./queue";

export const KV_CACHE_SCORER = "kv-cache-utilization-scorer";

export class KvCacheScorer extends Scorer {
  get typeName(): string {
    return KV_CACHE_SCORER;
  }

  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let n = cands.length;
    for (let k = 0; k < n; k++) {
      let kv = ctx.ep(i32At(cands, k)).kvUsage;
      let s = kv < 0 ? UNKNOWN_SCORE : 1.0 - kv;
      setF64At(out, k, s < 0 ? 0 : s > 1 ? 1 : s);
    }
  }
}

export function parseKvCacheScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  if (params != null) r.rejectUnknown(params, "");
  return new KvCacheScorer();
}
