// Stage for the `bodyRouting` section: reads OpenAI-style request bodies, rewrites the model
// (InferenceModelRewrite semantics), sets the model headers where the host allows it, and hands
// the scanned body to later stages (the endpoint picker reads it through bodyRoutingSlotOf).
//
// Envoy constraint that shapes this file (proxy-wasm ABI 0.2.1, proxy-wasm-cpp-host
// `convertVmCallResultToFilterHeadersStatus`): by default a header StopIteration becomes
// StopAllIterationAndWatermark, so the body callbacks never run while the headers are held,
// and once the headers are continued Envoy no longer lets the plugin change them. So, by
// default (`holdHeadersForBody` false):
//   headers: strip client-supplied model headers, decide (checkRequest), drop content-length
//            when the body may be rewritten (Envoy then re-frames the body), return Continue;
//   body:    buffer (StopIterationAndBuffer) until end of stream, scan, choose the model,
//            replace the body bytes; then TRY to set the model headers and clear the route
//            cache: on stock Envoy the header map is gone (the attempt is counted in
//            wayroute_body_routing_headers_unavailable_total).
// Hold mode (`holdHeadersForBody` true: Envoy 1.35+ with `allow_on_headers_stop_iteration`
// on the Wasm filter's PluginConfig, which keeps StopIteration as StopIteration):
//   headers: strip, decide; when the body will be read return StopIteration: Envoy holds the
//            headers (still writable) and delivers the body;
//   body:    buffer until end of stream, scan, rewrite; set the model headers, set
//            content-length to the new body length, run the body-phase rules, clear the route
//            cache, return Continue, which releases headers and body together.
// Anything that stops routing (too large, encoded, not JSON, invalid, no model, a model that is
// not header-safe) lets the request through unchanged (in hold mode: releases the headers with
// Continue) and counts it in `wayroute_body_routing_skipped_<reason>_total`; with
// `unsafeModel: "reject"` an unsafe model is answered with 400 instead.
// Client-sent model headers are removed before any stage runs, unless the caller is trusted
// (stages/steering.ts; this stage declares its header names there).

import {
  BufferType,
  FilterDataStatus,
  FilterHeadersStatus,
  MapType,
  MetricType,
  Status,
  clearRouteCache,
  defineMetric,
  getBufferBytes,
  getCurrentTimeNanoseconds,
  getHeader,
  incrementMetric,
  lastHostStatus,
  recycleHostBlock,
  removeHeader,
  replaceHeader,
  sendLocalResponse,
  setBufferBytesFrom,
} from "../../../proxy-wasm/index";
import { ConfigNode, ConfigReader } from "../../config/reader";
import { BodyScan } from "../../body/scanner";
import { promptText } from "../../body/prompt";
import { ByteBuffer } from "../../json/byte-buffer";
import { parseDecimal } from "../../metrics/number";
import { BodyRoutingConfig, readBodyRoutingSection } from "../../body/routing-config";
import { BodyRoutingResult, SkipReason, checkRequest, routeBody, skipReasonName } from "../../body/routing";
import { Rng } from "../../scheduling/rng";
import { ConfigSection } from "../section";
import { ClientHeaders, Stage, StageSlot, StreamState } from "../stage";
import { runBodyPhaseRules } from "./rules";

/** What later stages can read about the body of this stream. */
export class BodyRoutingSlot extends StageSlot {
  /** True while the body is being buffered for routing. */
  reading: bool = false;
  /** Why routing did not happen (None when it did). */
  skip: SkipReason = SkipReason.None;
  /** The body as received (null until read). `scan` describes these bytes. */
  body: ArrayBuffer | null = null;
  scan: BodyScan = new BodyScan();
  /** Model asked for by the client, and the effective one after rewrites ("" when none). */
  requestedModel: string = "";
  model: string = "";
  /** Whether the host accepted the model headers (false on stock Envoy, see above). */
  headersSet: bool = false;
  /** The request declared a content-length (hold mode keeps it and fixes it after a rewrite). */
  hadContentLength: bool = false;
}

/**
 * True when this stream's request headers are held for the body: hold mode, and bodyRouting is
 * reading the body (it returned StopIteration from the headers). A later stage can then leave
 * its header-time decision to the body callback, where the headers are still writable (see
 * StreamState.requestHeadersHeld for "writable in this callback").
 */
export function headersHeldForBody(stream: StreamState): bool {
  if (!stream.holdHeadersForBody) return false;
  const slot = bodyRoutingSlotOf(stream);
  return slot != null && slot.reading;
}

/**
 * Prompt text of this stream's body (see assembly/body/prompt.ts for the format) into `out`;
 * false when the body was not read or has no prompt source. For the endpoint picker.
 */
