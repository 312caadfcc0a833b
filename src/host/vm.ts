/**
 * One Wasm VM (one Envoy worker's instance of the plugin): linking exactly what Envoy links,
 * start-up (`_initialize` then `main`, else `_start`), the root context, the context registry with
 * `proxy_set_effective_context`, "after VM call" actions, trap capture, tick timers, http-call
 * delivery and queue-ready delivery.
 */
import { BufferType, MapType, STREAM_TYPE_MAX, StreamType, WasmResult, type AbiVersion, type LogLevelName } from "./abi.js";
import { BodyBuffer, bufferImports } from "./buffers.js";
import type { HostCore, TrapInfo, ForeignCall } from "./core.js";
import { LinkError, VmStartError } from "./errors.js";
import { HeaderMap, decodePairs, headerImports, type HeaderPairs } from "./headers.js";
import {
  envoyLocalReply,
  httpCallImports,
  HttpCallRecord,
  sendToLoopback,
  toDelivered,
  type DeliveredHttpResponse,
  type HttpCallRequest,
  type HttpCallState,
} from "./http-calls.js";
import { logImports, type LogEntry, type LogSource } from "./logs.js";
import { GuestMemory, utf8 } from "./memory.js";
import { MetricIds, metricImports } from "./metrics.js";
import { encodeProperty, lookupMerged, splitPath, propertyImports, type PropertyTree } from "./properties.js";
import { sharedDataImports } from "./shared-data.js";
import { sharedQueueImports } from "./shared-queues.js";
import { defaultProperties, type PropertyStream } from "./stream-properties.js";
import { timerImports, type ClockEvent } from "./timers.js";
import { ProcExit, WASI_MODULES, wasiImports } from "./wasi.js";

/**
 * What the VM needs of an HTTP stream it runs callbacks for (streams.ts's HttpStream is one). An
 * interface, so that the VM depends on no stream driver and the driver depends on the VM.
 */
export interface VmStream extends PropertyStream {
  readonly id: number;
  readonly properties?: PropertyTree;
  readonly filterState: Map<string, Uint8Array>;
  readonly logs: LogEntry[];
  readonly foreignCalls: ForeignCall[];
  clearRouteCacheCount: number;
  readonly inAccessLog: boolean;
  mutableMap(type: number): HeaderMap | null;
  constMap(type: number): HeaderMap | null;
  bodyBuffer(type: number): BodyBuffer | null;
  requestContinue(type: number): void;
  requestLocalReply(reply: { status: number; body: Uint8Array; headers: HeaderPairs; grpcStatus: number; details: string }): void;
  reset(reason: string): void;
}

/** A context inside the VM: the root context or an HTTP stream context. */
export interface ContextRecord {
  id: number;
  kind: "vm" | "root" | "stream";
  rootId: number;
  stream?: VmStream;
  /** Root only: the http-call response being delivered (null on the failure path). */
  httpCallResponse?: DeliveredHttpResponse | null;
  /** `proxy_get_status` of this context. */
  status: { code: number; message: string };
  /** Stream only: Envoy's default attributes of the stream, once looked up. */
  defaults?: PropertyTree;
  /** Root only: tick timer. */
  tickPeriodMs?: number;
  tickEvent?: ClockEvent;
}

type ImportFn = (...args: never[]) => unknown;

/** Time a host function spent back inside the guest (its allocator), which is the plugin's. */
interface GuestTime {
  guestMsInHostCalls: number;
}

/**
 * `fn` reporting its wall time to `report` (ProxyWasmHostOptions.onHostCall), less the time it
 * spent calling back into the guest's allocator.
 */
function timed(name: string, fn: ImportFn, report: (name: string, ms: number) => void, guest: GuestTime): ImportFn {
  return (...args: never[]) => {
    const g = guest.guestMsInHostCalls;
    const t = performance.now();
    try {
      return fn(...args);
    } finally {
      report(name, Math.max(0, performance.now() - t - (guest.guestMsInHostCalls - g)));
    }
  };
}

