// One pool at run time in one VM: its endpoint list (static + feed), the prefix index, the
// scheduling context and the pick. Pure: the picker stage feeds it shared state and request
// features and applies the decision it returns.
import { Endpoint } from "../endpoints/endpoint";
import { PrefixIndex } from "../prefix/index";
import { hashPromptBlocks, hashSeed } from "../prefix/hash";
import { SchedulingContext } from "../scheduling/context";
import { endpointAt } from "../scheduling/raw-access";
import { PickResult } from "../scheduling/profile";
import { Admission, admit } from "../scheduling/admission";
import { poolSaturated } from "../scheduling/saturation";
import { explainPick } from "../scheduling/explain";
import { lastIndexOfChar } from "../util/last-index-of-char";
import { HashIndex } from "./hash-index";
import { PoolConfig, PrefixMatching, SteeringMode } from "./config";
import { keyHash } from "./state";

export class PickRequest {
  model: string = "";
  sessionKey: string = "";
  priority: i32 = 0;
  /** UTF-8 prompt text (prefix scoring); 0/0 when none. */
  promptBase: usize = 0;
  promptLen: i32 = 0;
  /**
   * Offsets into the prompt where a further prompt starts (multi-prompt completions): each
   * prompt is its own chain of blocks, as in the EPP. Empty for one prompt.
   */
  promptBreaks: i32[] = [];
  /** The request's cache_salt bytes (seeds the chains); 0/0 when none. */
  saltBase: usize = 0;
  saltLen: i32 = 0;
  /**
   * The candidate subset hint (`x-gateway-destination-endpoint-subset`): comma-separated
   * `ip[:port]`; null when absent. Present but naming none of the pool's endpoints leaves no
   * candidate, as in the EPP.
   */
  subset: string | null = null;
}

export class Decision {
  admission: Admission = Admission.Route;
  /** Endpoint indices, primary first. */
  picks: i32[] = [];
  /** Steering header value: `ip:port[,ip:port...]` or the backend name. */
  headerValue: string = "";
  poolSaturated: bool = false;
  explanation: string = "";
  /** Prompt block hashes of this request (for learning and the cross-worker journal). */
  hashCount: i32 = 0;
}

export class PoolRuntime {
  config: PoolConfig;
  endpoints: Endpoint[] = [];
  /** Endpoint key → index. */
  byKey: Map<string, i32> = new Map<string, i32>();
  /** keyHash(key) → index. */
  byHash: HashIndex = new HashIndex(0);
  index: PrefixIndex | null = null;
  ctx: SchedulingContext = new SchedulingContext();
  res: PickResult = new PickResult();
  hashes: StaticArray<u64>;
  /** End (exclusive) of each prompt's chain in `hashes` for the current request. */
  private chainEnds: i32[] = [];
  /** Candidate indices from the subset hint (reused). */
  private subsetList: i32[] = [];
  private allList: i32[] = [];
  private nextSlot: i32 = 0;
  private freeSlots: i32[] = [];
  /** Endpoints from config (kept across feed refreshes). */
  private staticEndpoints: Endpoint[];

  constructor(config: PoolConfig) {
    this.config = config;
    this.hashes = new StaticArray<u64>(config.prefix.maxBlocks);
    this.staticEndpoints = config.endpoints;
    if (config.profile.needsPrefix) {
      this.index = new PrefixIndex(config.prefix.lruCapacityPerEndpoint, config.prefix.maxTotalBlocks);
    }
    this.ctx.saturation = config.saturation;
    this.ctx.localZone = config.localZone;
    this.ctx.localCluster = config.localCluster;
    this.setEndpoints([]);
  }

