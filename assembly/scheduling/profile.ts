// A scheduling profile: filters narrow the pool, weighted scorers rank what is left
// (total = sum of weight x score), the picker chooses the primary and fallbacks. With explain
// on, the cycle also records which filter dropped each endpoint and every scorer's score.
import { ConfigReader, ConfigNode, quote } from "../config/reader";
import { SchedulingContext } from "./context";
import { Filter, Scorer, Picker } from "./plugin";
import { f64At, i32At, setF64At, setI32At } from "./raw-access";
import { HealthFilter } from "./filters/health";
import { QueueScorer } from "./scorers/queue";
import { KvCacheScorer } from "./scorers/kv-cache";
import { PrefixCacheScorer } from "./scorers/prefix-cache";
import { MaxScorePicker } from "./pickers/max-score";
import { findFilter, findScorer, findPicker, filterNames, scorerNames, pickerNames } from "./registry";

export const MAX_SCORER_WEIGHT: f64 = 100;

export class WeightedScorer {
  /** Scores of the last cycle, parallel to the final candidates (explain only). */
  last: Float64Array = new Float64Array(0);
  constructor(public scorer: Scorer, public weight: f64) {}
}

export class PickResult {
  /** Endpoint indices: primary first, then fallbacks. Empty: no eligible endpoint. */
  picks: i32[] = [];
  /** Candidates left after the filters. */
  candidates: i32[] = [];
  /** Weighted totals parallel to `candidates`. */
  totals: Float64Array = new Float64Array(0);
  /** Per endpoint index: position of the filter that dropped it, -1 if none (explain only). */
  droppedBy: Int32Array = new Int32Array(0);
}

export class Profile {
  filters: Filter[] = [];
  scorers: WeightedScorer[] = [];
  picker: Picker = new MaxScorePicker();
  private a: i32[] = [];
  private b: i32[] = [];
  private scratch: Float64Array = new Float64Array(0);

  /** True when some scorer reads ctx.prefixMatched. */
  get needsPrefix(): bool {
    for (let i = 0; i < this.scorers.length; i++) if (this.scorers[i].scorer.needsPrefix) return true;
    return false;
  }

  /**
   * Runs one cycle over every endpoint of ctx, or over `subset` (endpoint indices in pool
   * order, the request's candidate subset hint) when given; writes up to `maxPicks` picks into
   * `res`.
   */
  run(ctx: SchedulingContext, maxPicks: i32, res: PickResult, subset: i32[] | null = null): void {
    // O(endpoints) per request: the loops use raw-access.ts (no calls, no per-element push).
    let n = ctx.endpoints.length;
    let cur = this.a;
    let next = this.b;
    if (subset != null) {
      let m = subset.length;
      cur.length = m;
      for (let i = 0; i < m; i++) setI32At(cur, i, i32At(subset, i));
    } else {
      cur.length = n;
      for (let i = 0; i < n; i++) setI32At(cur, i, i);
    }
    if (ctx.explain) {
      if (res.droppedBy.length != n) res.droppedBy = new Int32Array(n);
      for (let i = 0; i < n; i++) unchecked((res.droppedBy[i] = -1));
    }
    if (cur.length == 0) {
      res.candidates = cur;
      res.picks.length = 0;
      this.a = cur;
      return;
    }
    for (let f = 0; f < this.filters.length && cur.length > 0; f++) {
      this.filters[f].filter(ctx, cur, next);
      if (ctx.explain) markDropped(cur, next, f, res.droppedBy);
      let t = cur;
      cur = next;
      next = t;
    }
    this.a = cur;
    this.b = next;
    let m = cur.length;
    res.candidates = cur;
    if (res.totals.length < m) res.totals = new Float64Array(max(m, 8));
    if (this.scratch.length < m) this.scratch = new Float64Array(max(m, 8));
    let totals = res.totals;
    let scratch = this.scratch;
    for (let k = 0; k < m; k++) setF64At(totals, k, 0);
    for (let s = 0; s < this.scorers.length; s++) {
      let ws = this.scorers[s];
      let w = ws.weight;
      if (ctx.explain) {
        ws.scorer.score(ctx, cur, scratch);
        for (let k = 0; k < m; k++) setF64At(totals, k, f64At(totals, k) + w * f64At(scratch, k));
        if (ws.last.length < m) ws.last = new Float64Array(max(m, 8));
        for (let k = 0; k < m; k++) unchecked((ws.last[k] = scratch[k]));
        continue;
      }
      // Scores are finite and in [0, 1], so a scorer with weight 0, or one that scores every
      // candidate 0 (e.g. the prefix scorer without a prompt), adds exactly 0 to every total:
      // skip its pass. With explain on it runs anyway (its scores are shown).
      if (w == 0 || ws.scorer.scoresAllZero(ctx)) continue;
      ws.scorer.score(ctx, cur, scratch);
      for (let k = 0; k < m; k++) setF64At(totals, k, f64At(totals, k) + w * f64At(scratch, k));
    }
    this.picker.pick(ctx, cur, totals, maxPicks, res.picks);
  }
}

