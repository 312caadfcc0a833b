/**
 * Runs a proxy-wasm plugin for the local proxy through the host harness (`src/host/`): one
 * `ProxyWasmHost` with N workers (one VM each, as Envoy's worker threads, plus Envoy's main-thread
 * VMs, whose VM ticks and scrapes but gets no streams), a stream per request
 * driven through the harness's Envoy-faithful filter state machine, the virtual clock moved by
 * real time, and the plugin's http calls sent to real upstreams by a cluster → address map.
 */
import { sendToLoopback } from "../host/http-calls.js";
import { ProxyWasmHost, type ClusterHandler, type HttpCallRequest, type HttpStream, type Worker } from "../host/index.js";
import type { FailStrategy } from "./config.js";
import { DEFAULT_ENDPOINT_HEADER, isAddress } from "./config.js";
import type { FilterFactory, FilterWorker, HeaderPairs, StreamFilter, StreamInfo, Verdict } from "./filter.js";
import { MAX_JSON_DEPTH, valueDepth } from "../scenario/json-depth.js";

/** A plugin could not be loaded or refused its configuration. */
export class PluginLoadError extends Error {
  constructor(
    message: string,
    readonly code = "E_PLUGIN_LOAD",
  ) {
    super(message);
  }
}

export interface WasmPluginSpec {
  /** Path of the `.wasm` or its bytes. */
  wasm: string | Uint8Array;
  config?: unknown;
  rootId?: string;
  vmId?: string;
  failStrategy?: FailStrategy;
  /**
   * Envoy 1.35+ PluginConfig `allow_on_headers_stop_iteration`: a headers StopIteration stays
   * StopIteration, so the plugin reads the body while the request headers wait (and stay
   * writable). Default: the plugin config's `holdHeadersForBody` when the config is an object.
   */
  allowOnHeadersStopIteration?: boolean;
  /** Plugin log level (default warn); lines at or above it go to stderr when `echoLogs`. */
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "critical";
  echoLogs?: boolean;
}

export interface WasmFilterOptions {
  workers: number;
  /** Cluster name → `ip:port` or `http://ip:port`. */
  clusters?: Record<string, string>;
  /** Header a call may carry to pick one endpoint of the cluster (Envoy override_host). */
  endpointHeader?: string;
  /** Endpoints the override header may name for any cluster (the pool's members). */
  endpoints?: string[];
  /** How long a paused stream may wait for the plugin to resume it (ms of real time). */
  resumeTimeoutMs?: number;
  /**
   * Per-stream buffer limit, as Envoy's listener `per_connection_buffer_limit_bytes` (default
   * 1 MiB): a body the plugin buffers past it gets 413 (request) or 500/reset (response); data
   * held behind stopped headers past it stops the reading (back-pressure) until the plugin resumes.
   */
  bufferLimitBytes?: number;
}

/** The parts of the harness stream this adapter reads that its public API does not expose. */
interface StreamSides {
  req: { headers: { toPairs(): HeaderPairs }; headersDone: boolean; complete: boolean };
  resp: { headers: { toPairs(): HeaderPairs }; headersDone: boolean; complete: boolean };
  listeners: { requestComplete?: () => void; responseComplete?: () => void; finished?: () => void };
}

/** Envoy's default `per_connection_buffer_limit_bytes` (1 MiB): what one stream may buffer. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1 << 20;

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A cluster handler that honours the endpoint override header like an override_host cluster. */
function clusterHandler(base: string, header: string, allowed: Set<string>): ClusterHandler {
  const url = base.startsWith("http://") ? base : `http://${base}`;
  return async (req: HttpCallRequest) => {
    const pick = req.headers.get(header)?.split(",")[0]?.trim();
    const target = pick && isAddress(pick) && (allowed.size === 0 || allowed.has(pick)) ? `http://${pick}` : url;
    return sendToLoopback(target, req, req.timeoutMs);
  };
}

