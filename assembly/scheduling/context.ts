// Everything one scheduling cycle reads: the pool's endpoints and the request's features.
// Reused across requests (reset(), not re-allocated) so the hot path does not allocate.
import { Endpoint } from "../endpoints/endpoint";
import { Rng } from "./rng";
import { endpointAt } from "./raw-access";
import { SaturationThresholds } from "./saturation";

export class SchedulingContext {
  endpoints: Endpoint[] = [];
  nowMs: i64 = 0;
  /** Target model after rewrites; also the LoRA adapter name LoRA scoring looks for. */
  model: string = "";
  /** Session affinity key (header or cookie value); "" when none. */
  sessionKey: string = "";
  /** Prefix match per endpoint index (blocks), filled before scoring when the profile needs it. */
  prefixMatched: Int32Array = new Int32Array(0);
  /** Block count of the request's prompt (0: too short, prefix scores are 0). */
  prefixTotal: i32 = 0;
  saturation: SaturationThresholds = new SaturationThresholds();
  /** Locality of this proxy, for the locality filter. */
  localZone: string = "";
  localCluster: string = "";
  rng: Rng = new Rng();
  /** Record per-scorer scores and drop reasons for the explanation string. */
  explain: bool = false;
  /**
   * Queue scores follow this proxy's in-flight counts between scrapes (Endpoint.queueEstimate):
   * set while the scrape budget stretches the effective interval past the configured one.
   */
  carryInFlight: bool = false;

  /** Sizes per-endpoint scratch for `endpoints` and clears request features. */
  reset(endpoints: Endpoint[], nowMs: i64): void {
    this.endpoints = endpoints;
    this.nowMs = nowMs;
    this.model = "";
    this.sessionKey = "";
    this.prefixTotal = 0;
    if (this.prefixMatched.length < endpoints.length) this.prefixMatched = new Int32Array(endpoints.length);
  }

  /** Endpoint at index `i` (< endpoints.length): a plain load, no call (see raw-access.ts). */
  @inline
  ep(i: i32): Endpoint {
    return endpointAt(this.endpoints, i);
  }
}