  /**
   * Installs static + `fed` endpoints. State (load, health, in-flight, prefix slot) carries over
   * for keys already present; removed endpoints' prefix entries are dropped.
   */
  setEndpoints(fed: Endpoint[]): void {
    let next: Endpoint[] = [];
    let nextKeys = new Map<string, i32>();
    for (let pass = 0; pass < 2; pass++) {
      let list = pass == 0 ? this.staticEndpoints : fed;
      for (let i = 0; i < list.length; i++) {
        let e = list[i];
        let k = e.key;
        if (nextKeys.has(k)) continue;
        let keep = e;
        if (this.byKey.has(k)) {
          let old = this.endpoints[this.byKey.get(k)];
          if (old !== e) {
            // Labels from the new row, state from the old one.
            old.zone = e.zone;
            old.cluster = e.cluster;
            old.network = e.network;
            old.weight = e.weight;
            old.backend = e.backend;
            old.metricsCluster = e.metricsCluster;
            if (e.engine >= 0) old.engine = e.engine;
          }
          keep = old;
        }
        if (keep.engine < 0) keep.engine = this.config.scrape.engine;
        nextKeys.set(k, next.length);
        next.push(keep);
      }
    }
    // Release slots of endpoints that left.
    for (let i = 0; i < this.endpoints.length; i++) {
      let old = this.endpoints[i];
      if (!nextKeys.has(old.key) && old.slot >= 0) {
        let idx = this.index;
        if (idx != null) idx.removeSlot(old.slot);
        this.freeSlots.push(old.slot);
        old.slot = -1;
      }
    }
    this.byKey = nextKeys;
    this.byHash = new HashIndex(next.length);
    for (let i = 0; i < next.length; i++) {
      let e = next[i];
      e.index = i;
      if (e.slot < 0) e.slot = this.freeSlots.length > 0 ? this.freeSlots.pop() : this.nextSlot++;
      this.byHash.set(keyHash(e.key), i);
    }
    this.endpoints = next;
  }

  /** Largest prefix slot in use + 1 (size of per-slot match arrays). */
  get slotCount(): i32 {
    return this.nextSlot;
  }

  find(key: string): i32 {
    return this.byKey.has(key) ? this.byKey.get(key) : -1;
  }

  /** Runs admission and the profile for one request. */
  decide(req: PickRequest, nowMs: i64, d: Decision): void {
    let cfg = this.config;
    let ctx = this.ctx;
    ctx.reset(this.endpoints, nowMs);
    ctx.model = req.model;
    ctx.sessionKey = req.sessionKey;
    ctx.explain = cfg.debug.explain;
    d.hashCount = 0;
    d.explanation = "";
    let profile = cfg.profile;
    let idx = this.index;
    if (idx != null && req.promptLen > 0) {
      let n = this.hashPrompt(req);
      d.hashCount = n;
      ctx.prefixTotal = n;
      if (n > 0) this.matchPrefix(n);
    }
    // The EPP locates the candidates (subset hint), checks saturation over them and refuses a
    // sheddable request before it schedules (requestcontrol/admission.go); same order here.
    let subset = req.subset != null ? this.locate(req.subset!) : null;
    let located = subset != null ? subset : this.everyEndpoint();
    d.poolSaturated = poolSaturated(this.endpoints, located, cfg.saturation, nowMs);
    profile.run(ctx, cfg.maxEndpoints, this.res, subset);
    let res = this.res;
    d.admission = admit(req.priority, d.poolSaturated, res.picks.length, cfg.failOpen);
    d.picks = res.picks;
    d.headerValue = "";
    if (d.admission == Admission.Route) {
      if (cfg.mode == SteeringMode.Route) {
        d.headerValue = this.endpoints[res.picks[0]].backend;
      } else {
        let v = "";
        for (let i = 0; i < res.picks.length; i++) {
          if (i > 0) v += ",";
          v += this.endpoints[res.picks[i]].address;
        }
        d.headerValue = v;
      }
    }
    if (ctx.explain) d.explanation = explainPick(ctx, profile, res, cfg.debug.explainTop, cfg.debug.explainDigits);
  }

  /**
   * Hashes the request's prompt(s) into `hashes`: one chain per prompt, each seeded with the
   * model and cache salt, at most `maxBlocks` blocks in all. Returns the block count.
   */
  private hashPrompt(req: PickRequest): i32 {
    let cfg = this.config.prefix;
    let seed = hashSeed(req.model, req.saltBase, req.saltLen);
    let ends = this.chainEnds;
    ends.length = 0;
    let n = 0;
    let from = 0;
    let breaks = req.promptBreaks;
    for (let i = 0; i <= breaks.length; i++) {
      let to = i < breaks.length ? min(unchecked(breaks[i]), req.promptLen) : req.promptLen;
      if (to > from) {
        let k = hashPromptBlocks(seed, req.promptBase + <usize>from, to - from, cfg.blockSize, cfg.maxBlocks, this.hashes, n);
        if (k > 0) {
          n += k;
          ends.push(n);
        }
      }
      if (to > from) from = to;
    }
    return n;
  }

