// One model-server endpoint of a pool: where it is, what it is, and what we know about its load.
// Plain data; the scheduler reads it, the entry writes it from scrapes, ORCA reports and responses.

/** Model-server engine whose Prometheus names the scraper maps (see assembly/metrics/engines.ts). */
export enum Engine {
  Auto = 0,
  Vllm = 1,
  Sglang = 2,
  TrtllmServe = 3,
  TritonTrtllm = 4,
}

/** Parses an engine name from config; -1 when unknown. */
export function engineFromName(name: string): i32 {
  if (name == "auto") return Engine.Auto;
  if (name == "vllm") return Engine.Vllm;
  if (name == "sglang") return Engine.Sglang;
  if (name == "trtllm-serve") return Engine.TrtllmServe;
  if (name == "triton-trtllm") return Engine.TritonTrtllm;
  return -1;
}

export function engineName(e: i32): string {
  switch (e) {
    case Engine.Vllm: return "vllm";
    case Engine.Sglang: return "sglang";
    case Engine.TrtllmServe: return "trtllm-serve";
    case Engine.TritonTrtllm: return "triton-trtllm";
    default: return "auto";
  }
}

/** Never-set timestamp: metrics that were never scraped are infinitely old. */
export const NEVER: i64 = -1;

/**
 * A count (queue, running, max LoRA) nobody reported: missing from the sample, NaN or infinite,
 * or never scraped. Unknown is not zero: scorers and filters treat it as missing data.
 */
export const UNKNOWN_COUNT: i32 = -1;
/** A utilisation (KV-cache use) nobody reported; see UNKNOWN_COUNT. */
export const UNKNOWN_FRACTION: f64 = -1.0;

export class Endpoint {
  /** Position in the pool's endpoint list; stable for the life of a config/feed generation. */
  index: i32 = 0;
  /** `ip:port` or `[ipv6]:port`, validated ("" in route mode when only a backend is known). */
  address: string;
  /** Slot in the pool's prefix index; stable while the endpoint stays in the pool. */
  slot: i32 = -1;
  // Labels.
  zone: string = "";
  cluster: string = "";
  network: string = "";
  engine: i32 = Engine.Auto;
  /** Static weight (> 0): multiplies the score in the weighted-random picker (subsets, canaries). */
  weight: f64 = 1.0;
  /** Route mode: backend name written to the route header when this endpoint is picked. */
  backend: string = "";
  /** Scrape target: cluster to `http_call` for this endpoint's metrics (empty: none). */
  metricsCluster: string = "";

  // Load state from the model server's /metrics (or ORCA); UNKNOWN_* until reported.
  waiting: i32 = UNKNOWN_COUNT;
  running: i32 = UNKNOWN_COUNT;
  /** KV-cache use as a fraction 0..1, or UNKNOWN_FRACTION. */
  kvUsage: f64 = UNKNOWN_FRACTION;
  activeLoras: string[] = [];
  waitingLoras: string[] = [];
  /** Adapter slots (vLLM max_lora), or UNKNOWN_COUNT. */
  maxLora: i32 = UNKNOWN_COUNT;
  /** Wall-clock ms when the load state was last refreshed; NEVER if it never was. */
  metricsAtMs: i64 = NEVER;

  /** Requests this proxy (all workers) has sent and not yet seen end. */
  inFlight: i32 = 0;
  /** `inFlight` when this VM first scored the load state of `inFlightBaseAtMs` (queueEstimate). */
  private inFlightBase: i32 = 0;
  private inFlightBaseAtMs: i64 = NEVER;

  // Passive health (outlier detection).
  consecutiveFailures: i32 = 0;
  /** Ejected while now < ejectedUntilMs. */
  ejectedUntilMs: i64 = 0;
  /** Times ejected without a clean recovery since; drives the backoff. */
  ejectionCount: i32 = 0;

  constructor(address: string) {
    this.address = address;
  }

  /** Identity across workers and feed refreshes: the address, else the backend name. */
  get key(): string {
    return this.address.length > 0 ? this.address : this.backend;
  }

  /** Age of the load state at `nowMs`; i64.MAX_VALUE when never refreshed. */
  // @inline (here and isEjected): read for every candidate of every pick, where an out-of-line
  // call costs more than the body.
  // @ts-ignore: decorator
  @inline
  metricsAgeMs(nowMs: i64): i64 {
    if (this.metricsAtMs == NEVER) return i64.MAX_VALUE;
    let age = nowMs - this.metricsAtMs;
    return age < 0 ? 0 : age;
  }

  // @ts-ignore: decorator
  @inline
  isEjected(nowMs: i64): bool {
    return nowMs < this.ejectedUntilMs;
  }

  // @ts-ignore: decorator
  @inline
  get hasWaiting(): bool {
    return this.waiting >= 0;
  }

  // @ts-ignore: decorator
  @inline
  get hasKv(): bool {
    return this.kvUsage >= 0;
  }

  /**
   * The waiting queue to score: the reported one, plus the change in this proxy's in-flight
   * count since that report was first scored here (requests sent to the server since add to its
   * queue, requests ended leave it), never below 0. Unknown stays unknown. Used when scrapes are
   * spaced out by the scrape budget, so a server that looked idle at its last scrape does not
   * take every pick until the next one.
   */
  queueEstimate(): i32 {
    let q = this.waiting;
    if (q < 0) return q;
    if (this.inFlightBaseAtMs != this.metricsAtMs) {
      this.inFlightBaseAtMs = this.metricsAtMs;
      this.inFlightBase = this.inFlight;
    }
    let e = q + this.inFlight - this.inFlightBase;
    return e < 0 ? 0 : e;
  }

  hasActiveLora(name: string): bool {
    return this.activeLoras.includes(name);
  }

  hasWaitingLora(name: string): bool {
    return this.waitingLoras.includes(name);
  }
}
