// prefix-cache-scorer (GIE multi/prefix): fraction of the prompt's blocks the endpoint is
// believed to hold, from the approximate prefix index (assembly/prefix). The pool runtime fills
// ctx.prefixMatched/prefixTotal before scoring because needsPrefix is true; it also teaches the
// index the final pick afterwards.
import { ConfigReader, ConfigNode } from "../../config/reader";
import { SchedulingContext } from "../context";
import { i32At, setF64At } from "../raw-access";
import { Scorer } from "../plugin";

export const PREFIX_CACHE_SCORER = "prefix-cache-scorer";

export class PrefixCacheScorer extends Scorer {
  get typeName(): string {
    return PREFIX_CACHE_SCORER;
  }

  get needsPrefix(): bool {
    return true;
  }

  scoresAllZero(ctx: SchedulingContext): bool {
    return ctx.prefixTotal <= 0;
  }
  score(ctx: SchedulingContext, cands: i32[], out: Float64Array): void {
    let total = ctx.prefixTotal;
    let matched = ctx.prefixMatched;
    let matchedLen = matched.length;
    let n = cands.length;
    for (let k = 0; k < n; k++) {
      let e = i32At(cands, k);
      let m = total > 0 && e < matchedLen ? load<i32>(matched.dataStart + (<usize>e << 2)) : 0;
      setF64At(out, k, total > 0 ? <f64>min(m, total) / <f64>total : 0.0);
    }
  }
}

export function parsePrefixCacheScorer(r: ConfigReader, params: ConfigNode | null): Scorer {
  // Block size, block limit and LRU sizes belong to the pool's `prefixCache` section: the index
  // is shared by every profile of the pool.
  if (params != null) r.rejectUnknown(params, "");
  return new PrefixCacheScorer();
}