const EMPTY = new BodyBuffer(new Uint8Array(0), false);

export class PluginVm {
  readonly mem: GuestMemory;
  readonly metricIds = new MetricIds();
  readonly contexts = new Map<number, ContextRecord>();
  instance?: WebAssembly.Instance;
  rootContextId = 0;
  /** `proxy_on_vm_start` returned non-zero. */
  started = false;
  /** `proxy_on_configure` returned non-zero. */
  configured = false;
  /** The VM trapped (or was discarded): Envoy never calls into it again. */
  failed = false;
  /** Dropped on purpose (the configuration canary), not trapped. */
  discarded = false;
  trap?: TrapInfo;
  private exports: Record<string, unknown> = {};
  private memory?: WebAssembly.Memory;
  private allocatorFn?: (size: number) => number;
  /** With onHostCall: time spent in the guest's allocator from inside host functions. */
  guestMsInHostCalls = 0;
  private readonly callStack: number[] = [];
  private effective = 0;
  /**
   * `proxy_send_local_response` calls so far. A filter callback during which this grew returns
   * stop whatever the plugin returned (proxy-wasm-cpp-host: send_local_response sets the VM's
   * stopNextIteration flag, cleared when the callback ends), even when the reply went to
   * another stream made effective.
   */
  localResponsesSent = 0;
  private deferred: Array<() => void> = [];
  private nextContextId = 0;
  private nextHttpCall = 0;
  private configuring = false;
  /** The stream whose callback is running (for log attribution). */
  private runningStream?: VmStream;

  private constructor(
    readonly core: HostCore,
    readonly module: WebAssembly.Module,
    readonly abi: AbiVersion,
    readonly worker: number,
  ) {
    this.mem = new GuestMemory(
      () => this.memory,
      () => this.allocatorFn,
    );
  }

  get vmId(): string {
    return this.core.options.vmId;
  }

  /**
   * Instantiates, starts and configures one VM. Link errors throw {@link LinkError}; a plugin that
   * traps or refuses to start/configure does not throw: see `started`, `configured`, `trap`.
   */
  static create(core: HostCore, module: WebAssembly.Module, abi: AbiVersion, worker: number, options: { plugin?: boolean } = {}): PluginVm {
    const vm = new PluginVm(core, module, abi, worker);
    vm.instantiate();
    vm.start(options.plugin ?? true);
    return vm;
  }

  // ---------------------------------------------------------------- linking and start

