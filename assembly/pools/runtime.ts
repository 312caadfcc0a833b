// One pool at run time in one VM: its endpoint list (static + feed), the prefix index, the
// scheduling context and the pick. Pure: the picker stage feeds it shared state and request
// features and applies the decision it returns.
import { Endpoint } from "../endpoints/endpoint";
import { PrefixIndex } from "../prefix/index";
import { hashPromptBytes } from "../prefix/hash";
import { SchedulingContext } from "../scheduling/context";
import { endpointAt } from "../scheduling/raw-access";
import { PickResult } from "../scheduling/profile";
import { Admission, admit } from "../scheduling/admission";
import { allSaturated } from "../scheduling/saturation";
import { explainPick } from "../scheduling/explain";
import { PoolConfig, SteeringMode } from "./config";
import { keyHash } from "./state";

export class PickRequest {
  model: string = "";
  sessionKey: string = "";
  priority: i32 = 0;
  /** UTF-8 prompt text (prefix scoring); 0/0 when none. */
  promptBase: usize = 0;
  promptLen: i32 = 0;
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
  byHash: Map<u64, i32> = new Map<u64, i32>();
  index: PrefixIndex | null = null;
  ctx: SchedulingContext = new SchedulingContext();
  res: PickResult = new PickResult();
  hashes: StaticArray<u64> = new StaticArray<u64>(256);
  private nextSlot: i32 = 0;
  private freeSlots: i32[] = [];
  /** Endpoints from config (kept across feed refreshes). */
  private staticEndpoints: Endpoint[];

  constructor(config: PoolConfig) {
    this.config = config;
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
    this.byHash = new Map<u64, i32>();
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
      let n = hashPromptBytes(req.model, req.promptBase, req.promptLen, cfg.prefix.blockSize, cfg.prefix.maxBlocks, this.hashes);
      d.hashCount = n;
      ctx.prefixTotal = n;
      if (n > 0) this.matchPrefix(n);
    }
    profile.run(ctx, cfg.maxEndpoints, this.res);
    let res = this.res;
    d.poolSaturated = cfg.saturation.metricsRequired && allSaturated(this.endpoints, res.candidates, cfg.saturation, nowMs);
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
    if (ctx.explain) d.explanation = explainPick(ctx, profile, res);
  }

  /** ctx.prefixMatched is indexed by endpoint index; the index by slot. Map one to the other. */
  private slotMatched: Int32Array = new Int32Array(0);

  private matchPrefix(n: i32): void {
    let idx = this.index!;
    let slots = this.nextSlot;
    if (this.slotMatched.length != slots) this.slotMatched = new Int32Array(slots);
    idx.match(this.hashes, n, this.slotMatched);
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