export function bodyPromptText(slot: BodyRoutingSlot, out: ByteBuffer, maxBytes: i32 = i32.MAX_VALUE): bool {
  const body = slot.body;
  if (body == null || !slot.scan.ok) {
    out.reset();
    return false;
  }
  return promptText(changetype<usize>(body), slot.scan, out, maxBytes);
}

/** The bodyRouting slot of this stream, or null when the section is absent. */
export function bodyRoutingSlotOf(stream: StreamState): BodyRoutingSlot | null {
  const slots = stream.slots;
  for (let i = 0, n = slots.length; i < n; i++) {
    const s = slots[i];
    if (s instanceof BodyRoutingSlot) return <BodyRoutingSlot>s;
  }
  return null;
}

const SKIP_REASONS: SkipReason[] = [
  SkipReason.NotJson,
  SkipReason.Encoded,
  SkipReason.TooLarge,
  SkipReason.InvalidJson,
  SkipReason.NoModel,
  SkipReason.UnsafeModel,
];

const result = new BodyRoutingResult();
const rng = new Rng();
let rngSeeded = false;

/** A Content-Length value: a plain decimal number of bytes, else -1 (also when absent). */
export function parseContentLength(v: string | null): i64 {
  return parseDecimal(v, 15);
}

export class BodyRoutingStage extends Stage {
  routedMetric: u32 = 0;
  rewrittenMetric: u32 = 0;
  headersUnavailableMetric: u32 = 0;
  skippedMetrics: u32[] = [];
  metricsOk: bool = false;

  constructor(public cfg: BodyRoutingConfig) {
    super("bodyRouting");
  }

  declareClientHeaders(headers: ClientHeaders): void {
    headers.addSteering(this.cfg.modelHeader);
    headers.addSteering(this.cfg.baseModelHeader);
    headers.addSteering(this.cfg.rewriteHeader);
  }

  onActivate(): void {
    if (!rngSeeded) {
      // Per-VM seed: the weighted choice needs no cryptographic quality, only independence
      // between workers, which start at different nanoseconds.
      rng.reseed(getCurrentTimeNanoseconds() ^ 0x5851f42d4c957f2d);
      rngSeeded = true;
    }
    this.routedMetric = defineMetric(MetricType.Counter, "wayroute_body_routing_routed_total");
    let ok = lastHostStatus() == Status.Ok;
    this.rewrittenMetric = defineMetric(MetricType.Counter, "wayroute_body_routing_rewritten_total");
    ok = ok && lastHostStatus() == Status.Ok;
    this.headersUnavailableMetric = defineMetric(MetricType.Counter, "wayroute_body_routing_headers_unavailable_total");
    ok = ok && lastHostStatus() == Status.Ok;
    this.skippedMetrics = [];
    for (let i = 0; i < SKIP_REASONS.length; i++) {
      this.skippedMetrics.push(defineMetric(MetricType.Counter, "wayroute_body_routing_skipped_" + skipReasonName(SKIP_REASONS[i]) + "_total"));
      ok = ok && lastHostStatus() == Status.Ok;
    }
    this.metricsOk = ok;
  }

  private countSkip(reason: SkipReason): void {
    if (!this.metricsOk) return;
    const i = SKIP_REASONS.indexOf(reason);
    if (i >= 0) incrementMetric(this.skippedMetrics[i], 1);
  }

  private finishSkipped(stream: StreamState, slot: BodyRoutingSlot, reason: SkipReason): void {
    slot.reading = false;
    slot.skip = reason;
    this.countSkip(reason);
    runBodyPhaseRules(stream, null);
  }

  onRequestHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    const slot = new BodyRoutingSlot();
    stream.slots[this.index] = slot;
    const path = getHeader(MapType.HttpRequestHeaders, ":path");
    const declaredLength = getHeader(MapType.HttpRequestHeaders, "content-length");
    const reason = checkRequest(
      this.cfg,
      path == null ? "" : path,
      getHeader(MapType.HttpRequestHeaders, "content-type"),
      getHeader(MapType.HttpRequestHeaders, "content-encoding"),
      parseContentLength(declaredLength),
      !endOfStream,
    );
    if (reason != SkipReason.None) {
      this.finishSkipped(stream, slot, reason);
      return FilterHeadersStatus.Continue;
    }
    slot.reading = true;
    slot.hadContentLength = declaredLength != null;
    if (stream.holdHeadersForBody) {
      // The host keeps StopIteration (allow_on_headers_stop_iteration): the headers wait,
      // writable, while the body comes; content-length is corrected once the body is final.
      return FilterHeadersStatus.StopIteration;
    }
    // The body can only be changed after these headers are gone upstream, so a length-changing
    // rewrite needs the framing header dropped now.
    if (this.cfg.rewriteBody && this.cfg.rewrites.length > 0) {
      removeHeader(MapType.HttpRequestHeaders, "content-length");
    }
    return FilterHeadersStatus.Continue;
  }

  onDelete(stream: StreamState): void {
    const s = stream.slots[this.index];
    if (!(s instanceof BodyRoutingSlot)) return;
    const slot = <BodyRoutingSlot>s;
    const body = slot.body;
    // The stream is gone and the picker copied what it needed: the next body reuses this block.
    if (body != null) recycleHostBlock(body);
    slot.body = null;
  }

  onRequestBody(stream: StreamState, bodySize: usize, endOfStream: bool): FilterDataStatus {
    const s = stream.slots[this.index];
    if (!(s instanceof BodyRoutingSlot)) return FilterDataStatus.Continue;
    const slot = <BodyRoutingSlot>s;
    if (!slot.reading) return FilterDataStatus.Continue;
    if (bodySize > <usize>this.cfg.maxBodyBytes) {
      // Chunked body over the limit: stop buffering and let what we hold go through unchanged.
      this.finishSkipped(stream, slot, SkipReason.TooLarge);
      return FilterDataStatus.Continue;
    }
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    slot.reading = false;

    const body = bodySize > 0 ? getBufferBytes(BufferType.HttpRequestBody, 0, bodySize) : null;
    if (body == null) {
      this.finishSkipped(stream, slot, bodySize == 0 ? SkipReason.NoBody : SkipReason.InvalidJson);
      return FilterDataStatus.Continue;
    }
    slot.body = body;
    routeBody(this.cfg, changetype<usize>(body), body.byteLength, rng, slot.scan, result);
    if (result.refuse) {
      this.countSkip(result.skip);
      slot.skip = result.skip;
      sendLocalResponse(400, "wayroute_unsafe_model", String.UTF8.encode("request body model is not a valid header value\n", false), []);
      stream.replied = true;
      return FilterDataStatus.StopIterationNoBuffer;
    }
    if (result.skip != SkipReason.None) {
      this.finishSkipped(stream, slot, result.skip);
      return FilterDataStatus.Continue;
    }
    slot.requestedModel = result.requestedModel;
    slot.model = result.model;
    if (result.bodyChanged) {
      // No rewritten copy of the body in the VM: the host's buffer is replaced by the rewritten
      // prefix (up to the last model value), then the unchanged tail is appended straight from
      // the body block. Envoy's set_buffer_bytes takes exactly these two forms (start 0 with a
      // length covering the buffer replaces it; a start at or past its end appends).
      const prefix = result.body.length;
      const tail = result.bodyTailStart;
      const ok = setBufferBytesFrom(BufferType.HttpRequestBody, 0, bodySize, result.body.dataStart, <usize>prefix) == Status.Ok;
      if (ok && <usize>tail < bodySize) {
        setBufferBytesFrom(BufferType.HttpRequestBody, <usize>prefix, 0, changetype<usize>(body) + <usize>tail, bodySize - <usize>tail);
      }
    }
    // Hold mode: the headers are still Envoy's to forward, so these writes land. Otherwise best
    // effort: Envoy refuses request-header writes once the headers were continued.
    let headersOk = true;
    for (let i = 0, n = result.headerNames.length; i < n && headersOk; i++) {
      headersOk = replaceHeader(MapType.HttpRequestHeaders, unchecked(result.headerNames[i]), unchecked(result.headerValues[i])) == Status.Ok;
    }
    if (stream.holdHeadersForBody && result.bodyChanged && slot.hadContentLength) {
      // Envoy forwards the declared length as is: it must match the rewritten body.
      const length = result.contentLength;
      headersOk = replaceHeader(MapType.HttpRequestHeaders, "content-length", length.toString()) == Status.Ok && headersOk;
    }
    slot.headersSet = headersOk;
    if (this.metricsOk) {
      incrementMetric(this.routedMetric, 1);
      if (result.rewritten) incrementMetric(this.rewrittenMetric, 1);
      if (!headersOk) incrementMetric(this.headersUnavailableMetric, 1);
    }
    runBodyPhaseRules(stream, result.model);
    if (headersOk && result.clearRouteCache) clearRouteCache();
    return FilterDataStatus.Continue;
  }
}

export class BodyRoutingSection extends ConfigSection {
  constructor() {
    super("bodyRouting");
  }

  parse(r: ConfigReader, node: ConfigNode): Stage | null {
    const cfg = readBodyRoutingSection(r, node);
    if (cfg == null) return null;
    return new BodyRoutingStage(cfg);
  }
}
