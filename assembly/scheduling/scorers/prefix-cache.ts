// prefix-cache-scorer (GIE multi/prefix): fraction of the prompt's blocks the endpoint is
// believed to hold, from the approximate prefix index (assembly/prefix). The pool runtime fills
// ctx.prefixMatched/prefixTotal before scoring because needsPrefix is true; it also teaches the
// index the final pick afterwards.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { Scorer } from "../plugin";

export const PREFIX_CACHE_SCORER = "prefix-cache-scorer";

export class PrefixCacheScorer extends Scorer {
  get typeName(): string {
    return PREFIX_CACHE_SCORER;
  }

  get needsPrefix(): bool {
    return true;
  }

  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let total = ctx.prefixTotal;
    let matched = ctx.prefixMatched;
    for (let k = 0; k < cands.length; k++) {
      let e = unchecked(cands[k]);
      let m = total > 0 && e < matched.length ? unchecked(matched[e]) : 0;
      unchecked((out[k] = total > 0 ? <f64>min(m, total) / <f64>total : 0.0));
    }
  }
}

export function parsePrefixCacheScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  // Block size, block limit and LRU sizes belong to the pool's `prefixCache` section: the index
  // is shared by every profile of the pool.
  if (params != null) r.rejectUnknownKeys(params, []);
  return new PrefixCacheScorer();
}
