/**
 * The HTTP stream lifecycle as Envoy drives one Wasm HTTP filter (source/extensions/common/wasm/
 * context.cc + proxy-wasm-cpp-host context.cc + the filter manager):
 *
 * - the stream context is created lazily when request headers arrive
 *   (`proxy_on_context_create(id, root_id)`);
 * - headers: Continue passes them on; any stop (StopIteration included, under 0.2.x) is
 *   StopAllIterationAndWatermark: later body and trailers are held by the filter manager and
 *   delivered (as one chunk) when the plugin calls `proxy_continue_stream`. With Envoy's
 *   `allow_on_headers_stop_iteration` (1.35+), StopIteration stays StopIteration: the headers are
 *   held but the body still reaches the plugin, and the headers stay writable until a body or
 *   trailers callback returns Continue or the plugin calls `proxy_continue_stream`;
 * - body: Continue passes the chunk; StopIterationAndBuffer (the SDKs' Pause) buffers it and the
 *   next callback reports the TOTAL buffered size; StopIterationNoBuffer drops the chunk;
 * - maps are readable/writable only while Envoy holds them: request headers from the headers
 *   callback until they are continued, bodies while in the callback or buffered, ...;
 * - `proxy_send_local_response` is applied after the callback returns, whose return value is then
 *   ignored; the reply runs through the plugin's response callbacks when the response has not
 *   started, and replaces the response directly when it has;
 * - a trap fails the stream with 503 (FAIL_CLOSE / FAIL_RELOAD) without calling the VM again, or
 *   lets it through untouched (FAIL_OPEN);
 * - end of stream: `proxy_on_log`, then `proxy_on_done`, then `proxy_on_delete`.
 */
import { FilterDataStatus, FilterHeadersStatus, MapType } from "./abi.js";
import { BodyBuffer } from "./buffers.js";
import type { ForeignCall, TrapInfo } from "./core.js";
import { HeaderMap, type HeaderInput, type HeaderPairs } from "./headers.js";
import { sendToLoopback } from "./http-calls.js";
import type { LogEntry } from "./logs.js";
import { fromUtf8, utf8 } from "./memory.js";
import type { PropertyTree } from "./properties.js";
import type { PluginVm } from "./vm.js";

/** A local reply sent by the plugin (or by Envoy for a failed VM). */
export interface LocalReply {
  status: number;
  body: Uint8Array;
  bodyText: string;
  /** Additional headers the plugin passed. */
  headers: HeaderPairs;
  grpcStatus: number;
  details: string;
  /** Who answered: the plugin, Envoy for a failed VM, or Envoy for a buffer over its limit. */
  source: "plugin" | "fail-closed" | "buffer-limit";
}

/** The request as the upstream received it (after the plugin). */
export interface ForwardedRequest {
  headers: HeaderMap;
  body: Uint8Array;
  bodyText: string;
  trailers: HeaderMap;
}

/** The response as the downstream client received it. */
export interface FinalResponse {
  /** 0 when the stream was reset (no response). */
  status: number;
  headers: HeaderMap;
  body: Uint8Array;
  bodyText: string;
  trailers: HeaderMap;
}

export type BodyInput = string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined;

/** What an upstream answers. `status` defaults to 200; a body array is sent as several chunks. */
export interface UpstreamResponse {
  status?: number;
  headers?: HeaderInput;
  body?: BodyInput;
  trailers?: HeaderInput;
}

/** The upstream of `host.request()`: a canned response, a function, or a loopback base URL. */
export type UpstreamHandler =
  | UpstreamResponse
  | string
  | ((request: ForwardedRequest) => UpstreamResponse | Promise<UpstreamResponse>);

/** State of the stream after a low-level step. */
export type StepResult = "continue" | "pause" | "local-reply" | "reset" | "complete";