  private envImports(): Record<string, ImportFn> {
    const env: Record<string, ImportFn> = {
      ...logImports(this),
      ...headerImports(this),
      ...bufferImports(this),
      ...propertyImports(this),
      ...httpCallImports(this),
      ...sharedDataImports(this),
      ...sharedQueueImports(this),
      ...timerImports(this),
      ...metricImports(this),
      ...this.streamControlImports(),
      emscripten_notify_memory_growth: () => undefined,
      pthread_equal: (a: number, b: number) => (a === b ? 1 : 0),
    };
    if (this.abi === "0.1.0") {
      delete env["proxy_continue_stream"];
      delete env["proxy_close_stream"];
      delete env["proxy_get_log_level"];
      env["proxy_get_configuration"] = (rp: number, rs: number) => {
        const data = this.configuring ? this.core.options.pluginConfig : this.core.options.vmConfig;
        return this.mem.copyOut(data, rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      };
      env["proxy_continue_request"] = () => this.continueStream(StreamType.Request);
      env["proxy_continue_response"] = () => this.continueStream(StreamType.Response);
      env["proxy_clear_route_cache"] = () => {
        this.recordForeignCall("clear_route_cache", new Uint8Array(0), WasmResult.Ok);
        return WasmResult.Ok;
      };
    }
    return env;
  }

  private instantiate(): void {
    const env = this.envImports();
    const wasi = wasiImports(this) as Record<string, ImportFn>;
    const provided: Record<string, Record<string, ImportFn>> = { env };
    for (const m of WASI_MODULES) provided[m] = wasi;
    for (const [m, fns] of Object.entries(this.core.options.extraImports ?? {})) provided[m] = { ...provided[m], ...fns };
    const missing: string[] = [];
    const imports: WebAssembly.Imports = {};
    const onHostCall = this.core.options.onHostCall;
    for (const imp of WebAssembly.Module.imports(this.module)) {
      const fn = imp.kind === "function" ? provided[imp.module]?.[imp.name] : undefined;
      if (!fn) {
        missing.push(`${imp.module}.${imp.name}`);
        continue;
      }
      (imports[imp.module] ??= {})[imp.name] = (onHostCall ? timed(imp.name, fn, onHostCall, this) : fn) as unknown as WebAssembly.ImportValue;
    }
    if (missing.length) throw new LinkError([...new Set(missing)]);
    this.instance = new WebAssembly.Instance(this.module, imports);
    this.exports = this.instance.exports as Record<string, unknown>;
    const memory = this.exports["memory"];
    if (memory instanceof WebAssembly.Memory) this.memory = memory;
    const malloc = this.exports["malloc"] ?? this.exports["proxy_on_memory_allocate"];
    if (typeof malloc !== "function") {
      throw new VmStartError(
        "the module exports neither malloc nor proxy_on_memory_allocate; Envoy needs one of them to pass data into the VM",
      );
    }
    const alloc = malloc as (n: number) => number | bigint;
    this.allocatorFn = onHostCall
      ? (size: number) => {
          const t = performance.now();
          try {
            return Number(alloc(size));
          } finally {
            this.guestMsInHostCalls += performance.now() - t;
          }
        }
      : (size: number) => Number(alloc(size));
  }

  /**
   * Start functions, then (with `plugin`) the root context, `proxy_on_vm_start` and
   * `proxy_on_configure`. Without `plugin` this is Envoy's base VM: loaded and initialized only.
   */
  private start(plugin: boolean): void {
    // Start functions run with the VM context (id 0) current.
    const vmContext: ContextRecord = { id: 0, kind: "vm", rootId: 0, status: { code: 0, message: "" } };
    this.contexts.set(0, vmContext);
    this.nextContextId = 1;
    if (typeof this.exports["_initialize"] === "function") {
      this.call("_initialize", 0);
      if (!this.failed && typeof this.exports["main"] === "function") {
        const main = this.exports["main"] as (...a: number[]) => unknown;
        this.call("main", 0, ...new Array<number>(main.length).fill(0));
      }
    } else if (typeof this.exports["_start"] === "function") {
      this.call("_start", 0);
    }
    if (this.failed || !plugin) return;
    const rootId = this.nextContextId++;
    this.rootContextId = rootId;
    this.contexts.set(rootId, { id: rootId, kind: "root", rootId, status: { code: 0, message: "" } });
    this.call("proxy_on_context_create", rootId, rootId, 0);
    if (this.failed) return;
    const vmStart = this.call("proxy_on_vm_start", rootId, rootId, this.core.options.vmConfig.length);
    this.started = !this.failed && (vmStart === undefined || vmStart !== 0);
    if (!this.started) {
      if (!this.failed) this.log("critical", "Failed to start base Wasm: proxy_on_vm_start returned 0", "host");
      return;
    }
    this.configuring = true;
    const configured = this.call("proxy_on_configure", rootId, rootId, this.core.options.pluginConfig.length);
    this.configuring = false;
    this.configured = !this.failed && (configured === undefined || configured !== 0);
    if (!this.configured && !this.failed) {
      this.log("critical", "Unable to configure Wasm plugin: proxy_on_configure returned 0", "host");
    }
  }

  // ---------------------------------------------------------------- calling into the VM

  /** Whether a call into this VM is running. */
  get inCall(): boolean {
    return this.callStack.length > 0;
  }

  hasExport(name: string): boolean {
    return typeof this.exports[name] === "function";
  }

  /**
   * Calls an export with `contextId` as the current context. Returns its numeric result, or
   * undefined when the export is missing, the VM is dead, or the call trapped (then `failed`).
   * "After VM call" actions run when the outermost call returns.
   */
  call(name: string, contextId: number, ...args: number[]): number | undefined {
    const fn = this.exports[name];
    if (this.failed || typeof fn !== "function") return undefined;
    this.callStack.push(contextId);
    const savedEffective = this.effective;
    this.effective = 0;
    let result: unknown;
    try {
      result = (fn as (...a: number[]) => unknown)(...args);
    } catch (e) {
      if (!(name === "_start" && e instanceof ProcExit && e.exitCode === 0)) this.recordTrap(e, name, contextId);
    } finally {
      this.callStack.pop();
      this.effective = savedEffective;
    }
    if (this.callStack.length === 0) this.runDeferred();
    if (this.failed) return undefined;
    return typeof result === "bigint" ? Number(result) : typeof result === "number" ? result : undefined;
  }

  /** Runs a stream callback with log attribution to that stream. */
  callForStream(stream: VmStream, name: string, ...args: number[]): number | undefined {
    const saved = this.runningStream;
    this.runningStream = stream;
    try {
      return this.call(name, stream.id, stream.id, ...args);
    } finally {
      this.runningStream = saved;
    }
  }

  private recordTrap(e: unknown, callback: string, contextId: number): void {
    this.failed = true;
    const err = e instanceof Error ? e : new Error(String(e));
    const trap: TrapInfo = {
      worker: this.worker,
      vmId: this.vmId,
      callback,
      contextId,
      message: err.message,
      stack: err.stack ?? err.message,
      timeMs: this.core.clock.nowMs,
    };
    this.trap = trap;
    this.core.traps.push(trap);
    this.log("critical", `Function: ${callback} failed: ${err.message}\n${trap.stack}`, "host");
    for (const ctx of this.contexts.values()) this.core.clock.cancel(ctx.tickEvent);
  }

  /** Queues an Envoy "after VM call" action (runs when the outermost VM call returns). */
  defer(action: () => void): void {
    if (this.callStack.length === 0) action();
    else this.deferred.push(action);
  }

  private runDeferred(): void {
    while (this.deferred.length) {
      const actions = this.deferred;
      this.deferred = [];
      for (const a of actions) a();
    }
  }

  // ---------------------------------------------------------------- contexts

  /** The context host functions act on: the effective context if set, else the current one. */
  active(): ContextRecord {
    if (this.effective !== 0) {
      const eff = this.contexts.get(this.effective);
      if (eff) return eff;
    }
    const id = this.callStack[this.callStack.length - 1] ?? this.rootContextId;
    return this.contexts.get(id) ?? this.contexts.get(this.rootContextId) ?? this.contexts.get(0)!;
  }

  activeRoot(): ContextRecord {
    const a = this.active();
    if (a.kind === "vm") return this.contexts.get(this.rootContextId) ?? a;
    return this.contexts.get(a.rootId) ?? a;
  }

  activeStream(): VmStream | undefined {
    return this.active().stream;
  }

  /** Allocates the id of a new stream context and registers it. */
  registerStream(stream: VmStream): number {
    const id = this.nextContextId++;
    this.contexts.set(id, { id, kind: "stream", rootId: this.rootContextId, stream, status: { code: 0, message: "" } });
    return id;
  }

  unregister(id: number): void {
    this.contexts.delete(id);
  }

  // ---------------------------------------------------------------- maps, buffers, properties

  mutableMap(type: number): HeaderMap | null {
    return this.activeStream()?.mutableMap(type) ?? null;
  }

  constMap(type: number): HeaderMap | null {
    if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
      const r = this.activeRoot().httpCallResponse;
      if (!r) return null;
      return type === MapType.HttpCallResponseHeaders ? r.headers : r.trailers;
    }
    return this.activeStream()?.constMap(type) ?? null;
  }