class WasmStream implements StreamFilter {
  private reqHeadersSent = false;
  private respHeadersSent = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly s: HttpStream,
    private readonly resumeTimeoutMs: number,
    private readonly bufferLimitBytes: number,
  ) {
    const l = this.sides.listeners;
    const poke = () => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    l.requestComplete = poke;
    l.responseComplete = poke;
    l.finished = poke;
  }

  private get sides(): StreamSides {
    return this.s as unknown as StreamSides;
  }

  /** A local reply or reset decided by the plugin (or by the failure policy), if any. */
  private final(): Verdict | null {
    const s = this.s;
    if (s.resetReason) return { kind: "reset", reason: s.resetReason };
    if (s.localReply) {
      const fr = s.finalResponse;
      if (fr) return { kind: "local", status: fr.status, headers: fr.headers.toPairs().filter(([k]) => !k.startsWith(":")), body: fr.body };
      const lr = s.localReply;
      return { kind: "local", status: lr.status, headers: lr.headers, body: lr.body };
    }
    return null;
  }

  private progress(dir: "req" | "resp"): Verdict {
    const f = this.final();
    if (f) return f;
    const side = this.sides[dir];
    if (!side.headersDone) return { kind: "wait" };
    // Taken, not copied: the stream keeps nothing of a body once it went on (Envoy streams it).
    const fresh = this.s.takeForwarded(dir === "req" ? "request" : "response");
    const v: Verdict = { kind: "continue" };
    const headersSent = dir === "req" ? this.reqHeadersSent : this.respHeadersSent;
    if (!headersSent) {
      v.headers = side.headers.toPairs();
      if (dir === "req") this.reqHeadersSent = true;
      else this.respHeadersSent = true;
    }
    if (fresh.length) v.data = concat(fresh);
    return v;
  }

  /** Waits (bounded) until the side completes or the stream ends, for plugins that resume later. */
  private async settled(dir: "req" | "resp"): Promise<Verdict> {
    const deadline = Date.now() + this.resumeTimeoutMs;
    while (!this.final() && !this.sides[dir].complete && !this.s.finished && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 5);
      });
    }
    if (!this.final() && !this.sides[dir].complete) {
      return { kind: "local", status: 504, headers: [["content-type", "text/plain"]], body: new TextEncoder().encode("the plugin paused the stream and did not resume it in time") };
    }
    return this.progress(dir);
  }

  async requestHeaders(headers: HeaderPairs, eos: boolean): Promise<Verdict> {
    this.s.requestHeaders(headers, eos);
    return eos ? this.settled("req") : this.progress("req");
  }

  /**
   * Back-pressure behind stopped headers (Envoy's StopAllIterationAndWatermark): while more than
   * the buffer limit is held for the plugin, the caller stops reading until the plugin resumes.
   */
  private async belowWatermark(dir: "req" | "resp"): Promise<Verdict | null> {
    const name = dir === "req" ? "request" : "response";
    if (this.s.heldBytes(name) <= this.bufferLimitBytes) return null;
    const deadline = Date.now() + this.resumeTimeoutMs;
    while (!this.final() && !this.s.finished && this.s.heldBytes(name) > this.bufferLimitBytes && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 5);
      });
    }
    if (!this.final() && this.s.heldBytes(name) > this.bufferLimitBytes) {
      return { kind: "local", status: 504, headers: [["content-type", "text/plain"]], body: new TextEncoder().encode("the plugin paused the stream and did not resume it in time") };
    }
    return null;
  }

  async requestData(chunk: Uint8Array, eos: boolean): Promise<Verdict> {
    if (!this.sides.req.complete && !this.final()) this.s.requestBody(chunk, eos);
    if (eos) return this.settled("req");
    return (await this.belowWatermark("req")) ?? this.progress("req");
  }

  async responseHeaders(headers: HeaderPairs, eos: boolean): Promise<Verdict> {
    this.s.responseHeaders(headers, eos);
    return eos ? this.settled("resp") : this.progress("resp");
  }

  async responseData(chunk: Uint8Array, eos: boolean): Promise<Verdict> {
    if (!this.sides.resp.complete && !this.final()) this.s.responseBody(chunk, eos);
    if (eos) return this.settled("resp");
    return (await this.belowWatermark("resp")) ?? this.progress("resp");
  }

  end(): void {
    this.s.finish();
  }
}