/** Everything a test usually asserts about one request. */
export interface RequestResult {
  worker: number;
  /** The stream's context id inside its VM. */
  streamId: number;
  /** The request as forwarded upstream; null when it was not forwarded (local reply, reset). */
  request: ForwardedRequest | null;
  upstreamCalled: boolean;
  localReply?: LocalReply;
  response: FinalResponse;
  /** Set when the stream was reset (proxy_close_stream) instead of answered. */
  reset?: string;
  /** Log entries emitted for this stream (its own callbacks and effective-context switches to it). */
  logs: LogEntry[];
  foreignCalls: ForeignCall[];
  /** How often the plugin called the `clear_route_cache` foreign function for this stream. */
  clearRouteCacheCount: number;
  /** The trap that failed this stream, if any. */
  trap?: TrapInfo;
}

type Dir = "request" | "response";
type CallKind = "headers" | "body" | "trailers";
type Outcome = "continue" | "stop" | "stop-iteration" | "buffer" | "nobuffer" | "aborted";

const CALLBACKS: Record<Dir, Record<CallKind, string>> = {
  request: { headers: "proxy_on_request_headers", body: "proxy_on_request_body", trailers: "proxy_on_request_trailers" },
  response: { headers: "proxy_on_response_headers", body: "proxy_on_response_body", trailers: "proxy_on_response_trailers" },
};