  noteHeaderMutation(_type: number): void {
    // Envoy also clears the route cache when request headers change; nothing to model here.
  }

  noteBodyMutation(_type: number): void {}

  buffer(type: number): BodyBuffer | null {
    switch (type) {
      case BufferType.HttpRequestBody:
      case BufferType.HttpResponseBody:
        return this.activeStream()?.bodyBuffer(type) ?? EMPTY;
      case BufferType.HttpCallResponseBody: {
        const r = this.activeRoot().httpCallResponse;
        return r ? new BodyBuffer(r.body, false) : null;
      }
      case BufferType.VmConfiguration:
        return new BodyBuffer(this.core.options.vmConfig, false);
      case BufferType.PluginConfiguration:
        return this.configuring ? new BodyBuffer(this.core.options.pluginConfig, false) : null;
      default:
        return EMPTY;
    }
  }

  /** Envoy's default attributes outside streams, built once. */
  private rootDefaults?: PropertyTree;

  getProperty(path: string): Uint8Array | undefined {
    const ctx = this.active();
    const stream = ctx.stream;
    const state = stream?.filterState.get(path);
    if (state) return state;
    // A stream's default attributes are built once, with its context (their values are
    // functions of the stream, evaluated at lookup time).
    const defaults = stream ? (ctx.defaults ??= defaultProperties(this, stream)) : (this.rootDefaults ??= defaultProperties(this, undefined));
    const value = lookupMerged([defaults, this.core.options.properties, stream?.properties], splitPath(path));
    return value === undefined ? undefined : encodeProperty(value);
  }