class WasmWorker implements FilterWorker {
  constructor(
    private readonly worker: Worker,
    private readonly resumeTimeoutMs: number,
    private readonly bufferLimitBytes: number,
  ) {}
  createStream(info: StreamInfo): StreamFilter {
    const stream = this.worker.newStream({ sourceAddress: info.source, destinationAddress: info.destination, bufferLimitBytes: this.bufferLimitBytes });
    return new WasmStream(stream, this.resumeTimeoutMs, this.bufferLimitBytes);
  }
}

/** The plugin on N workers, ready for `ProxyServer`. */
export class WasmFilterFactory implements FilterFactory {
  readonly workers: FilterWorker[];
  private advancing: Promise<void> = Promise.resolve();

  /** A plugin picks the upstream itself (the proxy honours its steering headers). */
  readonly steers = true;

  constructor(
    readonly host: ProxyWasmHost,
    resumeTimeoutMs: number,
    bufferLimitBytes = DEFAULT_BUFFER_LIMIT_BYTES,
  ) {
    this.workers = host.workers.map((w) => new WasmWorker(w, resumeTimeoutMs, bufferLimitBytes));
  }

  /** Moves the plugin's clock by real elapsed time (ticks, http-call timeouts). */
  advance(ms: number): Promise<void> {
    this.advancing = this.advancing.then(async () => {
      await this.host.advance(ms);
      // A long-running proxy keeps no history: drop answered calls and captured log lines.
      const calls = this.host.httpCalls;
      if (calls.length > 1000) {
        const pending = calls.filter((c) => c.state === "pending");
        calls.length = 0;
        calls.push(...pending);
      }
      if (this.host.logs.entries.length > 1000) this.host.logs.entries.length = 0;
    });
    return this.advancing;
  }

  async close(): Promise<void> {
    await this.advancing;
    this.host.close();
  }
}

/** Whether a plugin config asks the host to keep a headers StopIteration (`holdHeadersForBody`). */
export function holdsHeaders(config: unknown): boolean {
  let c = config;
  if (typeof c === "string") {
    try {
      c = JSON.parse(c);
    } catch {
      return false;
    }
  }
  return !!c && typeof c === "object" && (c as { holdHeadersForBody?: unknown }).holdHeadersForBody === true;
}

/** Loads the plugin on `workers` VMs; throws {@link PluginLoadError} when it cannot run. */
export async function createWasmFilters(spec: WasmPluginSpec, opts: WasmFilterOptions): Promise<WasmFilterFactory> {
  const header = (opts.endpointHeader ?? DEFAULT_ENDPOINT_HEADER).toLowerCase();
  const allowed = new Set(opts.endpoints ?? []);
  if (valueDepth(spec.config) > MAX_JSON_DEPTH) throw new PluginLoadError(`the plugin config nests more than ${MAX_JSON_DEPTH} levels deep`);
  const clusters: Record<string, ClusterHandler> = {};
  for (const [name, addr] of Object.entries(opts.clusters ?? {})) clusters[name] = clusterHandler(addr, header, allowed);
  let host: ProxyWasmHost;
  try {
    host = await ProxyWasmHost.create({
      module: spec.wasm,
      workers: opts.workers,
      pluginConfig: spec.config === undefined ? undefined : typeof spec.config === "string" ? spec.config : JSON.stringify(spec.config),
      rootId: spec.rootId ?? "",
      vmId: spec.vmId ?? "",
      failStrategy: spec.failStrategy ?? "FAIL_CLOSE",
      logLevel: spec.logLevel ?? "warn",
      echoLogs: spec.echoLogs ?? false,
      now: Date.now(),
      clusters,
      allowOnHeadersStopIteration: spec.allowOnHeadersStopIteration ?? holdsHeaders(spec.config),
    });
  } catch (err) {
    throw new PluginLoadError(`cannot load the plugin: ${(err as Error).message}`);
  }
  if (!host.configured) {
    const lines = [...new Set(host.logs.entries.map((e) => `${e.level}: ${e.message}`))].slice(-4).join("; ");
    host.close();
    throw new PluginLoadError(`the plugin refused to start or configure${lines ? ` (${lines})` : ""}; check the plugin config`);
  }
  return new WasmFilterFactory(host, opts.resumeTimeoutMs ?? 30_000, opts.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES);
}