  /** Pool indices of the endpoints the subset hint names (by IP, port ignored, as the EPP). */
  private locate(hint: string): i32[] {
    let out = this.subsetList;
    out.length = 0;
    let eps = this.endpoints;
    for (let i = 0; i < eps.length; i++) {
      if (subsetNames(hint, hostOf(eps[i].address))) out.push(i);
    }
    return out;
  }

  private everyEndpoint(): i32[] {
    let out = this.allList;
    let n = this.endpoints.length;
    if (out.length != n) {
      out.length = n;
      for (let i = 0; i < n; i++) out[i] = i;
    }
    return out;
  }

  /** ctx.prefixMatched is indexed by endpoint index; the index by slot. Map one to the other. */
  private slotMatched: Int32Array = new Int32Array(0);

  private matchPrefix(n: i32): void {
    let idx = this.index!;
    let slots = this.nextSlot;
    if (this.slotMatched.length != slots) this.slotMatched = new Int32Array(slots);
    if (this.config.prefix.matching == PrefixMatching.LeadingRun) {
      idx.match(this.hashes, n, this.slotMatched);
    } else {
      memory.fill(this.slotMatched.dataStart, 0, <usize>slots << 2);
      let ends = this.chainEnds;
      let from = 0;
      for (let c = 0; c < ends.length; c++) {
        let to = unchecked(ends[c]);
        idx.matchAnyHolder(this.hashes, from, to, this.slotMatched);
        from = to;
      }
    }
    // Per request over every endpoint: plain loads (see scheduling/raw-access.ts).
    let eps = this.endpoints;
    let count = eps.length;
    let out = this.ctx.prefixMatched.dataStart;
    let bySlot = this.slotMatched.dataStart;
    for (let i = 0; i < count; i++) {
      let s = endpointAt(eps, i).slot;
      store<i32>(out + (<usize>i << 2), s >= 0 && s < slots ? load<i32>(bySlot + (<usize>s << 2)) : 0);
    }
  }

  /** Teaches the prefix index that endpoint `e` now holds the first `n` blocks of `hashes`. */
  learn(e: i32, hashes: StaticArray<u64>, n: i32): void {
    let idx = this.index;
    if (idx == null || n <= 0 || e < 0 || e >= this.endpoints.length) return;
    idx.add(hashes, n, this.endpoints[e].slot);
  }
}

/** `ip` of an `ip:port` address (IPv6 in brackets keeps its brackets off). */
export function hostOf(address: string): string {
  let c = lastIndexOfChar(address, 0x3a /* : */);
  let h = c > 0 ? address.substring(0, c) : address;
  if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length - 1);
  return h;
}

/** Whether the comma-separated `ip[:port]` list `hint` names host `ip`. No allocation per item. */
export function subsetNames(hint: string, ip: string): bool {
  let n = hint.length;
  let i = 0;
  while (i < n) {
    let end = hint.indexOf(",", i);
    if (end < 0) end = n;
    let a = i;
    let b = end;
    while (a < b && hint.charCodeAt(a) == 0x20) a++;
    while (b > a && hint.charCodeAt(b - 1) == 0x20) b--;
    // The EPP cuts at the last ':' (ip:port); a bracketed IPv6 item loses its brackets.
    let colon = -1;
    for (let k = b - 1; k >= a; k--) if (hint.charCodeAt(k) == 0x3a) { colon = k; break; }
    let hb = colon > a && hint.charCodeAt(a) != 0x5b ? colon : b;
    if (hint.charCodeAt(a) == 0x5b) {
      let close = hint.indexOf("]", a);
      if (close > a && close < b) { a = a + 1; hb = close; }
    } else if (colon > a && hint.indexOf(":", a) != colon) {
      hb = b; // a bare IPv6 address: no port
    }
    let len = hb - a;
    if (len == ip.length && len > 0) {
      let same = true;
      for (let k = 0; k < len; k++) {
        if (hint.charCodeAt(a + k) != ip.charCodeAt(k)) { same = false; break; }
      }
      if (same) return true;
    }
    i = end + 1;
  }
  return false;
}