class Side {
  started = false;
  headers = new HeaderMap();
  headersHeld = false;
  /** Headers stopped with a kept StopIteration: held (and writable) while the body flows. */
  holdHeaders = false;
  headersEos = false;
  headersDone = false;
  stopped: null | "headers" | "body" | "body-nobuffer" | "trailers" = null;
  buffering = false;
  body: BodyBuffer | null = null;
  fmData = new BodyBuffer();
  fmEos = false;
  fmTrailers: HeaderMap | null = null;
  eosSeen = false;
  trailers: HeaderMap | null = null;
  trailersHeld = false;
  /** Body chunks passed on and not yet taken by a streaming consumer ({@link HttpStream.takeForwarded}). */
  forwarded: Uint8Array[] = [];
  /** Every byte passed on, taken or not. */
  forwardedBytes = 0;
  complete = false;
  replaced = false;
  forward(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.forwarded.push(chunk);
    this.forwardedBytes += chunk.length;
  }
  forwardedSize(): number {
    return this.forwardedBytes;
  }
  /** The chunks still held, joined in one copy (linear, whatever the chunk count). */
  forwardedBody(): Uint8Array {
    if (this.forwarded.length === 1) return this.forwarded[0]!;
    const out = new Uint8Array(this.forwarded.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.forwarded) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export interface StreamOptions {
  properties?: PropertyTree;
  /**
   * Envoy's per-stream buffer limit (the listener's `per_connection_buffer_limit_bytes`, 1 MiB by
   * default in Envoy): a body the plugin buffers (StopIterationAndBuffer) past it gets 413 on the
   * request path, and 500 (or a reset once response headers went downstream) on the response
   * path. Undefined: no limit (the harness's default, for tests that feed whole bodies).
   */
  bufferLimitBytes?: number;
  sourceAddress?: string;
  destinationAddress?: string;
  upstreamAddress?: string;
}

let nextConnectionId = 1;

/** One HTTP stream through the plugin on one worker. Low-level methods mirror Envoy's filter calls. */
export class HttpStream {
  readonly id: number;
  readonly properties?: PropertyTree;
  readonly filterState = new Map<string, Uint8Array>();
  readonly logs: LogEntry[] = [];
  readonly foreignCalls: ForeignCall[] = [];
  clearRouteCacheCount = 0;
  readonly startMs: number;
  endMs?: number;
  readonly connectionId = nextConnectionId++;
  readonly sourceAddress: string;
  readonly destinationAddress: string;
  readonly upstreamAddress: string;
  upstreamCalled = false;
  created = false;
  localReply?: LocalReply;
  resetReason?: string;
  finished = false;
  requestComplete = false;
  responseComplete = false;
  forwardedRequest?: ForwardedRequest;
  finalResponse?: FinalResponse;
  trap?: TrapInfo;
  private readonly req = new Side();
  private readonly resp = new Side();
  private failureReplySent = false;
  private accessLogPhase = false;
  private inCallback = 0;
  private pendingContinue = new Set<Dir>();
  private localReplyCount = 0;
  private listeners: { requestComplete?: () => void; responseComplete?: () => void; finished?: () => void } = {};
  private readonly bufferLimitBytes: number | undefined;

  constructor(
    readonly vm: PluginVm,
    options: StreamOptions = {},
  ) {
    this.id = vm.registerStream(this);
    this.properties = options.properties;
    this.startMs = vm.core.clock.nowMs;
    const o = vm.core.options;
    this.sourceAddress = options.sourceAddress ?? o.sourceAddress;
    this.destinationAddress = options.destinationAddress ?? o.destinationAddress;
    this.upstreamAddress = options.upstreamAddress ?? o.upstreamAddress;
    this.bufferLimitBytes = options.bufferLimitBytes;
  }

  /**
   * Takes the body chunks the plugin passed on since the last call, as Envoy streams them
   * downstream/upstream: nothing taken is kept by the stream (so a streaming consumer holds no
   * copy of a body the plugin does not need). Chunks not taken are what `forwardedRequest` and
   * `finalResponse` report.
   */
  takeForwarded(dir: Dir): Uint8Array[] {
    const s = this.side(dir);
    const out = s.forwarded;
    s.forwarded = [];
    return out;
  }

  /** Body bytes held for the plugin on `dir`: its buffer, or data queued behind stopped headers. */
  heldBytes(dir: Dir): number {
    const s = this.side(dir);
    return (s.body?.size ?? 0) + s.fmData.size;
  }

  get worker(): number {
    return this.vm.worker;
  }

  // ------------------------------------------------------------ low-level API (Envoy filter calls)

  /** Request headers arrive (`decodeHeaders`). */
  requestHeaders(headers: HeaderInput, endOfStream = false): StepResult {
    this.onHeaders("request", new HeaderMap(headers), endOfStream);
    return this.step("request");
  }

  /** A request body chunk arrives (`decodeData`). */
  requestBody(chunk: string | Uint8Array, endOfStream = false): StepResult {
    this.onData("request", typeof chunk === "string" ? utf8(chunk) : chunk, endOfStream);
    return this.step("request");
  }

  /** Request trailers arrive (`decodeTrailers`). */
  requestTrailers(trailers: HeaderInput): StepResult {
    this.onTrailers("request", new HeaderMap(trailers));
    return this.step("request");
  }

  /** Response headers arrive from upstream (`encodeHeaders`); include `:status`. */
  responseHeaders(headers: HeaderInput, endOfStream = false): StepResult {
    this.upstreamCalled = true;
    this.onHeaders("response", new HeaderMap(headers), endOfStream);
    return this.step("response");
  }

  responseBody(chunk: string | Uint8Array, endOfStream = false): StepResult {
    this.onData("response", typeof chunk === "string" ? utf8(chunk) : chunk, endOfStream);
    return this.step("response");
  }

  responseTrailers(trailers: HeaderInput): StepResult {
    this.onTrailers("response", new HeaderMap(trailers));
    return this.step("response");
  }

  /** Ends the stream: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete`. Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.endMs = this.vm.core.clock.nowMs;
    if (this.created && !this.vm.failed) {
      this.accessLogPhase = true;
      this.vm.callForStream(this, "proxy_on_log");
      this.accessLogPhase = false;
      this.vm.callForStream(this, "proxy_on_done");
      this.vm.callForStream(this, "proxy_on_delete");
    }
    this.vm.unregister(this.id);
    this.listeners.finished?.();
  }

  /** Whether the plugin currently holds the given side stopped. */
  paused(dir: Dir): boolean {
    return (dir === "request" ? this.req : this.resp).stopped !== null;
  }

  /** The request side's current header map (live). */
  get currentRequestHeaders(): HeaderMap {
    return this.req.headers;
  }

  /** The response side's current header map (live). */
  get currentResponseHeaders(): HeaderMap {
    return this.resp.headers;
  }

  private step(dir: Dir): StepResult {
    if (this.resetReason) return "reset";
    if (this.localReply) return "local-reply";
    const s = dir === "request" ? this.req : this.resp;
    if (s.complete) return "complete";
    return s.stopped ? "pause" : "continue";
  }

  // ------------------------------------------------------------ high-level driver

  /**
   * Runs a whole request: headers, body chunks, trailers; forwards to `upstream` when the request
   * has passed the plugin; runs the response back; ends the stream. Resolves when the stream ends
   * (which may need `host.advance()` when the plugin waits for a timer).
   */
  run(input: { headers: HeaderInput; body?: BodyInput; trailers?: HeaderInput; upstream: UpstreamHandler }): Promise<RequestResult> {
    return new Promise((resolve) => {
      this.listeners.requestComplete = () => this.vm.core.track(this.callUpstream(input.upstream));
      this.listeners.responseComplete = () => this.finish();
      this.listeners.finished = () => resolve(this.result());
      const chunks = bodyChunks(input.body);
      const trailers = input.trailers === undefined ? undefined : new HeaderMap(input.trailers);
      const hasTrailers = trailers !== undefined && trailers.size > 0;
      this.onHeaders("request", new HeaderMap(input.headers), chunks.length === 0 && !hasTrailers);
      chunks.forEach((c, i) => this.onData("request", c, i === chunks.length - 1 && !hasTrailers));
      if (hasTrailers) this.onTrailers("request", trailers);
    });
  }

  private async callUpstream(upstream: UpstreamHandler): Promise<void> {
    if (this.localReply || this.resetReason || this.finished || !this.forwardedRequest) return;
    this.upstreamCalled = true;
    let response: UpstreamResponse;
    try {
      if (typeof upstream === "string") {
        const d = await sendToLoopback(upstream, {
          cluster: "upstream",
          token: 0,
          worker: this.worker,
          method: this.forwardedRequest.headers.get(":method") ?? "GET",
          path: this.forwardedRequest.headers.get(":path") ?? "/",
          authority: this.forwardedRequest.headers.get(":authority") ?? "",
          headers: this.forwardedRequest.headers,
          body: this.forwardedRequest.body,
          bodyText: this.forwardedRequest.bodyText,
          trailers: this.forwardedRequest.trailers,
          timeoutMs: 0,
        });
        response = { status: Number(d.headers.get(":status")), headers: d.headers.toPairs().filter(([k]) => k !== ":status"), body: d.body, trailers: d.trailers };
      } else if (typeof upstream === "function") {
        response = await upstream(this.forwardedRequest);
      } else {
        response = upstream;
      }
    } catch {
      const body = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
      response = { status: 503, headers: { "content-length": String(body.length), "content-type": "text/plain" }, body };
    }
    if (this.localReply || this.resetReason || this.finished) return;
    const headers = new HeaderMap([[":status", String(response.status ?? 200)]]);
    for (const [k, v] of new HeaderMap(response.headers).toPairs()) if (k !== ":status") headers.add(k, v);
    const chunks = bodyChunks(response.body);
    const trailers = new HeaderMap(response.trailers);
    const hasTrailers = trailers.size > 0;
    this.onHeaders("response", headers, chunks.length === 0 && !hasTrailers);
    chunks.forEach((c, i) => this.onData("response", c, i === chunks.length - 1 && !hasTrailers));
    if (hasTrailers) this.onTrailers("response", trailers);
  }

  /** The summary of a finished stream. */
  result(): RequestResult {
    const response: FinalResponse = this.finalResponse ?? {
      status: 0,
      headers: new HeaderMap(),
      body: new Uint8Array(0),
      bodyText: "",
      trailers: new HeaderMap(),
    };
    return {
      worker: this.worker,
      streamId: this.id,
      request: this.upstreamCalled || (this.forwardedRequest && !this.localReply) ? (this.forwardedRequest ?? null) : null,
      upstreamCalled: this.upstreamCalled,
      localReply: this.localReply,
      response,
      reset: this.resetReason,
      logs: this.logs,
      foreignCalls: this.foreignCalls,
      clearRouteCacheCount: this.clearRouteCacheCount,
      trap: this.trap,
    };
  }

  // ------------------------------------------------------------ host-function hooks

  mutableMap(type: number): HeaderMap | null {
    if (this.accessLogPhase) return null;
    switch (type) {
      case MapType.RequestHeaders:
        return this.req.headersHeld ? this.req.headers : null;
      case MapType.RequestTrailers:
        return this.req.trailersHeld ? this.req.trailers : null;
      case MapType.ResponseHeaders:
        return this.resp.headersHeld ? this.resp.headers : null;
      case MapType.ResponseTrailers:
        return this.resp.trailersHeld ? this.resp.trailers : null;
      default:
        return null;
    }
  }

  constMap(type: number): HeaderMap | null {
    if (this.accessLogPhase) {
      if (type === MapType.RequestHeaders) return this.req.headers;
      if (type === MapType.ResponseHeaders) return this.resp.started ? this.resp.headers : null;
      if (type === MapType.ResponseTrailers) return this.resp.trailers;
      return null;
    }
    return this.mutableMap(type);
  }

  bodyBuffer(type: number): BodyBuffer | null {
    return (type === 0 ? this.req : this.resp).body;
  }

  /**
   * Request headers as Envoy's attributes see them: only while Envoy holds the map (headers
   * callback until continued) or in the access-log phase (`request_headers_ ?:
   * access_log_request_headers_`); header-derived `request.*` attributes are NotFound otherwise.
   */
  requestHeadersForProperties(): HeaderMap | null {
    return this.req.headersHeld || this.accessLogPhase ? this.req.headers : null;
  }
  responseHeadersForProperties(): HeaderMap | null {
    return this.resp.headersHeld || (this.accessLogPhase && this.resp.started) ? this.resp.headers : null;
  }
  responseTrailersForProperties(): HeaderMap | null {
    return this.resp.trailersHeld || this.accessLogPhase ? this.resp.trailers : null;
  }
  /** The response code once response headers have reached the filter (stream info). */
  responseCode(): number | undefined {
    if (this.finalResponse) return this.finalResponse.status;
    return this.resp.started ? Number(this.resp.headers.get(":status") ?? 0) : undefined;
  }
  /** Whether the access-log phase (`proxy_on_log`) is running. */
  get inAccessLog(): boolean {
    return this.accessLogPhase;
  }
  requestBodySize(): number {
    return this.req.forwardedSize();
  }
  responseBodySize(): number {
    return this.resp.forwardedSize();
  }

  /** `proxy_continue_stream(Request|Response)` for this stream. */
  requestContinue(type: number): void {
    // Envoy releases the request-side maps at once (Context::continueStream), then resumes later.
    this.req.headersHeld = false;
    this.req.trailersHeld = false;
    if (!this.req.buffering) this.req.body = null;
    const dir: Dir = type === 0 ? "request" : "response";
    this.vm.defer(() => {
      if (this.inCallback > 0) this.pendingContinue.add(dir);
      else this.resume(dir);
    });
  }

  /** `proxy_send_local_response` for this stream: applied after the running VM call returns. */
  requestLocalReply(reply: Omit<LocalReply, "source" | "bodyText">): void {
    this.vm.defer(() => this.sendLocalReply({ ...reply, bodyText: fromUtf8(reply.body), source: "plugin" }));
  }

  /** `proxy_close_stream`: the stream is reset; the client gets no response. */
  reset(reason: string): void {
    if (this.finished || this.resetReason) return;
    this.resetReason = reason;
    this.finish();
  }

  // ------------------------------------------------------------ the state machine

  private side(dir: Dir): Side {
    return dir === "request" ? this.req : this.resp;
  }

  private aborted(dir: Dir): boolean {
    if (this.finished || this.resetReason) return true;
    return dir === "request" ? this.localReply !== undefined : this.resp.replaced;
  }

  private ensureCreated(): void {
    if (this.created || this.vm.failed) return;
    this.vm.callForStream(this, "proxy_on_context_create", this.vm.rootContextId);
    if (!this.vm.failed) this.created = true;
  }

  private checkFail(dir: Dir): Outcome | null {
    if (!this.vm.failed) return null;
    this.trap ??= this.vm.trap;
    if (this.vm.core.options.failStrategy === "FAIL_OPEN") return "continue";
    this.failStream();
    void dir;
    return "aborted";
  }

  private invoke(dir: Dir, kind: CallKind, ...args: number[]): Outcome {
    if (this.aborted(dir)) return "aborted";
    // Envoy calls the VM for everything but request headers only once the context exists, and
    // skips the response callbacks after a failure reply.
    if (!this.created && !(dir === "request" && kind === "headers")) return "continue";
    if (dir === "response" && this.failureReplySent) return "continue";
    const pre = this.checkFail(dir);
    if (pre) return pre;
    const repliesBefore = this.localReplyCount;
    const vmRepliesBefore = this.vm.localResponsesSent;
    this.inCallback++;
    let raw: number | undefined;
    try {
      raw = this.vm.callForStream(this, CALLBACKS[dir][kind], ...args);
    } finally {
      this.inCallback--;
    }
    const post = this.checkFail(dir);
    if (post) return post;
    if (this.localReplyCount !== repliesBefore || this.aborted(dir)) return "aborted";
    const r = raw ?? 0;
    // A local reply sent during this callback to another stream (effective context) still
    // stops this one: proxy-wasm-cpp-host's stopNextIteration flag is VM-wide.
    if (this.vm.localResponsesSent !== vmRepliesBefore) return kind === "body" ? "nobuffer" : "stop";
    if (kind === "headers") {
      if (r === FilterHeadersStatus.Continue || r === FilterHeadersStatus.ContinueAndEndStream) return "continue";
      // proxy-wasm-cpp-host turns StopIteration into StopAllIterationAndWatermark unless the
      // plugin config allows StopIteration on headers (Envoy 1.35+).
      if (r === FilterHeadersStatus.StopIteration && this.vm.core.options.allowOnHeadersStopIteration) return "stop-iteration";
      return "stop";
    }
    if (kind === "body") {
      if (r === FilterDataStatus.Continue) return "continue";
      if (r === FilterDataStatus.StopIterationAndBuffer || r === FilterDataStatus.StopIterationAndWatermark) return "buffer";
      return "nobuffer";
    }
    return r === 0 ? "continue" : "stop";
  }

  private onHeaders(dir: Dir, headers: HeaderMap, eos: boolean): void {
    const s = this.side(dir);
    if (dir === "request") this.ensureCreated();
    if (this.aborted(dir) || s.started) return;
    s.started = true;
    s.headers = headers;
    s.headersHeld = true;
    s.headersEos = eos;
    s.eosSeen = eos;
    const outcome = this.invoke(dir, "headers", headers.size, eos ? 1 : 0);
    if (outcome === "aborted") return;
    if (outcome === "continue") {
      s.headersHeld = false;
      s.headersDone = true;
      if (eos) this.complete(dir);
    } else if (outcome === "stop-iteration" && !eos) {
      // Headers wait (writable) while body and trailers still reach the plugin.
      s.holdHeaders = true;
    } else {
      s.stopped = "headers";
    }
    this.flushContinue(dir);
  }

  /** The held headers go on with the data that releases them (kept-StopIteration mode). */
  private releaseHeldHeaders(s: Side): void {
    if (!s.holdHeaders) return;
    s.holdHeaders = false;
    s.headersHeld = false;
    s.headersDone = true;
  }

  private onData(dir: Dir, chunk: Uint8Array, eos: boolean): void {
    const s = this.side(dir);
    if (this.aborted(dir) || s.complete) return;
    if (eos) s.eosSeen = true;
    if (s.stopped === "headers") {
      s.fmData.append(chunk);
      if (eos) s.fmEos = true;
      return;
    }
    if (s.buffering && s.body) s.body.append(chunk);
    else s.body = new BodyBuffer(chunk.slice());
    const outcome = this.invoke(dir, "body", s.body.size, eos ? 1 : 0);
    if (outcome === "aborted") return;
    if (outcome === "continue") {
      this.releaseHeldHeaders(s);
      if (s.body) s.forward(s.body.bytes);
      s.body = null;
      s.buffering = false;
      s.stopped = null;
      if (eos) this.complete(dir);
    } else if (outcome === "buffer") {
      s.buffering = true;
      s.stopped = "body";
      if (this.bufferLimitBytes !== undefined && s.body.size > this.bufferLimitBytes) {
        this.bufferTooLarge(dir);
        return;
      }
    } else {
      s.body = null;
      s.buffering = false;
      s.stopped = "body-nobuffer";
    }
    this.flushContinue(dir);
  }

  private onTrailers(dir: Dir, trailers: HeaderMap): void {
    const s = this.side(dir);
    if (this.aborted(dir) || s.complete) return;
    if (s.stopped === "headers") {
      s.fmTrailers = trailers;
      return;
    }
    s.trailers = trailers;
    s.trailersHeld = true;
    s.eosSeen = true;
    const outcome = this.invoke(dir, "trailers", trailers.size);
    if (outcome === "aborted") return;
    if (outcome === "continue") {
      this.releaseHeldHeaders(s);
      s.trailersHeld = false;
      if (s.body) s.forward(s.body.bytes);
      s.body = null;
      s.buffering = false;
      s.stopped = null;
      this.complete(dir);
    } else {
      s.stopped = "trailers";
    }
    this.flushContinue(dir);
  }

  private flushContinue(dir: Dir): void {
    if (this.pendingContinue.delete(dir)) this.resume(dir);
  }

  private resume(dir: Dir): void {
    const s = this.side(dir);
    if (this.aborted(dir) || s.complete) return;
    this.releaseHeldHeaders(s);
    switch (s.stopped) {
      case "headers": {
        s.stopped = null;
        s.headersHeld = false;
        s.headersDone = true;
        if (s.headersEos) {
          this.complete(dir);
          return;
        }
        const data = s.fmData;
        const eos = s.fmEos;
        const trailers = s.fmTrailers;
        s.fmData = new BodyBuffer();
        s.fmEos = false;
        s.fmTrailers = null;
        if (data.size > 0 || (eos && !trailers)) this.onData(dir, data.bytes, eos && !trailers);
        if (trailers && !this.aborted(dir)) this.onTrailers(dir, trailers);
        return;
      }
      case "body":
        s.stopped = null;
        if (s.body) s.forward(s.body.bytes);
        s.body = null;
        s.buffering = false;
        if (s.eosSeen && !s.trailers) this.complete(dir);
        return;
      case "body-nobuffer":
        s.stopped = null;
        if (s.eosSeen && !s.trailers) this.complete(dir);
        return;
      case "trailers":
        s.stopped = null;
        s.trailersHeld = false;
        if (s.body) s.forward(s.body.bytes);
        s.body = null;
        this.complete(dir);
        return;
      default:
        return;
    }
  }

  private complete(dir: Dir): void {
    const s = this.side(dir);
    if (s.complete) return;
    s.complete = true;
    const body = s.forwardedBody();
    if (dir === "request") {
      this.requestComplete = true;
      this.forwardedRequest = { headers: s.headers.clone(), body, bodyText: fromUtf8(body), trailers: s.trailers?.clone() ?? new HeaderMap() };
      this.listeners.requestComplete?.();
    } else {
      this.responseComplete = true;
      this.finalResponse = {
        status: Number(s.headers.get(":status") ?? 0),
        headers: s.headers.clone(),
        body,
        bodyText: fromUtf8(body),
        trailers: s.trailers?.clone() ?? new HeaderMap(),
      };
      this.listeners.responseComplete?.();
    }
  }

  /**
   * A buffered body went over the limit: Envoy's `requestDataTooLarge` (413 Payload Too Large) or
   * `responseDataTooLarge` (500, or a reset when response headers already went downstream).
   */
  private bufferTooLarge(dir: Dir): void {
    const s = this.side(dir);
    s.body = null;
    s.buffering = false;
    const reply = (status: number, text: string, details: string) =>
      this.sendLocalReply({ status, body: utf8(text), bodyText: text, headers: [], grpcStatus: -1, details, source: "buffer-limit" });
    if (dir === "request") reply(413, "Payload Too Large", "request_payload_too_large");
    else if (s.headersDone) this.reset("response_payload_too_large");
    else reply(500, "Internal Server Error", "response_payload_too_large");
  }

  private failStream(): void {
    if (this.failureReplySent) return;
    this.failureReplySent = true;
    this.sendLocalReply({
      status: 503,
      body: new Uint8Array(0),
      bodyText: "",
      headers: [],
      grpcStatus: 14,
      details: "wasm_fail_stream",
      source: "fail-closed",
    });
  }

  private sendLocalReply(reply: LocalReply): void {
    if (this.localReply || this.finished || this.resetReason) return;
    this.localReply = reply;
    this.localReplyCount++;
    // Envoy's local reply (observed in Envoy 1.40): :status, then the plugin's additional headers
    // (added, not replaced), then content-length and, when the plugin set none, content-type
    // text/plain when there is a body.
    let headers = new HeaderMap([[":status", String(reply.status)]]);
    for (const [k, v] of reply.headers) headers.add(k, v);
    if (reply.body.length > 0) {
      headers.set("content-length", String(reply.body.length));
      if (!headers.has("content-type")) headers.add("content-type", "text/plain");
    }
    const contentType = this.req.headers.get("content-type") ?? "";
    if (contentType.startsWith("application/grpc")) {
      // gRPC requests get a trailers-only gRPC reply (Http::Utility::sendLocalReply).
      headers = new HeaderMap([
        [":status", "200"],
        ["content-type", "application/grpc"],
        ["grpc-status", String(reply.grpcStatus >= 0 && reply.grpcStatus <= 16 ? reply.grpcStatus : httpToGrpcStatus(reply.status))],
      ]);
      if (reply.body.length > 0) headers.add("grpc-message", encodeURIComponent(reply.bodyText));
      reply = { ...reply, body: new Uint8Array(0) };
      for (const [k, v] of reply.headers) headers.add(k, v);
    }
    if (!this.resp.started) {
      // Through the filter chain: the plugin's response callbacks see the local reply.
      this.onHeaders("response", headers, reply.body.length === 0);
      if (reply.body.length > 0) this.onData("response", reply.body, true);
      return;
    }
    // The response is already being encoded: Envoy replaces it directly.
    this.resp.replaced = true;
    this.resp.complete = true;
    this.responseComplete = true;
    this.finalResponse = { status: reply.status, headers, body: reply.body, bodyText: reply.bodyText, trailers: new HeaderMap() };
    this.listeners.responseComplete?.();
  }
}

/** Envoy's `Grpc::Utility::httpToGrpcStatus`. */
function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

function bodyChunks(body: BodyInput): Uint8Array[] {
  if (body === undefined) return [];
  // A single empty body means "no body" (headers end the stream); an array keeps empty chunks.
  if (typeof body === "string" || body instanceof Uint8Array) return body.length === 0 ? [] : [typeof body === "string" ? utf8(body) : body];
  return body.map((c) => (typeof c === "string" ? utf8(c) : c));
}