  setProperty(path: string, value: Uint8Array): number {
    const stream = this.activeStream();
    if (!stream) return WasmResult.NotFound;
    stream.filterState.set(path, value);
    return WasmResult.Ok;
  }

  // ---------------------------------------------------------------- logs

  log(level: LogLevelName, message: string, source: LogSource): void {
    const stream = this.activeStream() ?? this.runningStream;
    const entry: LogEntry = {
      level,
      message,
      source,
      worker: this.worker,
      vmId: this.vmId,
      rootId: this.core.options.rootId,
      contextId: this.active().id,
      streamId: stream?.id,
      timeMs: this.core.clock.nowMs,
    };
    if (this.core.logs.push(entry) && stream) stream.logs.push(entry);
  }

  writeStdio(which: "stdout" | "stderr", raw: string): void {
    if (which === "stdout") this.core.stdout += raw;
    else this.core.stderr += raw;
    // Envoy logs each write as one line, without its trailing newline.
    this.log(which === "stdout" ? "info" : "error", raw.endsWith("\n") ? raw.slice(0, -1) : raw, which);
  }

  // ---------------------------------------------------------------- timers and queues

  setTickPeriod(rootId: number, periodMs: number): void {
    const root = this.contexts.get(rootId);
    if (!root) return;
    this.core.clock.cancel(root.tickEvent);
    root.tickEvent = undefined;
    root.tickPeriodMs = periodMs;
    if (periodMs > 0) this.armTick(root, this.core.clock.nowMs + periodMs);
  }

  private armTick(root: ContextRecord, dueMs: number): void {
    const ev = this.core.clock.schedule(dueMs, `tick worker=${this.worker} root=${root.id}`, () => {
      if (this.failed || !this.contexts.has(root.id)) return;
      this.call("proxy_on_tick", root.id, root.id);
      if (!this.failed && root.tickEvent === ev && root.tickPeriodMs) this.armTick(root, ev.dueMs + root.tickPeriodMs);
    });
    root.tickEvent = ev;
  }

  scheduleQueueReady(rootId: number, token: number): void {
    this.core.track(
      Promise.resolve().then(() => {
        if (this.failed || !this.contexts.has(rootId)) return;
        this.call("proxy_on_queue_ready", rootId, rootId, token);
      }),
    );
  }

  // ---------------------------------------------------------------- http calls

  nextHttpCallToken(): number {
    this.nextHttpCall += 4;
    return this.nextHttpCall >>> 0;
  }