function markDropped(before: i32[], after: i32[], filter: i32, droppedBy: Int32Array): void {
  // Both lists keep pool order, so one merge pass finds what was dropped.
  let j = 0;
  for (let i = 0; i < before.length; i++) {
    let e = unchecked(before[i]);
    if (j < after.length && unchecked(after[j]) == e) {
      j++;
    } else if (e < droppedBy.length) {
      unchecked((droppedBy[e] = filter));
    }
  }
}

/**
 * The EPP's default profile (llm-d-router pkg/epp/config/loader/defaults.go): queue 2,
 * kv-cache 2, prefix-cache 3, max-score; plus our health filter (drops ejected endpoints).
 */
export function defaultProfile(): Profile {
  let p = new Profile();
  p.filters.push(new HealthFilter());
  p.scorers.push(new WeightedScorer(new QueueScorer(), 2));
  p.scorers.push(new WeightedScorer(new KvCacheScorer(), 2));
  p.scorers.push(new WeightedScorer(new PrefixCacheScorer(), 3));
  p.picker = new MaxScorePicker();
  return p;
}

/** Reads a plugin reference (`keys`: its allowed keys, blank-separated) and returns its type. */
function pluginRef(r: ConfigReader, node: ConfigNode, keys: string): string {
  if (!r.requireObject(node)) return "";
  r.rejectUnknown(node, keys);
  let t = r.requireString(node, "type");
  let params = node.child("params");
  if (params != null && r.ok) r.requireObject(params);
  return t;
}

function unknown(r: ConfigReader, node: ConfigNode, kind: string, name: string, known: string[]): void {
  r.fail(node.child("type")!, "unknown " + kind + " " + quote(name) + " (known: " + known.join(", ") + ")");
}

/** Parses `{filters, scorers, picker}`; absent → default profile. */
export function parseProfile(r: ConfigReader, node: ConfigNode | null): Profile {
  if (node == null) return defaultProfile();
  let p = new Profile();
  if (!r.requireObject(node)) return p;
  r.rejectUnknownKeys(node, ["filters", "scorers", "picker"]);
  let filters = r.optArray(node, "filters");
  if (filters == null && r.ok) p.filters.push(new HealthFilter());
  if (filters != null) {
    for (let i = 0; i < filters.length && r.ok; i++) {
      let f = filters.at(i)!;
      let t = pluginRef(r, f, "type params");
      if (!r.ok) break;
      let parse = findFilter(t);
      if (parse == null) { unknown(r, f, "filter", t, filterNames()); break; }
      p.filters.push(parse(r, f.child("params")));
    }
  }
  let scorers = r.optArray(node, "scorers");
  if (scorers != null) {
    for (let i = 0; i < scorers.length && r.ok; i++) {
      let s = scorers.at(i)!;
      let t = pluginRef(r, s, "type params weight");
      if (!r.ok) break;
      let parse = findScorer(t);
      if (parse == null) { unknown(r, s, "scorer", t, scorerNames()); break; }
      let w = r.optNumber(s, "weight", 1, 0, MAX_SCORER_WEIGHT);
      let scorer = parse(r, s.child("params"));
      p.scorers.push(new WeightedScorer(scorer, w));
    }
  } else if (r.ok) {
    let d = defaultProfile();
    p.scorers = d.scorers;
  }
  let picker = r.optObject(node, "picker");
  if (picker != null && r.ok) {
    let t = pluginRef(r, picker, "type params");
    if (r.ok) {
      let parse = findPicker(t);
      if (parse == null) unknown(r, picker, "picker", t, pickerNames());
      else p.picker = parse(r, picker.child("params"));
    }
  }
  return p;
}
