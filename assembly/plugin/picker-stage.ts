// Stage for the `pools` section: the inference-aware endpoint picker.
//
// Per request (client-sent steering headers are already gone: stages/steering.ts): match a pool; read the shared pool
// state, pick at request-header time and steer (endpoint mode: x-gateway-destination-endpoint =
// primary,fallbacks; route mode: the backend header + clear_route_cache) or shed (429) / refuse
// (503) / hand over (FailOpen). When the profile needs the body (prefix cache, LoRA, priorities
// by model), a body-time pass hashes the prompt, learns it, may shed, and re-steers where the
// host still allows header changes (stock Envoy does not: see docs/picker.md).
// Hold mode (holdHeadersForBody, Envoy 1.35+ allow_on_headers_stop_iteration): a request whose
// body is read (by bodyRouting, or here when there is none) is not picked at header time; its
// headers wait, writable, and the one pick is made after the body with the prompt and model.
// Requests released by a trailers callback go unsteered (stages have no trailers hook).
// On the response: ORCA load report, explanation header. At stream end (on_log, which Envoy
// calls for upstream replies, local replies and resets alike): in-flight count back down,
// passive health from the final status, prefix learned for the endpoint that actually served.
// Off the request path (root tick + http calls): scraping under a shared lease, endpoint feed,
// prefix-journal replay. See docs/picker.md.
import {
  BufferType, FilterDataStatus, FilterHeadersStatus, MapType, clearRouteCache, getBufferBytes, recycleHostBlock,
  getCurrentTimeNanoseconds, getHeader, getProperty, getPropertyEncoded, getPropertyString, encodePropertyPath, removeHeader, replaceHeader,
  sendLocalResponse, getSharedData, setSharedData, Status, decodePropertyU64,
  HeaderPair, continueStream, StreamType,
} from "../../proxy-wasm/index";
import { ConfigNode, ConfigReader } from "../config/reader";
import { ByteBuffer } from "../json/byte-buffer";
import { BodyScan, scanBodyBuffer, modelString } from "../body/scanner";
import { isHeaderSafeModel } from "../rewrite/header-name";
import { isIdentityEncoding, mediaType } from "../body/routing";
import { PromptParts, prefixPrompt, promptApiForPath } from "../body/prefix-prompt";
import { isFailureStatus } from "../endpoints/health";
import { parseOrcaHeader } from "../orca/orca";
import { applyOrcaReport } from "../orca/load";
import { PoolConfig, SteeringMode, parsePools, ENDPOINT_HEADER, OBJECTIVE_HEADER, OLD_OBJECTIVE_HEADER, SUBSET_HEADER } from "../pools/config";
import { parseEndpointFeed } from "../pools/feed";
import { poolMatches } from "../pools/match";
import { PoolRuntime, PickRequest, Decision } from "../pools/runtime";
import { keyHash } from "../pools/state";
import { Admission, resolvePriority } from "../scheduling/admission";
import { staleCount } from "../scheduling/saturation";
import { ConfigSection } from "./section";
import { ClientHeaders, Stage, StageSlot, StreamState } from "./stage";
import { PickerMetric, PickerMetrics } from "./picker-metrics";
import { JOURNAL_SLOTS, PoolShared } from "./picker-shared";
import { tickAtLeastEvery, wantTickEvery } from "./tick";
import { PoolScraper } from "./picker-scrape";
import { bodyRoutingSlotOf, headersHeldForBody, parseContentLength } from "./stages/body-routing";
import { logWarn, logInfo } from "./log";
import { LORA_AFFINITY_SCORER } from "../scheduling/scorers/lora-affinity";
import { LORA_AFFINITY_FILTER } from "../scheduling/filters/lora-affinity";
import { poolSaturated } from "../scheduling/saturation";
import { DispatchWhen, shareOfLimit } from "../flow/config";
import { fairBucket } from "../flow/fair";
import { FlowEntry, Offer } from "../flow/queue";
import { FLOW_HEADER, FlowOwner, PoolFlow, listFlow, newestFlow } from "./picker-flow";

/** Bodies larger than this are routed without reading them (no prefix/model). */
const MAX_PICKER_BODY: usize = 8 << 20;
const EMPTY_BREAKS: i32[] = [];
/** Block hashes a stream keeps for learning a fallback that served (8 bytes each: 2 KiB). */
const SLOT_HASHES: i32 = 256;
const ORCA_HEADER = "endpoint-load-metrics";
/** `upstream.address`, encoded once: read for every response that is learned from. */
const UPSTREAM_ADDRESS: ArrayBuffer = encodePropertyPath(["upstream", "address"]);
const MODEL_HEADER = "x-gateway-model-name";
/**
 * This VM's token for the scrape lease, taken once per VM (not per config): after a
 * reconfigure the new stage keeps holding the lease instead of waiting for its own old one to
 * lapse, which would leave every endpoint's metrics stale for up to `leaseMs`.
 */
let VM_TOKEN: u32 = 0;

class PickerSlot extends StageSlot {
  pool: i32 = -1;
  waitingBody: bool = false;
  /** Hold mode: the pick waits for the body (headers held, still writable). */
  deferred: bool = false;
  /** Hold mode without bodyRouting: this stage buffers and scans the body itself. */
  ownBuffer: bool = false;
  routed: bool = false;
  localReply: bool = false;
  counted: bool = false;
  primaryKey: string = "";
  hashes: StaticArray<u64> | null = null;
  hashCount: i32 = 0;
  explanation: string = "";
  priorityOverride: i32 = i32.MIN_VALUE;
  /** The request's candidate subset hint (null: none), kept for the body-time pass. */
  subset: string | null = null;
  /** Flow control: paused at its headers, waiting in the pool's queue. */
  queued: bool = false;
  /** Flow control let it go: the saturation shed no longer applies to it. */
  flowAdmitted: bool = false;
  /** Holds one of the pool's shared dispatch slots (given back at stream end). */
  flowToken: bool = false;
  /** Band index while queued / after the wait; -1: not flow-controlled. */
  flowBand: i32 = -1;
  /** How long it waited before dispatch; -1: it did not wait. */
  waitedMs: i64 = -1;
  /** The request headers came with end of stream (no body will follow). */
  headersEnd: bool = false;
  /** Its flow's bucket in the band's shared fairness table while counted in flight; -1: not. */
  fairBucket: i32 = -1;
  /** Hold mode, while queued: the body bytes buffered so far, and whether it is complete. */
  queuedBody: usize = 0;
  queuedBodyEnd: bool = false;
}

