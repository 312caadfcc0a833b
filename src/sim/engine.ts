/**
 * The behaviour model of one simulated model server: a vLLM-like continuous-batching engine.
 *
 * The engine runs iterations back to back in model time. Each iteration admits waiting requests
 * (first come, first served) while the batch has room, the KV cache can hold them and their LoRA
 * adapter has a slot; then it spends `decodeBaseMs + decodePerSeqMs * running` plus
 * `prefillMsPerToken` for each prompt token it prefills (up to `maxBatchedTokens` per iteration,
 * chunked prefill). At the end of the iteration every decoding request gets one token and every
 * request whose prefill finished gets its first token. A wall-clock timer advances model time at
 * `speedup` times real time.
 */
import { KvCache } from "./kv-cache.js";
import type { SimParams } from "./params.js";
import { blockHashes, tokenText } from "./prompt.js";

/** Callbacks through which the engine hands a request's output back to its HTTP exchange. */
export interface SimSink {
  /** Tokens produced this tick (the first call is the first token). */
  tokens(texts: string[]): void;
  /** Generation finished (all tokens delivered). */
  done(): void;
}

/** What the engine needs to schedule one request. */
export interface SimJob {
  /** Adapter name, or null for the base model. */
  adapter: string | null;
  text: string;
  maxTokens: number;
  sink: SimSink;
}

interface Running {
  job: SimJob;
  hashes: number[];
  promptTokens: number;
  privateBlocks: number;
  prefillLeft: number;
  produced: number;
  pending: string[];
  seed: number;
  cachedTokens: number;
  cancelled: boolean;
}

/** A snapshot of the engine's gauges and counters. */
export interface SimStats {
  waiting: number;
  running: number;
  kvUsage: number;
  runningAdapters: string[];
  waitingAdapters: string[];
  loadedAdapters: string[];
  prefixQueriedTokens: number;
  prefixHitTokens: number;
  promptTokens: number;
  generationTokens: number;
  requestsFinished: number;
  requestsRefused: number;
}

/** Handle for a submitted request. */
export interface SimTicket {
  /** Prompt tokens found in the prefix cache at admission (known after the first token). */
  readonly cachedTokens: number;
  readonly promptTokens: number;
  /** Stops generation (client went away); frees the slot and cache blocks. */
  cancel(): void;
}

export class SimEngine {
  readonly kv: KvCache;
  private readonly waiting: Running[] = [];
  private readonly running: Running[] = [];
  /** Adapters on the GPU, least recently used first. */
  private readonly loaded = new Map<string, number>();
  private modelNow = 0;
  private wallStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private promptTokensTotal = 0;
  private generationTokensTotal = 0;
  private finished = 0;
  /** Adapter load time to add to the next iteration. */
  private loadMs = 0;
  refused = 0;

  constructor(readonly params: SimParams) {
    this.kv = new KvCache(params.kvBlocks);
  }

  /** Starts the wall-clock loop. */
  start(): void {
    if (this.timer) return;
    this.wallStart = performance.now();
    this.modelNow = 0;
    this.timer = setInterval(() => this.advance(), this.params.tickMs);
    this.timer.unref();
  }

  /** Stops the loop; requests in flight are abandoned. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Queues a request. Returns null when the queue is full (the caller answers 503). */
  submit(job: SimJob): SimTicket | null | "too-long" {
    const p = this.params;
    const blockChars = p.blockTokens * p.charsPerToken;
    const promptTokens = Math.max(1, Math.ceil(job.text.length / p.charsPerToken));
    const hashes = blockHashes(job.text, blockChars, job.adapter ?? p.model);
    const tailTokens = promptTokens - hashes.length * p.blockTokens;
    const privateBlocks = Math.ceil((Math.max(0, tailTokens) + job.maxTokens) / p.blockTokens);
    if (hashes.length + privateBlocks > p.kvBlocks) return "too-long";
    if (this.waiting.length >= p.maxWaiting) {
      this.refused++;
      return null;
    }
    const r: Running = {
      job, hashes, promptTokens, privateBlocks, prefillLeft: promptTokens, produced: 0, pending: [],
      seed: this.seq++ % 16, cachedTokens: 0, cancelled: false,
    };
    this.waiting.push(r);
    return {
      get cachedTokens() { return r.cachedTokens; },
      promptTokens,
      cancel: () => this.cancel(r),
    };
  }

  private cancel(r: Running): void {
    if (r.cancelled) return;
    r.cancelled = true;
    const wi = this.waiting.indexOf(r);
    if (wi >= 0) {
      this.waiting.splice(wi, 1);
      return;
    }
    const ri = this.running.indexOf(r);
    if (ri >= 0) {
      this.running.splice(ri, 1);
      this.kv.release(r.hashes, r.privateBlocks);
    }
  }

