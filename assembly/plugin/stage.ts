// A Stage is the runtime half of one config section: the parsed section, with hooks the plugin
// calls per stream (and per root for background work). Stages run in the order of the section
// registry (sections.ts). Defaults do nothing, so a stage overrides only what it needs.
//
// Per-stream data a stage needs (buffered body, chosen endpoint ...) goes in
// `stream.slots[stage.index]`, a StageSlot subclass the stage allocates on first use.

import {
  FilterDataStatus,
  FilterHeadersStatus,
} from "../../proxy-wasm/index";
import { TrustRule } from "../pools/config";

/** Base of a stage's per-stream state. */
export class StageSlot {}

/**
 * Request headers that steer the plugin or the proxy, which a client may not send (see
 * stages/steering.ts). Each stage adds the names it reads or sets.
 */
export class ClientHeaders {
  /** Steering and model headers: kept only for callers the `steering` section trusts. */
  steering: string[] = [];
  /** Priority and objective headers: kept for those callers and for `priorityTrust` matches. */
  priority: string[] = [];
  /** A pool's own `trustedCallers`, who may choose a priority there (pools section). */
  priorityTrust: TrustRule[] = [];

  addSteering(name: string): void {
    if (!this.steering.includes(name)) this.steering.push(name);
  }

  addPriority(name: string): void {
    if (!this.priority.includes(name) && !this.steering.includes(name)) this.priority.push(name);
  }
}

/** What every stage sees of one HTTP stream. */
export class StreamState {
  /** Set by a stage that sent a local reply: the remaining stages are skipped. */
  replied: bool = false;
  /** One slot per stage (index = Stage.index); null until the stage stores something. */
  slots: Array<StageSlot | null>;
  /**
   * True from the request-headers callback that returned StopIteration in hold mode (see
   * holdHeadersForBody) until a request-body callback returns Continue: the host still holds
   * the request headers, so every stage may change them in this callback. Set by the stream
   * from what the stages returned, never by probing the host.
   */
  requestHeadersHeld: bool = false;
  /** The caller matched `steering.trustedCallers`: its steering headers were kept. */
  callerTrusted: bool = false;
  /** Client-sent steering and priority headers the steering stage removed from this request. */
  steeringRemoved: i32 = 0;

  constructor(
    public readonly contextId: u32,
    stageCount: i32,
    /**
     * The config's `holdHeadersForBody`: the host (Envoy 1.35+ with
     * `allow_on_headers_stop_iteration: true`) keeps StopIteration from request headers, so a
     * stage can read the whole body and still set request headers and clear the route cache.
     * False: request headers are final once their callback returns.
     */
    public readonly holdHeadersForBody: bool = false,
  ) {
    this.slots = new Array<StageSlot | null>(stageCount);
  }
}

export class Stage {
  /** Position in PluginConfig.stages; set by the config builder. */
  index: i32 = 0;

  constructor(
    /** The top-level config key this stage came from, e.g. "headers". */
    public readonly section: string,
  ) {}

  onRequestHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  onRequestBody(stream: StreamState, bodySize: usize, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(stream: StreamState, bodySize: usize, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  /** Stream finished (access-log time): final status and upstream are known. */
  onLog(stream: StreamState): void {}

  /** Stream is gone (its last callback): give back large buffers its slot holds. */
  onDelete(stream: StreamState): void {}

  /** Adds the request headers this stage reads or sets that a client must not send. */
  declareClientHeaders(headers: ClientHeaders): void {}

  /** Root context: this config became active. Start timers, define metrics, etc. here. */
  onActivate(): void {}

  /** Root context timer; says the tick period it needs next with wantTickEvery (tick.ts). */
  onTick(): void {}

  /** Root context: an http call finished. Return true if the token was this stage's. */
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): bool {
    return false;
  }

  /** Root context: a shared queue has items. */
  onQueueReady(queueId: u32): void {}
}