/** Flow-control gate outcomes at request headers. */
const GATE_PASS: i32 = 0;
const GATE_WAIT: i32 = 1;
const GATE_REPLIED: i32 = 2;

/** Lets a pool's flow hand streams back to the picker (AssemblyScript has no interfaces). */
class PickerFlowOwner extends FlowOwner {
  constructor(private stage: PickerStage) {
    super();
  }
  resumeFlow(flow: PoolFlow, stream: StreamState, entry: FlowEntry, nowMs: i64): void {
    this.stage.resumeFlow(flow, stream, entry, nowMs);
  }
  expireFlow(flow: PoolFlow, stream: StreamState, entry: FlowEntry, nowMs: i64): void {
    this.stage.expireFlow(flow, stream, entry, nowMs);
  }
  flowHasRoom(flow: PoolFlow, share: f64, nowMs: i64): bool {
    return this.stage.flowHasRoom(flow, share, nowMs);
  }
  flowDrainBudget(flow: PoolFlow): i32 {
    return this.stage.flowDrainBudget(flow);
  }
}

class PoolHandle {
  metrics: PickerMetrics;
  shared: PoolShared;
  scraper: PoolScraper;
  /**
   * Whether a header-time pick reads the model header: only LoRA affinity and priorities by
   * model use the model without a prompt (a header read is a host call; most pools skip it).
   */
  modelAtHeaders: bool;
  /** Flow control (flowControl config); null: requests are never queued. */
  flow: PoolFlow | null = null;
  /** When the tick last replayed the prefix journal (its pace follows the journal's rate). */
  replayedAtMs: i64 = 0;
  constructor(public rt: PoolRuntime, rootId: string, vmToken: u32) {
    let metrics = new PickerMetrics(rt.config.name);
    let shared = new PoolShared(rootId, rt);
    this.metrics = metrics;
    this.shared = shared;
    this.scraper = new PoolScraper(rt, shared, metrics, vmToken);
    this.modelAtHeaders = rt.config.priority.models.length > 0 || usesModel(rt.config);
  }
}

function nowMs(): i64 {
  return <i64>(getCurrentTimeNanoseconds() / 1_000_000);
}

/** Value of cookie `name` in a Cookie header, or "". */
export function cookieValue(header: string, name: string): string {
  let parts = header.split(";");
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i].trim();
    let eq = p.indexOf("=");
    if (eq > 0 && p.substring(0, eq) == name) return p.substring(eq + 1);
  }
  return "";
}

export class PickerStage extends Stage {
  pools: PoolHandle[] = [];
  private configs: PoolConfig[];
  private req: PickRequest = new PickRequest();
  private decision: Decision = new Decision();
  private prompt: ByteBuffer = new ByteBuffer(4096);
  private promptParts: PromptParts = new PromptParts();
  private scan: BodyScan = new BodyScan();
  private matchNames: string[] = [];
  private matchValues: Array<string | null> = [];
  private steeringHeaders: string[] = [];
  /** Some pool matches on :authority / :path (else matchPool does not read them). */
  private matchAuthority: bool = false;
  private matchPath: bool = false;
  vmToken: u32 = 0;

  constructor(configs: PoolConfig[]) {
    super("pools");
    this.configs = configs;
    for (let i = 0; i < configs.length; i++) {
      let c = configs[i];
      if (!this.steeringHeaders.includes(c.steeringHeader)) this.steeringHeaders.push(c.steeringHeader);
      if (c.match.authority.length > 0) this.matchAuthority = true;
      if (c.match.pathPrefix.length > 0) this.matchPath = true;
      for (let j = 0; j < c.match.headers.length; j++) {
        let n = c.match.headers[j].name;
        if (!this.matchNames.includes(n)) this.matchNames.push(n);
      }
    }
    if (!this.steeringHeaders.includes(ENDPOINT_HEADER)) this.steeringHeaders.push(ENDPOINT_HEADER);
  }

  onActivate(): void {
    // A VM-unique token for the scrape lease: a shared counter every VM increments once.
    let key = "wayroute.picker/vmseq";
    for (let attempt = 0; attempt < 32 && VM_TOKEN == 0; attempt++) {
      let cur = getSharedData(key);
      let next: u32 = cur != null && cur.value.byteLength == 4 ? load<u32>(changetype<usize>(cur.value)) + 1 : 1;
      let b = new ArrayBuffer(4);
      store<u32>(changetype<usize>(b), next);
      if (setSharedData(key, b, cur != null ? cur.cas : 0) == Status.Ok) VM_TOKEN = next;
    }
    this.vmToken = VM_TOKEN;
    let rootId = getPropertyString(["plugin_root_id"]);
    for (let i = 0; i < this.configs.length; i++) {
      let c = this.configs[i];
      let h = new PoolHandle(new PoolRuntime(c), rootId != null ? rootId : "", this.vmToken);
      h.metrics.define();
      // Independent random streams per worker: identical seeds would make every worker break
      // ties (and sample) the same way, herding load onto the same endpoints.
      h.rt.ctx.rng.reseed(getCurrentTimeNanoseconds() ^ (<u64>this.vmToken * 0x9e3779b97f4a7c15) ^ <u64>(i + 1));
      // Without a configured locality, use the proxy's own (Envoy node locality).
      if (c.localZone.length == 0 && c.localCluster.length == 0) {
        let zone = getPropertyString(["node", "locality", "zone"]);
        if (zone != null) h.rt.ctx.localZone = zone;
      }
      this.pools.push(h);
      let fc = c.flowControl;
      if (fc != null) {
        let flow = new PoolFlow(fc, c.name, rootId != null ? rootId : "", new PickerFlowOwner(this), i);
        flow.define();
        h.flow = flow; // ticks when a stream waits (listFlow)
      }
      // Every worker (not just the scraper) stretches staleness to the effective interval.
      if (c.scrape.enabled) h.scraper.effectiveIntervalMs();
    }
    // A first tick at once settles who holds the lease; each tick then says what this VM
    // needs (tick.ts).
    tickAtLeastEvery(1);
    logInfo("endpoint picker: " + this.pools.length.toString() + " pool(s), worker token " + this.vmToken.toString());
  }