  /** Advances model time to match the wall clock, running as many iterations as fit. */
  advance(): void {
    const target = (performance.now() - this.wallStart) * this.params.speedup;
    let guard = 0;
    while (this.modelNow < target && guard++ < 10_000) {
      this.admit();
      if (this.running.length === 0) {
        this.modelNow = target;
        break;
      }
      this.modelNow += this.iterate();
    }
    this.flush();
  }

  private adapterUsable(adapter: string | null): boolean {
    if (adapter === null || this.loaded.has(adapter)) return true;
    if (this.loaded.size < this.params.maxLoras) return true;
    const busy = new Set(this.running.map((r) => r.job.adapter));
    for (const a of this.loaded.keys()) if (!busy.has(a)) return true;
    return false;
  }

  private loadAdapter(adapter: string): number {
    if (this.loaded.has(adapter)) {
      this.loaded.delete(adapter);
      this.loaded.set(adapter, this.modelNow);
      return 0;
    }
    if (this.loaded.size >= this.params.maxLoras) {
      const busy = new Set(this.running.map((r) => r.job.adapter));
      for (const a of this.loaded.keys()) {
        if (!busy.has(a)) {
          this.loaded.delete(a);
          break;
        }
      }
    }
    this.loaded.set(adapter, this.modelNow);
    return this.params.loraLoadMs;
  }

  private admit(): void {
    const p = this.params;
    for (let i = 0; i < this.waiting.length && this.running.length < p.maxBatch; ) {
      const r = this.waiting[i]!;
      if (!this.adapterUsable(r.job.adapter)) {
        i++; // like vLLM: a request whose adapter has no slot is skipped, later ones may go
        continue;
      }
      if (!this.kv.fits(r.hashes, r.privateBlocks)) break; // KV cache full: FCFS head-of-line wait
      this.waiting.splice(i, 1);
      if (r.job.adapter !== null) this.loadMs += this.loadAdapter(r.job.adapter);
      const hitBlocks = this.kv.acquire(r.hashes, r.privateBlocks, r.promptTokens, p.blockTokens);
      r.cachedTokens = Math.min(r.promptTokens - 1, hitBlocks * p.blockTokens);
      r.prefillLeft = r.promptTokens - r.cachedTokens;
      this.promptTokensTotal += r.promptTokens;
      this.running.push(r);
    }
  }

  /** One engine iteration; returns its model-time duration. */
  private iterate(): number {
    const p = this.params;
    let budget = p.maxBatchedTokens;
    let prefilled = 0;
    for (const r of this.running) {
      if (r.prefillLeft > 0) {
        if (budget <= 0) continue;
        const n = Math.min(budget, r.prefillLeft);
        r.prefillLeft -= n;
        budget -= n;
        prefilled += n;
        if (r.prefillLeft === 0) this.kv.computed(r.hashes);
      }
    }
    const duration = p.decodeBaseMs + p.decodePerSeqMs * this.running.length + p.prefillMsPerToken * prefilled + this.loadMs;
    this.loadMs = 0;
    const done: Running[] = [];
    for (const r of this.running) {
      if (r.prefillLeft > 0) continue;
      r.pending.push(tokenText(r.produced, r.seed));
      r.produced++;
      this.generationTokensTotal++;
      if (r.produced >= r.job.maxTokens) done.push(r);
    }
    for (const r of done) this.finish(r);
    return duration;
  }

  private finish(r: Running): void {
    const i = this.running.indexOf(r);
    if (i >= 0) this.running.splice(i, 1);
    const p = this.params;
    // Blocks the output completed become cacheable too (the next turn of a chat reuses them).
    let out = "";
    for (let t = 0; t < r.produced; t++) out += tokenText(t, r.seed);
    const full = blockHashes(r.job.text + out + "\n", p.blockTokens * p.charsPerToken, r.job.adapter ?? p.model);
    this.kv.release(r.hashes, r.privateBlocks, full.slice(r.hashes.length));
    this.finished++;
    const pending = r.pending;
    r.pending = [];
    if (pending.length) r.job.sink.tokens(pending);
    r.job.sink.done();
  }

  /** Hands the tokens of this tick to their sinks, one call per request. */
  private flush(): void {
    for (const r of this.running) {
      if (r.pending.length) {
        const texts = r.pending;
        r.pending = [];
        r.job.sink.tokens(texts);
      }
    }
  }

  stats(): SimStats {
    const running = new Set<string>();
    for (const r of this.running) if (r.job.adapter) running.add(r.job.adapter);
    const waiting = new Set<string>();
    for (const r of this.waiting) if (r.job.adapter) waiting.add(r.job.adapter);
    return {
      waiting: this.waiting.length,
      running: this.running.length,
      kvUsage: this.kv.usage,
      runningAdapters: [...running],
      waitingAdapters: [...waiting],
      loadedAdapters: [...this.loaded.keys()],
      prefixQueriedTokens: this.kv.queriedTokens,
      prefixHitTokens: this.kv.hitTokens,
      promptTokens: this.promptTokensTotal,
      generationTokens: this.generationTokensTotal,
      requestsFinished: this.finished,
      requestsRefused: this.refused,
    };
  }
}