  startHttpCall(request: HttpCallRequest): void {
    const rootId = this.activeRoot().id;
    const record = new HttpCallRecord(request, rootId, (rec, response, state) => this.deliverHttpCall(rec, response, state));
    this.core.httpCalls.push(record);
    let timeout: ClockEvent | undefined;
    if (request.timeoutMs > 0) {
      timeout = this.core.clock.schedule(this.core.clock.nowMs + request.timeoutMs, `http-call timeout token=${request.token}`, () => {
        if (record.state === "pending") this.deliverHttpCall(record, envoyLocalReply(504, "upstream request timeout"), "timed-out");
      });
    }
    (record as unknown as { timeoutEvent?: ClockEvent }).timeoutEvent = timeout;
    const handler = this.core.clusters.get(request.cluster);
    if (handler === "manual" || handler === undefined) return;
    this.core.track(
      (async () => {
        // Never answer inside the dispatching callback: Envoy delivers on a later event-loop turn.
        await Promise.resolve();
        let outcome: unknown;
        try {
          if (typeof handler === "string") outcome = await sendToLoopback(handler, request);
          else if (typeof handler === "function") outcome = await handler(request);
          else outcome = handler;
        } catch {
          outcome = "reset";
        }
        if (record.state !== "pending") return;
        if (outcome === "reset") record.fail();
        else if (outcome === "timeout" || outcome === "pending") return;
        else if (outcome && typeof outcome === "object" && "headers" in outcome && (outcome as DeliveredHttpResponse).headers instanceof HeaderMap) {
          this.deliverHttpCall(record, outcome as DeliveredHttpResponse, "answered");
        } else record.respond((outcome ?? {}) as object);
      })(),
    );
  }

  private deliverHttpCall(record: HttpCallRecord, response: DeliveredHttpResponse | null, state: HttpCallState): void {
    if (record.state !== "pending") return;
    if (this.callStack.length > 0) {
      // Re-entrant (e.g. answered from inside a plugin callback): Envoy defers it after the VM call.
      this.defer(() => this.deliverHttpCall(record, response, state));
      return;
    }
    record.state = state;
    record.delivered = response;
    this.core.clock.cancel((record as unknown as { timeoutEvent?: ClockEvent }).timeoutEvent);
    const root = this.contexts.get(record.rootContextId);
    if (this.failed || !root) return;
    root.httpCallResponse = response;
    if (!response) root.status = { code: WasmResult.BrokenConnection, message: "reset" };
    else root.status = { code: Number(response.headers.get(":status") ?? 0), message: "" };
    this.call(
      "proxy_on_http_call_response",
      root.id,
      root.id,
      record.token,
      response ? response.headers.size : 0,
      response ? response.body.length : 0,
      response ? response.trailers.size : 0,
    );
    root.httpCallResponse = undefined;
    root.status = { code: 0, message: "" };
  }

  // ---------------------------------------------------------------- stream control and misc

  private continueStream(type: number): number {
    const stream = this.activeStream();
    if (type === StreamType.Request || type === StreamType.Response) {
      if (stream) stream.requestContinue(type);
      return WasmResult.Ok;
    }
    if (type === StreamType.Downstream) return WasmResult.Ok;
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    return WasmResult.BadArgument;
  }

  recordForeignCall(name: string, args: Uint8Array, status: number): void {
    const stream = this.activeStream() ?? this.runningStream;
    const call: ForeignCall = { name, args, worker: this.worker, streamId: stream?.id, status };
    this.core.foreignCalls.push(call);
    stream?.foreignCalls.push(call);
  }