  onTick(): void {
    let now = nowMs();
    for (let i = 0; i < this.pools.length; i++) {
      let h = this.pools[i];
      this.syncFeed(h);
      h.scraper.onTick(now);
      wantTickEvery(h.scraper.tickMs());
      if (h.rt.index != null && h.rt.config.prefix.shareAcrossWorkers) {
        // Often enough that a quarter of the journal's ring fills between two replays (an idle
        // worker stays current while others decide), between 50 ms and a second.
        let learned = h.shared.replayJournal();
        let elapsed = now - h.replayedAtMs;
        h.replayedAtMs = now;
        wantTickEvery(learned > 0 ? min(max(elapsed * <i64>(JOURNAL_SLOTS / 4) / <i64>learned, 50), 1000) : 1000);
      }
      if (h.rt.config.scrape.enabled) {
        h.scraper.effectiveIntervalMs(); // follows the endpoint count (feed)
        h.shared.syncLoad();
        // One gauge for every VM: the VM that scrapes sets it (every VM counting over the whole
        // pool on every tick was most of a worker's tick at 1,024 endpoints).
        if (h.scraper.holding) {
          h.metrics.set(PickerMetric.StaleEndpoints, <u64>staleCount(h.rt.endpoints, h.rt.config.saturation, now));
        }
      }
    }
  }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): bool {
    let now = nowMs();
    for (let i = 0; i < this.pools.length; i++) {
      if (this.pools[i].scraper.onHttpCallResponse(token, headerCount, bodySize, now)) {
        this.syncFeed(this.pools[i]);
        return true;
      }
    }
    return false;
  }

  private syncFeed(h: PoolHandle): void {
    if (h.rt.config.feed == null) return;
    let body = h.shared.changedFeed();
    if (body == null) return;
    let res = parseEndpointFeed(body, h.rt.config.mode);
    if (!res.ok) return; // the publisher validated it; a torn value is skipped
    h.rt.setEndpoints(res.endpoints);
    // Staleness follows the new endpoint count here too (a worker's tick is slow).
    if (h.rt.config.scrape.enabled) h.scraper.effectiveIntervalMs();
    h.shared.syncLoad();
  }

  // ---- request path ----------------------------------------------------------------------

  /** Counts the client steering headers the steering stage removed from this request. */
  private countSpoofed(stream: StreamState): void {
    if (this.pools.length == 0) return;
    let m = this.pools[0].metrics;
    for (let i = 0; i < stream.steeringRemoved; i++) m.inc(PickerMetric.SpoofedHeaders);
  }

  declareClientHeaders(headers: ClientHeaders): void {
    for (let i = 0; i < this.steeringHeaders.length; i++) headers.addSteering(this.steeringHeaders[i]);
    headers.addSteering(MODEL_HEADER);
    for (let i = 0; i < this.configs.length; i++) {
      let c = this.configs[i];
      headers.addPriority(c.priority.objectiveHeader);
      headers.addPriority(c.priority.header);
      for (let j = 0; j < c.trustedCallers.length; j++) headers.priorityTrust.push(c.trustedCallers[j]);
    }
  }

  private matchPool(): i32 {
    // poolMatches ignores :authority / :path for pools that do not match on them.
    let authority = this.matchAuthority ? getHeader(MapType.HttpRequestHeaders, ":authority") : null;
    let path = this.matchPath ? getHeader(MapType.HttpRequestHeaders, ":path") : null;
    this.matchValues.length = 0;
    for (let i = 0; i < this.matchNames.length; i++) {
      this.matchValues.push(getHeader(MapType.HttpRequestHeaders, this.matchNames[i]));
    }
    for (let i = 0; i < this.pools.length; i++) {
      if (poolMatches(this.pools[i].rt.config.match, authority != null ? authority : "", path != null ? path : "", this.matchNames, this.matchValues)) return i;
    }
    return -1;
  }

  private needsBody(h: PoolHandle): bool {
    let c = h.rt.config;
    return h.rt.index != null || c.priority.models.length > 0 || usesModel(c);
  }

  /**
   * Hold mode without bodyRouting: whether this request is worth holding its headers for, i.e.
   * the pool uses the body (prefix index, LoRA affinity, priorities by model) and the request
   * is a POST with an identity-encoded JSON body, which the shared scanner can read.
   */
  private worthBuffering(h: PoolHandle): bool {
    if (!this.needsBody(h)) return false;
    let method = getHeader(MapType.HttpRequestHeaders, ":method");
    if (method == null || method != "POST") return false;
    let ct = getHeader(MapType.HttpRequestHeaders, "content-type");
    if (ct == null || !isJsonContentType(ct)) return false;
    return isIdentityEncoding(getHeader(MapType.HttpRequestHeaders, "content-encoding"));
  }

  onRequestHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    this.countSpoofed(stream);
    let p = this.matchPool();
    if (p < 0) return FilterHeadersStatus.Continue;
    let slot = new PickerSlot();
    slot.pool = p;
    stream.slots[this.index] = slot;
    let h = this.pools[p];
    let flow = h.flow;
    if (flow != null) {
      slot.headersEnd = endOfStream;
      let g = this.flowGate(stream, slot, h, flow);
      if (g != GATE_PASS) return FilterHeadersStatus.StopIteration;
    }
    // Hold mode (host keeps StopIteration, see StreamState.holdHeadersForBody): the headers wait,
    // still writable, while the body comes, so the one pick is made after the body with the
    // prompt and the model. Never with end of stream: there is no body to release the headers.
    if (!endOfStream && stream.holdHeadersForBody && this.deferToBody(stream, slot, h)) return FilterHeadersStatus.StopIteration;
    // Stock Envoy (ABI 0.2.x) turns a header StopIteration into StopAllIterationAndWatermark:
    // the body is not delivered while headers are held, and once they continue they can no
    // longer be changed. So the pick that steers is made now, from what headers and shared state
    // say; the body (prompt, model) refines it below where the host still allows header changes.
    return this.decideAtHeaders(stream, slot, h, endOfStream) ? FilterHeadersStatus.Continue : FilterHeadersStatus.StopIteration;
  }

  /**
   * Hold mode: whether this request's one pick waits for its body (bodyRouting reads it, or
   * read it while the request waited in the flow queue, or this stage buffers it itself); if
   * so, marks the slot deferred.
   */
  private deferToBody(stream: StreamState, slot: PickerSlot, h: PoolHandle): bool {
    let br = bodyRoutingSlotOf(stream);
    let deferred = headersHeldForBody(stream) || (br != null && br.body != null);
    if (!deferred && br == null && this.worthBuffering(h)) {
      deferred = true;
      slot.ownBuffer = true;
    }
    if (deferred) {
      slot.deferred = true;
      slot.waitingBody = true;
    }
    return deferred;
  }

  /** The pick from the request headers (model header when the pool uses it, no prompt). */
  private decideAtHeaders(stream: StreamState, slot: PickerSlot, h: PoolHandle, headersEnd: bool): bool {
    this.req.promptLen = 0;
    let model = h.modelAtHeaders ? getHeader(MapType.HttpRequestHeaders, MODEL_HEADER) : null;
    this.req.model = model != null ? model : "";
    if (!this.decide(stream, slot, h)) return false; // answered: the reply ends the stream
    if (!headersEnd && this.needsBody(h)) slot.waitingBody = true;
    return true;
  }

  onRequestBody(stream: StreamState, bodySize: usize, endOfStream: bool): FilterDataStatus {
    let s = stream.slots[this.index];
    if (!(s instanceof PickerSlot)) return FilterDataStatus.Continue;
    let slot = <PickerSlot>s;
    // Waiting in the flow queue (hold mode delivers the body meanwhile): keep it, as Envoy's
    // buffer limit allows, until the stream is dispatched.
    if (slot.queued) {
      slot.queuedBody = bodySize;
      slot.queuedBodyEnd = endOfStream;
      return FilterDataStatus.StopIterationAndBuffer;
    }
    if (!slot.waitingBody) return FilterDataStatus.Continue;
    if (slot.deferred) return this.decideHeld(stream, slot, bodySize, endOfStream);
    if (!endOfStream && bodySize <= MAX_PICKER_BODY) return FilterDataStatus.StopIterationAndBuffer;
    slot.waitingBody = false;
    let h = this.pools[slot.pool];
    this.readBody(stream, h, bodySize);
    return this.refine(stream, slot, h) ? FilterDataStatus.Continue : FilterDataStatus.StopIterationNoBuffer;
  }

  /**
   * Body-time pass: the prompt's block hashes and the body's model. Re-runs the profile with
   * them; sheds a sheddable model's request (429) while the pool is saturated; re-steers when
   * the host still accepts request-header changes (hosts that keep request headers writable
   * during the body); and teaches the prefix index (here and, via the journal, every worker)
   * where this prompt went.
   */
  private refine(stream: StreamState, slot: PickerSlot, h: PoolHandle): bool {
    let rt = h.rt;
    let c = rt.config;
    if (!slot.routed) return true;
    let req = this.req;
    h.shared.syncInFlight();
    if (rt.index != null && c.prefix.shareAcrossWorkers) h.shared.replayJournal();
    req.priority = this.priority(c, req.model, slot);
    req.subset = slot.subset;
    let d = this.decision;
    rt.decide(req, nowMs(), d);
    if (d.explanation.length > 0) slot.explanation = this.explain(h, d);
    if (d.admission == Admission.Shed) return this.shed(stream, slot, h);
    if (d.admission == Admission.Route) {
      let key = rt.endpoints[d.picks[0]].key;
      if (key != slot.primaryKey &&
        replaceHeader(MapType.HttpRequestHeaders, c.steeringHeader, d.headerValue) == Status.Ok) {
        if (c.mode == SteeringMode.Route) clearRouteCache();
        if (slot.counted) h.shared.adjustInFlight(keyHash(slot.primaryKey), -1, true);
        slot.counted = h.shared.adjustInFlight(keyHash(key), 1, true);
        slot.primaryKey = key;
        h.metrics.picked(key);
      }
    }
    this.learnPrompt(h, slot, d.hashCount);
    return true;
  }

  /**
   * Hold mode, a deferred slot: the request headers wait (writable) until this returns
   * Continue. Buffers until the body is complete (or bodyRouting stopped reading it), then
   * decides ONCE with the prompt and the body's model: steers, sheds (429) or refuses (503),
   * and teaches the prefix index. No re-steer afterwards.
   */
  private decideHeld(stream: StreamState, slot: PickerSlot, bodySize: usize, endOfStream: bool): FilterDataStatus {
    let h = this.pools[slot.pool];
    if (stream.requestHeadersHeld) {
      if (!endOfStream) {
        if (slot.ownBuffer) {
          // Too large to read: decide without the prompt rather than hold it any longer.
          if (bodySize <= MAX_PICKER_BODY) return FilterDataStatus.StopIterationAndBuffer;
        } else {
          let br = bodyRoutingSlotOf(stream);
          if (br != null && br.reading) return FilterDataStatus.StopIterationAndBuffer;
        }
      }
    }
    slot.waitingBody = false;
    slot.deferred = false;
    if (!stream.requestHeadersHeld) {
      // Nothing holds the headers any more (another stage released them): they are final, so
      // this request goes unsteered, like a FailOpen pass-through.
      h.metrics.inc(PickerMetric.FailOpen);
      return FilterDataStatus.Continue;
    }
    this.readBody(stream, h, slot.ownBuffer && bodySize > MAX_PICKER_BODY ? 0 : bodySize);
    if (!this.decide(stream, slot, h)) return FilterDataStatus.StopIterationNoBuffer;
    if (slot.routed) this.learnPrompt(h, slot, this.decision.hashCount);
    return FilterDataStatus.Continue;
  }

  /**
   * Learning half of a body-time decision: the prompt's `n` block hashes (in rt.hashes) now
   * live on the primary endpoint, here and, via the journal, on every worker. Kept on the slot
   * so a fallback that serves learns them too (onLog).
   */
  private learnPrompt(h: PoolHandle, slot: PickerSlot, n: i32): void {
    if (n <= 0) return;
    let rt = h.rt;
    let e = rt.find(slot.primaryKey);
    if (e < 0) return;
    rt.learn(e, rt.hashes, n);
    // Both callers replayed the journal earlier in this callback (refine, decide).
    if (rt.config.prefix.shareAcrossWorkers) h.shared.publishDecision(slot.primaryKey, rt.hashes, n, true);
    // Kept per in-flight stream, so bounded: a fallback that serves learns the first
    // SLOT_HASHES blocks (64 KiB of prompt), the primary all of them.
    let k = min(n, SLOT_HASHES);
    let copy = new StaticArray<u64>(k);
    for (let i = 0; i < k; i++) unchecked((copy[i] = rt.hashes[i]));
    slot.hashes = copy;
    slot.hashCount = k;
  }

  /**
   * Priority a trusted caller asked for (objective header, then priority header), read while
   * the request headers are still available; i32.MIN_VALUE when none applies.
   */
  private headerPriority(stream: StreamState, c: PoolConfig): i32 {
    // Callers the steering section trusts, or this pool's own trusted callers.
    if (!stream.callerTrusted && (c.trustedCallers.length == 0 || !this.callerTrusted(c))) return i32.MIN_VALUE;
    let p = i32.MIN_VALUE;
    let objective = getHeader(MapType.HttpRequestHeaders, c.priority.objectiveHeader);
    // The EPP reads x-llm-d-inference-objective, then its older alias.
    if (objective == null && c.priority.objectiveHeader == OBJECTIVE_HEADER) {
      objective = getHeader(MapType.HttpRequestHeaders, OLD_OBJECTIVE_HEADER);
    }
    if (objective != null) p = c.priority.forObjective(objective);
    let direct = getHeader(MapType.HttpRequestHeaders, c.priority.header);
    if (direct != null) p = resolvePriority(p, direct, true);
    return p;
  }

  /**
   * The candidate subset hint (the EPP reads it from the proxy's ext_proc metadata; a Wasm
   * filter gets it as a request header). A client could narrow its own candidates with it, so
   * only trusted callers may send it: the steering section's, or the pool's own.
   */
  private subsetHint(stream: StreamState, c: PoolConfig): string | null {
    // The steering stage removed it unless the caller is trusted (steering or a pool's list).
    let v = getHeader(MapType.HttpRequestHeaders, SUBSET_HEADER);
    if (v == null) return null;
    if (!stream.callerTrusted && c.trustedCallers.length > 0 && !this.callerTrusted(c)) return null;
    return v;
  }

  private priority(c: PoolConfig, model: string, slot: PickerSlot): i32 {
    let p = slot.priorityOverride != i32.MIN_VALUE ? slot.priorityOverride : c.priority.forModel(model);
    // Flow control admitted it (the pool had room, or it waited for room): not shed after all.
    return slot.flowAdmitted && p < 0 ? 0 : p;
  }

  /** Fills req.model and req.prompt* from the body (bodyRouting's scan when present). */
  private readBody(stream: StreamState, h: PoolHandle, bodySize: usize): void {
    let req = this.req;
    req.promptLen = 0;
    req.promptBreaks = EMPTY_BREAKS;
    req.saltLen = 0;
    let headerModel = getHeader(MapType.HttpRequestHeaders, MODEL_HEADER);
    req.model = headerModel != null ? headerModel : "";
    let body: ArrayBuffer | null = null;
    let scan = this.scan;
    let br = bodyRoutingSlotOf(stream);
    let ownedBySlot: ArrayBuffer | null = br != null ? br.body : null;
    if (br != null && br.body != null && br.scan.ok) {
      body = br.body;
      scan = br.scan;
      if (req.model.length == 0) req.model = br.model;
    } else if (bodySize > 0 && bodySize <= MAX_PICKER_BODY) {
      body = getBufferBytes(BufferType.HttpRequestBody, 0, bodySize);
      if (body != null) {
        scanBodyBuffer(body, scan);
        if (!scan.ok) body = null;
      }
    }
    if (body == null) return;
    let base = changetype<usize>(body);
    if (req.model.length == 0 && scan.hasStringModel) {
      // A model no header may carry (control character, lone surrogate) is not routed on.
      let m = modelString(base, scan);
      if (isHeaderSafeModel(m)) req.model = m;
    }
    if (h.rt.index != null) {
      let c = h.rt.config.prefix;
      // The request shape comes from the path, as the EPP picks its parser.
      let path = getHeader(MapType.HttpRequestHeaders, ":path");
      let api = promptApiForPath(path != null ? path : "");
      let parts = this.promptParts;
      if (prefixPrompt(base, body.byteLength, scan, api, this.prompt, parts, c.blockSize * c.maxBlocks)) {
        req.promptBase = this.prompt.dataStart;
        req.promptLen = this.prompt.length;
        req.promptBreaks = parts.breaks;
        req.saltBase = parts.salt.dataStart;
        req.saltLen = parts.salt.length;
      }
    }
    // Our own read (no bodyRouting slot owns it): model and prompt are copied out, so the next
    // body may reuse this block.
    if (body !== ownedBySlot) recycleHostBlock(body);
  }

  private callerTrusted(c: PoolConfig): bool {
    for (let i = 0; i < c.trustedCallers.length; i++) {
      let rule = c.trustedCallers[i];
      if (rule.matches(getPropertyString(rule.segments()))) return true;
    }
    return false;
  }

  /** Returns true when the stream should continue (false after a local reply). */
  private decide(stream: StreamState, slot: PickerSlot, h: PoolHandle): bool {
    let rt = h.rt;
    let c = rt.config;
    let now = nowMs();
    // Shared state: load snapshot if it moved, health, in-flight, others' prefix decisions.
    this.syncFeed(h);
    h.shared.syncLoad();
    h.shared.syncHealth();
    h.shared.syncInFlight();
    if (rt.index != null && c.prefix.shareAcrossWorkers) h.shared.replayJournal();

    let req = this.req;
    slot.priorityOverride = this.headerPriority(stream, c);
    slot.subset = this.subsetHint(stream, c);
    req.subset = slot.subset;
    req.priority = this.priority(c, req.model, slot);
    req.sessionKey = "";
    if (c.session.header.length > 0) {
      let v = getHeader(MapType.HttpRequestHeaders, c.session.header);
      if (v != null) req.sessionKey = v;
    }
    if (req.sessionKey.length == 0 && c.session.cookie.length > 0) {
      let ck = getHeader(MapType.HttpRequestHeaders, "cookie");
      if (ck != null) req.sessionKey = cookieValue(ck, c.session.cookie);
    }

    let d = this.decision;
    rt.decide(req, now, d);
    slot.explanation = this.explain(h, d);
    if (d.admission == Admission.Shed) return this.shed(stream, slot, h);
    if (d.admission == Admission.Unavailable) {
      h.metrics.inc(PickerMetric.Unavailable);
      return this.reply(stream, slot, 503, "wayroute_picker_no_endpoint", "no eligible endpoint in pool " + c.name + "\n");
    }
    if (d.admission == Admission.PassThrough) {
      h.metrics.inc(PickerMetric.FailOpen);
      return true;
    }
    let primary = d.picks[0];
    let key = rt.endpoints[primary].key;
    replaceHeader(MapType.HttpRequestHeaders, c.steeringHeader, d.headerValue);
    if (c.mode == SteeringMode.Route) clearRouteCache();
    slot.routed = true;
    slot.primaryKey = key;
    h.metrics.picked(key);
    if (h.shared.adjustInFlight(keyHash(key), 1, true)) slot.counted = true;
    rt.endpoints[primary].inFlight++;
    return true;
  }

  /** The decision's explanation, with the scrape schedule when the pool scrapes. */
  private explain(h: PoolHandle, d: Decision): string {
    return d.explanation.length > 0 && h.rt.config.scrape.enabled ? d.explanation + h.scraper.explainSuffix : d.explanation;
  }

  /** 429: the pool is saturated and the request is sheddable. */
  private shed(stream: StreamState, slot: PickerSlot, h: PoolHandle): bool {
    h.metrics.inc(PickerMetric.Sheds);
    return this.reply(stream, slot, 429, "wayroute_picker_shed", "request shed: pool " + h.rt.config.name + " is saturated\n");
  }

  /** A picker local reply, with the explanation header when there is one; false (stop). */
  private reply(stream: StreamState, slot: PickerSlot, code: u32, details: string, body: string): bool {
    return this.localReply(stream, slot, code, details, body, this.pools[slot.pool].rt.config.debug.header, slot.explanation);
  }

  /** Sends a local reply for the stream with header `name: value` when value is not empty. */
  private localReply(stream: StreamState, slot: PickerSlot, code: u32, details: string, body: string, name: string, value: string): bool {
    slot.localReply = true;
    let hdrs = value.length > 0 ? [new HeaderPair(name, value)] : new Array<HeaderPair>();
    sendLocalResponse(code, details, String.UTF8.encode(body, false), hdrs);
    stream.replied = true;
    return false;
  }

  // ---- flow control (picker-flow.ts, assembly/flow) -------------------------------------

  /**
   * At request headers: lets the request go (PASS: the pool has room and nobody of its band or
   * a higher one waits), queues it (WAIT: the stream pauses at its headers), or refuses it when
   * its band is full (REPLIED: 429). Requests whose priority no band holds are not
   * flow-controlled; with shedSheddable, priority < 0 bypasses the queue (shed while the pool
   * is saturated, routed otherwise).
   */
  private flowGate(stream: StreamState, slot: PickerSlot, h: PoolHandle, flow: PoolFlow): i32 {
    let c = h.rt.config;
    let fc = flow.config;
    let model = h.modelAtHeaders ? getHeader(MapType.HttpRequestHeaders, MODEL_HEADER) : null;
    slot.priorityOverride = this.headerPriority(stream, c);
    let prio = slot.priorityOverride != i32.MIN_VALUE ? slot.priorityOverride : c.priority.forModel(model != null ? model : "");
    let band = fc.bandFor(prio);
    if (band < 0 || (fc.shedSheddable && prio < 0)) return GATE_PASS;
    let now = nowMs();
    // Nobody is drained from here: a local reply sent to a waiting stream (expiry, 503) during
    // this callback would stop THIS stream too (proxy-wasm-cpp-host's stopNextIteration flag is
    // VM-wide). Others waiting: this one queues behind them; the next tick or stream end drains.
    let key = "";
    if (fc.flowHeader.length > 0) {
      let v = getHeader(MapType.HttpRequestHeaders, fc.flowHeader);
      if (v != null) key = v;
    }
    let bucket = flow.fair ? fairBucket(key) : -1;
    if (!flow.queue.waitingAtOrAbove(band) && flow.fairAdmits(band, bucket) && this.flowHasRoom(flow, fc.bands[band].maxInFlightShare, now)) {
      slot.flowAdmitted = true;
      slot.flowToken = flow.tokenTaken;
      slot.flowBand = band;
      slot.fairBucket = bucket;
      flow.fairMoved(band, bucket, 0, 1);
      return GATE_PASS;
    }
    // Bytes it holds in the queue: its Content-Length, 0 when absent or not a plain number.
    let bytes = max<i64>(parseContentLength(getHeader(MapType.HttpRequestHeaders, "content-length")), 0);
    let offered = flow.queue.offer(stream.contextId, band, key, bytes, now);
    let b = fc.bands[band];
    if (offered != Offer.Queued) {
      flow.inc(flow.rejectedTotal);
      let why = "full; band=" + b.name + (offered == Offer.FullRequests
        ? "; maxRequests=" + b.maxRequests.toString()
        : "; maxBytes=" + b.maxBytes.toString());
      this.flowReply(stream, slot, 429, "wayroute_flow_queue_full", why,
        "request refused: pool " + c.name + " is full and its queue for band " + b.name + " too\n");
      return GATE_REPLIED;
    }
    slot.queued = true;
    slot.flowBand = band;
    flow.fairMoved(band, bucket, 1, 0);
    flow.waiting.set(stream.contextId, stream);
    flow.lengthMoved(band, 1);
    flow.inc(flow.queuedTotal);
    listFlow(flow);
    return GATE_WAIT;
  }

  /**
   * Whether `flow`'s pool takes one more request of a band allowed `share` of the in-flight
   * limit now; takes a shared slot when limited.
   */
  flowHasRoom(flow: PoolFlow, share: f64, now: i64): bool {
    let h = this.pools[flow.handle];
    let fc = flow.config;
    flow.tokenTaken = false;
    if (fc.dispatch == DispatchWhen.NotSaturated) {
      h.shared.syncLoad();
      let all = flow.candidates(h.rt.endpoints.length);
      if (poolSaturated(h.rt.endpoints, all, h.rt.config.saturation, now)) return false;
    }
    if (fc.maxInFlightPerEndpoint > 0) {
      let limit = <i64>fc.maxInFlightPerEndpoint * <i64>h.rt.endpoints.length;
      if (!flow.tryAcquire(shareOfLimit(limit, share))) return false;
      flow.tokenTaken = true;
    }
    return true;
  }

  /**
   * Dispatches per drain: unlimited under an in-flight limit (each takes a shared slot); one
   * per endpoint under the saturation detector alone, whose metrics move once per scrape.
   */
  flowDrainBudget(flow: PoolFlow): i32 {
    if (flow.config.maxInFlightPerEndpoint > 0) return i32.MAX_VALUE;
    return max(1, this.pools[flow.handle].rt.endpoints.length);
  }

  /** A waiting stream's turn (its context is effective): pick, steer, continue it. */
  resumeFlow(flow: PoolFlow, stream: StreamState, entry: FlowEntry, now: i64): void {
    let s = stream.slots[this.index];
    if (!(s instanceof PickerSlot)) return;
    let slot = <PickerSlot>s;
    slot.queued = false;
    slot.flowAdmitted = true;
    slot.flowToken = flow.tokenTaken;
    if (flow.fair) slot.fairBucket = fairBucket(entry.flow);
    slot.waitedMs = now - entry.enqueuedMs;
    let h = this.pools[slot.pool];
    // Hold mode: the headers are still held (writable) and the body reached the plugin while it
    // waited, buffered. The pick is made with it, as for a request that never waited; a body
    // still coming is awaited the same way (the next body callback decides).
    // bodyRouting still reading, or done with a body it read while this waited: its scan is used.
    if (stream.requestHeadersHeld && !slot.headersEnd && this.deferToBody(stream, slot, h)) {
      if (!slot.queuedBodyEnd) return;
      if (this.decideHeld(stream, slot, slot.queuedBody, true) != FilterDataStatus.Continue) return;
    } else if (!this.decideAtHeaders(stream, slot, h, slot.headersEnd)) {
      return; // answered (503): the reply ends the stream
    }
    stream.requestHeadersHeld = false;
    continueStream(StreamType.HttpRequest);
  }

  /** A waiting stream waited maxWaitMs (its context is effective): 429, or 503 by its band. */
  expireFlow(flow: PoolFlow, stream: StreamState, entry: FlowEntry, now: i64): void {
    let s = stream.slots[this.index];
    if (!(s instanceof PickerSlot)) return;
    let slot = <PickerSlot>s;
    slot.queued = false;
    let b = flow.config.bands[entry.band];
    let waited = now - entry.enqueuedMs;
    this.flowReply(stream, slot, <u32>b.expireStatus, "wayroute_flow_expired",
      "expired; band=" + b.name + "; waited=" + waited.toString() + "ms",
      "request expired: waited " + waited.toString() + " ms for room in pool " + this.pools[slot.pool].rt.config.name + "\n");
  }

  private flowWaitNote(h: PoolHandle, slot: PickerSlot): string {
    let fc = h.flow;
    let band = fc != null && slot.flowBand >= 0 ? fc.config.bands[slot.flowBand].name : "";
    return "queued; band=" + band + "; waited=" + slot.waitedMs.toString() + "ms";
  }

  private flowReply(stream: StreamState, slot: PickerSlot, code: u32, details: string, why: string, body: string): void {
    this.localReply(stream, slot, code, details, body, FLOW_HEADER, why);
  }

  // ---- response path ---------------------------------------------------------------------

  /** Index of the endpoint that served the stream: upstream.address if known, else the pick. */
  private served(h: PoolHandle, slot: PickerSlot): i32 {
    let b = getPropertyEncoded(UPSTREAM_ADDRESS);
    let addr = b != null ? String.UTF8.decode(b) : null;
    if (addr != null) {
      let e = h.rt.find(addr);
      if (e >= 0) return e;
    }
    return h.rt.find(slot.primaryKey);
  }

  onResponseHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    let s = stream.slots[this.index];
    if (!(s instanceof PickerSlot)) return FilterHeadersStatus.Continue;
    let slot = <PickerSlot>s;
    if (slot.pool < 0 || slot.localReply) return FilterHeadersStatus.Continue;
    let h = this.pools[slot.pool];
    if (slot.waitedMs >= 0) replaceHeader(MapType.HttpResponseHeaders, FLOW_HEADER, this.flowWaitNote(h, slot));
    if (slot.explanation.length > 0) replaceHeader(MapType.HttpResponseHeaders, h.rt.config.debug.header, slot.explanation);
    if (!slot.routed) return FilterHeadersStatus.Continue;
    let orca = getHeader(MapType.HttpResponseHeaders, ORCA_HEADER);
    if (orca != null) {
      let report = parseOrcaHeader(orca);
      if (!report.ok) {
        h.metrics.inc(PickerMetric.Malformed);
      } else {
        let e = this.served(h, slot);
        if (e >= 0 && applyOrcaReport(h.rt.endpoints[e], report, nowMs())) h.shared.publishEndpoint(e);
      }
    }
    return FilterHeadersStatus.Continue;
  }

  onLog(stream: StreamState): void {
    let s = stream.slots[this.index];
    if (!(s instanceof PickerSlot)) return;
    let slot = <PickerSlot>s;
    if (slot.pool < 0) return;
    let flow = this.pools[slot.pool].flow;
    if (flow != null && slot.queued) {
      // The client left while it waited: its place goes to the next one.
      slot.queued = false;
      flow.abandon(stream);
    }
    if (flow != null && slot.flowToken) {
      slot.flowToken = false;
      flow.release();
    }
    if (flow != null && slot.fairBucket >= 0) {
      flow.fairMoved(slot.flowBand, slot.fairBucket, 0, -1);
      slot.fairBucket = -1;
    }
    this.streamEnded(slot);
    // Capacity freed (this stream's slot, its in-flight count): dispatch who waits.
    if (flow != null) {
      if (flow.queue.length > 0) flow.drain(nowMs(), stream.contextId);
      // A stream of a replaced config frees a slot the current config's queue can use.
      let newest = newestFlow(flow);
      if (newest != flow && newest.queue.length > 0) newest.drain(nowMs(), stream.contextId);
    }
  }

  private streamEnded(slot: PickerSlot): void {
    if (!slot.routed) return;
    let h = this.pools[slot.pool];
    if (slot.counted) {
      slot.counted = false;
      h.shared.adjustInFlight(keyHash(slot.primaryKey), -1);
      let p = h.rt.find(slot.primaryKey);
      if (p >= 0 && h.rt.endpoints[p].inFlight > 0) h.rt.endpoints[p].inFlight--;
    }
    let e = this.served(h, slot);
    if (e < 0) return;
    if (h.rt.endpoints[e].key != slot.primaryKey) h.metrics.inc(PickerMetric.FallbackServed);
    let codeBytes = getProperty(["response", "code"]);
    let code = codeBytes != null ? <i32>decodePropertyU64(codeBytes, 0) : 0;
    let failed = code == 0 || isFailureStatus(code);
    let ep = h.rt.endpoints[e];
    if (failed || ep.consecutiveFailures > 0 || ep.ejectionCount > 0) {
      if (h.shared.updateHealth(e, failed, nowMs())) {
        h.metrics.inc(PickerMetric.Ejections);
        logWarn("pool " + h.rt.config.name + ": endpoint " + ep.key + " ejected until " + ep.ejectedUntilMs.toString());
      }
    }
    // The endpoint that actually served now holds the prompt's blocks (a fallback may have).
    let hashes = slot.hashes;
    if (hashes != null && ep.key != slot.primaryKey && !failed) {
      h.rt.learn(e, hashes, slot.hashCount);
      if (h.rt.config.prefix.shareAcrossWorkers) h.shared.publishDecision(ep.key, hashes, slot.hashCount);
    }
  }
}

/** `application/json` or any `+json` media type, parameters ignored. */
function isJsonContentType(v: string): bool {
  let t = mediaType(v);
  return t == "application/json" || t.endsWith("+json");
}

function usesModel(c: PoolConfig): bool {
  let p = c.profile;
  for (let i = 0; i < p.scorers.length; i++) if (p.scorers[i].scorer.typeName == LORA_AFFINITY_SCORER) return true;
  for (let i = 0; i < p.filters.length; i++) if (p.filters[i].typeName == LORA_AFFINITY_FILTER) return true;
  return false;
}

export class PoolsSection extends ConfigSection {
  constructor() {
    super("pools");
  }

  parse(r: ConfigReader, node: ConfigNode): Stage | null {
    let pools = parsePools(r, node);
    if (!r.ok) return null;
    return new PickerStage(pools);
  }
}