  private streamControlImports(): Record<string, ImportFn> {
    const mem = this.mem;
    return {
      proxy_continue_stream: (type: number) => {
        if (type >>> 0 > STREAM_TYPE_MAX) return WasmResult.BadArgument;
        return this.continueStream(type);
      },
      proxy_close_stream: (type: number) => {
        if (type >>> 0 > STREAM_TYPE_MAX) return WasmResult.BadArgument;
        const stream = this.activeStream();
        if (stream && (type === StreamType.Request || type === StreamType.Response)) {
          this.defer(() => stream.reset("wasm_close_stream"));
        }
        return WasmResult.Ok;
      },
      proxy_send_local_response: (
        code: number,
        dp: number,
        ds: number,
        bp: number,
        bs: number,
        hp: number,
        hs: number,
        grpc: number,
      ) => {
        const details = mem.readString(dp, ds);
        const body = mem.read(bp, bs);
        const headerBytes = mem.read(hp, hs);
        if (details === null || body === null || headerBytes === null) return WasmResult.InvalidMemoryAccess;
        // proxy-wasm-cpp-host raises the VM-wide stopNextIteration flag on every local response
        // (whichever context it is for): the running filter callback's result then counts as stop.
        this.localResponsesSent++;
        const stream = this.activeStream();
        if (stream) {
          stream.requestLocalReply({
            status: code >>> 0,
            body,
            headers: decodePairs(headerBytes).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
            grpcStatus: grpc | 0,
            details: details.replace(/\s/g, "_"),
          });
        }
        return WasmResult.Ok;
      },
      proxy_set_effective_context: (id: number) => {
        if (!this.contexts.has(id >>> 0)) return WasmResult.BadArgument;
        this.effective = id >>> 0;
        return WasmResult.Ok;
      },
      proxy_done: () => WasmResult.NotFound,
      proxy_get_status: (codePtr: number, rp: number, rs: number) => {
        const status = this.active().status;
        if (!mem.setU32(codePtr, status.code)) return WasmResult.InvalidMemoryAccess;
        return mem.copyOut(utf8(status.message), rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      },
      proxy_call_foreign_function: (np: number, ns: number, ap: number, as: number, rp: number, rs: number) => {
        const name = mem.readString(np, ns);
        if (name === null) return WasmResult.InvalidMemoryAccess;
        const args = mem.read(ap, as);
        if (args === null) return WasmResult.InvalidMemoryAccess;
        const fn = this.core.foreign.get(name);
        if (!fn) {
          this.recordForeignCall(name, args, WasmResult.NotFound);
          return WasmResult.NotFound;
        }
        const stream = this.activeStream();
        if (name === "clear_route_cache" && stream) stream.clearRouteCacheCount++;
        const out = fn(args, { worker: this.worker, contextId: this.active().id, streamId: stream?.id });
        let status: number = WasmResult.Ok;
        let result: Uint8Array = new Uint8Array(0);
        if (typeof out === "string") result = utf8(out);
        else if (out instanceof Uint8Array) result = out;
        else if (out && typeof out === "object") {
          status = out.status;
          result = out.result ?? new Uint8Array(0);
        }
        this.recordForeignCall(name, args, status);
        let ptr = 0;
        if (rp !== 0 && result.length > 0) {
          ptr = (this.allocatorFn?.(result.length) ?? 0) >>> 0;
          if (ptr === 0 || !mem.write(ptr, result)) return WasmResult.InvalidMemoryAccess;
        }
        if (rp !== 0 && !mem.setU32(rp, ptr)) return WasmResult.InvalidMemoryAccess;
        if (rs !== 0 && !mem.setU32(rs, rp !== 0 ? result.length : result.length)) return WasmResult.InvalidMemoryAccess;
        return status;
      },
    };
  }

  /** Envoy shutdown of the root context: on_done then on_delete. */
  /**
   * Drops the VM without `proxy_on_done` (what proxy-wasm-cpp-host's `kill()` does to the
   * configuration canary): its timers stop and nothing calls into it again.
   */
  discard(): void {
    for (const ctx of this.contexts.values()) this.core.clock.cancel(ctx.tickEvent);
    this.discarded = true;
    this.failed = true;
  }

  shutdown(): void {
    for (const ctx of this.contexts.values()) this.core.clock.cancel(ctx.tickEvent);
    if (this.failed || !this.rootContextId) return;
    this.call("proxy_on_done", this.rootContextId, this.rootContextId);
    this.call("proxy_on_delete", this.rootContextId, this.rootContextId);
  }
}

export { toDelivered, HeaderMap };
