/**
 * `ProxyWasmHost`: one plugin (one module, one root id) on N Envoy workers, each with its own VM,
 * sharing shared data, shared queues and metrics; a virtual clock; clusters for http calls; and a
 * high-level `request()` that runs a whole HTTP exchange through the plugin.
 */
import { readFile } from "node:fs/promises";
import { detectAbiVersion, type AbiVersion, type LogLevelName } from "./abi.js";
import {
  HostCore,
  SharedState,
  type FailStrategy,
  type ForeignCall,
  type ForeignFunction,
  type RawHeaderWrite,
  type TrapInfo,
} from "./core.js";
import { HarnessUsageError, ModuleLoadError } from "./errors.js";
import { HeaderMap, type HeaderInput } from "./headers.js";
import type { ClusterHandler, HttpCallRecord } from "./http-calls.js";
import type { LogEntry, LogSink } from "./logs.js";
import { utf8 } from "./memory.js";
import type { MetricsStore } from "./metrics.js";
import type { PropertyTree } from "./properties.js";
import type { SharedDataStore } from "./shared-data.js";
import type { SharedQueueRegistry } from "./shared-queues.js";
import { HttpStream, type BodyInput, type RequestResult, type StreamOptions, type UpstreamHandler } from "./streams.js";
import { PluginVm } from "./vm.js";

/** Configuration given as text, bytes, or a JSON value (serialized with JSON.stringify). */
export type ConfigInput = string | Uint8Array | Record<string, unknown> | unknown[] | undefined;

export interface ProxyWasmHostOptions {
  /** The plugin: bytes, a file path, or a compiled module. */
  module: Uint8Array | ArrayBuffer | string | WebAssembly.Module;
  /** Number of Envoy workers (one VM each). Default 1. */
  workers?: number;
  /**
   * Model Envoy's main thread, as Envoy 1.40 does it: a base VM that only runs the start
   * functions, a configuration canary VM (started, configured, then dropped), and the main
   * thread's own VM, whose root context ticks and makes http calls but never sees a stream.
   * Its logs and http calls carry `worker` {@link MAIN_THREAD}. Default true, Envoy's shape;
   * `false` starts only the worker VMs (for tests about per-worker mechanics).
   */
  mainThread?: boolean;
  /** PLUGIN_CONFIGURATION buffer (Istio `pluginConfig`). Default empty. */
  pluginConfig?: ConfigInput;
  /** VM_CONFIGURATION buffer. Default empty. */
  vmConfig?: ConfigInput;
  /** root_id (Istio `pluginName`). Default "". */
  rootId?: string;
  /** `plugin_name` property. Default: rootId. */
  pluginName?: string;
  /** vm_id: shared data and queues are keyed by it. Default "". */
  vmId?: string;
  /** Properties merged over Envoy's defaults for every context. */
  properties?: PropertyTree;
  /** Clusters known to `proxy_http_call`, with how each answers. */
  clusters?: Record<string, ClusterHandler>;
  /** Foreign functions (added to the built-ins clear_route_cache, compress, uncompress). */
  foreignFunctions?: Record<string, ForeignFunction>;
  /**
   * Envoy's PluginConfig `allow_on_headers_stop_iteration` (Envoy 1.35+; not exposed by Istio's
   * WasmPlugin). When true, StopIteration from a headers callback stays StopIteration: Envoy holds
   * the headers, still delivers the body to the plugin, and the headers stay writable until a body
   * callback returns Continue or the plugin calls `proxy_continue_stream`. Default false, Envoy's
   * default, under which StopIteration becomes StopAllIterationAndWatermark.
   */
  allowOnHeadersStopIteration?: boolean;
  /** What happens after a VM trap. Default FAIL_CLOSE (Istio's default). */
  failStrategy?: FailStrategy;
  /** Envoy log level: lines below it are not captured, and `proxy_get_log_level` returns it. Default "info". */
  logLevel?: LogLevelName;
  /** Keep at most this many host log entries (oldest dropped). Default unlimited. */
  maxLogEntries?: number;
  /** Initial virtual time (epoch ms or Date). Default 2026-01-01T00:00:00Z. */
  now?: number | Date;
  /** Share shared data / queues with other hosts (several plugins in one Envoy). */
  shared?: SharedState;
  /** Default upstream for `request()`. Default: 200 with an empty body. */
  upstream?: UpstreamHandler;
  /** Source of WASI `random_get` bytes (default: crypto random). */
  random?: (buf: Uint8Array) => void;
  /** Print every captured log line to stderr. */
  echoLogs?: boolean;
  /** Sees every header write's raw key/value bytes, before decoding (byte-level checks). */
  onHeaderWrite?: (write: RawHeaderWrite) => void;
  /** Downstream address (`source.address`). Default 127.0.0.1:40000. */
  sourceAddress?: string;
  /** Listener address (`destination.address`). Default 127.0.0.1:10000. */
  destinationAddress?: string;
  /** Upstream host address (`upstream.address`). Default 127.0.0.1:8080. */
  upstreamAddress?: string;
  /** `xds.cluster_name` of the route. Default "upstream". */
  clusterName?: string;
  /** `xds.route_name`. Default "default". */
  routeName?: string;
  /**
   * Extra imports by module and name. NOT something Envoy offers: only for harness self-tests
   * with hand-written modules. Leave unset to get Envoy's link errors.
   */
  extraImports?: Record<string, Record<string, (...args: never[]) => unknown>>;
  /**
   * Called after every host function a VM calls, with the function's name and wall time in
   * milliseconds: the harness's own share of a callback, which Envoy's C++ host functions do
   * not cost the same (benchmarks report it). Unset, the imports are not wrapped at all.
   */
  onHostCall?: (name: string, ms: number) => void;
}

export interface RequestOptions {
  /** Worker index; default: round robin. */
  worker?: number;
  /** Request headers. Missing `:method`, `:path`, `:authority`, `:scheme` get defaults unless `addPseudoHeaders` is false. */
  headers?: HeaderInput;
  body?: BodyInput;
  trailers?: HeaderInput;
  /** Properties for this request only (merged over host properties). */
  properties?: PropertyTree;
  /** The upstream for this request (default: the host's `upstream`). */
  upstream?: UpstreamHandler;
  /** Add Envoy's mandatory pseudo-headers when missing. Default true. */
  addPseudoHeaders?: boolean;
  sourceAddress?: string;
}

/** The `worker` index of everything Envoy's main thread does (its VMs' logs, http calls, traps). */
export const MAIN_THREAD = -1;

/**
 * Envoy's main thread (proxy-wasm-cpp-host `createWasm` and Envoy's thread-local slot, which also
 * runs on the main thread): the base VM, the configuration canary, and the main thread's own VM.
 */
export class MainThread {
  constructor(
    /** Loaded and initialized (start functions only): no root context, never configured. */
    readonly baseVm: PluginVm,
    /** Started and configured once to check the config, then dropped (no `proxy_on_done`). */
    readonly canary: PluginVm,
    /** The main thread's own VM (absent when the canary refused the config). */
    readonly vm: PluginVm | undefined,
  ) {}

  /** The canary started and configured: Envoy accepts the plugin. */
  get canaryConfigured(): boolean {
    return this.canary.started && this.canary.configured;
  }
}

/** One Envoy worker: its current VM (replaced on FAIL_RELOAD) and stream factory. */
export class Worker {
  /** How many VMs this worker has had (1 + reloads). */
  generation = 1;

  constructor(
    readonly index: number,
    private readonly host: ProxyWasmHost,
    public vm: PluginVm,
  ) {}

  /** Root context id in the current VM. */
  get rootContextId(): number {
    return this.vm.rootContextId;
  }
  get configured(): boolean {
    return this.vm.started && this.vm.configured;
  }
  get failed(): boolean {
    return this.vm.failed;
  }

  /** A new HTTP stream (low-level API). FAIL_RELOAD replaces a dead VM first. */
  newStream(options: StreamOptions = {}): HttpStream {
    if (this.vm.failed && this.host.failStrategy === "FAIL_RELOAD") this.reload();
    return new HttpStream(this.vm, options);
  }

  /** Replaces the VM by a fresh one (what FAIL_RELOAD does after a crash). */
  reload(): void {
    this.vm.shutdown();
    this.vm = this.host.createVm(this.index);
    this.generation++;
  }
}

const DEFAULT_NOW = Date.UTC(2026, 0, 1);

function configBytes(c: ConfigInput): Uint8Array {
  if (c === undefined) return new Uint8Array(0);
  if (typeof c === "string") return utf8(c);
  if (c instanceof Uint8Array) return c;
  return utf8(JSON.stringify(c));
}

async function compile(input: ProxyWasmHostOptions["module"]): Promise<WebAssembly.Module> {
  if (input instanceof WebAssembly.Module) return input;
  let bytes: Uint8Array;
  if (typeof input === "string") {
    try {
      bytes = new Uint8Array(await readFile(input));
    } catch (e) {
      throw new ModuleLoadError(`cannot read the Wasm module at ${input}: ${(e as Error).message}; check the path`);
    }
  } else bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new ModuleLoadError(`the bytes are not a valid WebAssembly module: ${(e as Error).message}`);
  }
}

export class ProxyWasmHost {
  readonly workers: Worker[] = [];
  /** Envoy's main-thread VMs; undefined with `mainThread: false`. */
  mainThread?: MainThread;
  /** VMs ever created, like Envoy's `wasm.envoy.wasm.runtime.v8.created` (canary and reloads included). */
  vmsCreated = 0;
  private nextWorker = 0;

  private constructor(
    readonly core: HostCore,
    readonly module: WebAssembly.Module,
    readonly abi: AbiVersion,
    private readonly defaultUpstream: UpstreamHandler,
  ) {}

  /**
   * Loads the module, links it like Envoy, and starts one VM per worker (start functions,
   * root context, `proxy_on_vm_start`, `proxy_on_configure`). Throws only for module problems
   * (unreadable, invalid, no ABI marker, missing import); plugin failures are reported on the host.
   */
  static async create(options: ProxyWasmHostOptions): Promise<ProxyWasmHost> {
    const module = await compile(options.module);
    const abi = detectAbiVersion(module);
    const now = options.now instanceof Date ? options.now.getTime() : (options.now ?? DEFAULT_NOW);
    const rootId = options.rootId ?? "";
    const core = new HostCore(
      {
        rootId,
        pluginName: options.pluginName ?? rootId,
        vmId: options.vmId ?? "",
        vmConfig: configBytes(options.vmConfig),
        pluginConfig: configBytes(options.pluginConfig),
        properties: options.properties ?? {},
        failStrategy: options.failStrategy ?? "FAIL_CLOSE",
        allowOnHeadersStopIteration: options.allowOnHeadersStopIteration ?? false,
        logLevel: options.logLevel ?? "info",
        maxLogEntries: options.maxLogEntries,
        nowMs: now,
        sourceAddress: options.sourceAddress ?? "127.0.0.1:40000",
        destinationAddress: options.destinationAddress ?? "127.0.0.1:10000",
        upstreamAddress: options.upstreamAddress ?? "127.0.0.1:8080",
        clusterName: options.clusterName ?? "upstream",
        routeName: options.routeName ?? "default",
        extraImports: options.extraImports,
        onHostCall: options.onHostCall,
      },
      options.shared ?? new SharedState(),
    );
    for (const [name, handler] of Object.entries(options.clusters ?? {})) core.clusters.set(name, handler);
    for (const [name, fn] of Object.entries(options.foreignFunctions ?? {})) core.foreign.set(name, fn);
    core.random = options.random;
    core.onHeaderWrite = options.onHeaderWrite;
    if (options.echoLogs) core.logs.echo = (e) => process.stderr.write(`[w${e.worker} ctx${e.contextId}] ${e.level}: ${e.message}\n`);
    const host = new ProxyWasmHost(core, module, abi, options.upstream ?? { status: 200 });
    const n = options.workers ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new HarnessUsageError(`workers must be a positive integer, got ${n}`);
    if (options.mainThread ?? true) {
      // createWasm: base VM (initialize only), then the canary (start, configure, kill); then the
      // thread-local slot runs on the main thread before the workers get theirs.
      const baseVm = host.createVm(MAIN_THREAD, false);
      const canary = host.createVm(MAIN_THREAD);
      canary.discard();
      const ok = canary.started && canary.configured;
      host.mainThread = new MainThread(baseVm, canary, ok ? host.createVm(MAIN_THREAD) : undefined);
    }
    for (let i = 0; i < n; i++) host.workers.push(new Worker(i, host, host.createVm(i)));
    return host;
  }

  /** @internal Creates one VM for worker `index` (MAIN_THREAD for the main thread); `plugin` false: start functions only. */
  createVm(index: number, plugin = true): PluginVm {
    this.vmsCreated++;
    return PluginVm.create(this.core, this.module, this.abi, index, { plugin });
  }

  /** Live VMs, like Envoy's `wasm.envoy.wasm.runtime.v8.active` (the dropped canary and replaced VMs not counted). */
  get vmsActive(): number {
    const m = this.mainThread;
    return this.workers.length + (m ? 1 + (m.vm ? 1 : 0) : 0);
  }

  /** Every root context configured with the plugin: the canary and the main thread's VM (when modelled), then the workers'. */
  get rootVms(): PluginVm[] {
    const m = this.mainThread;
    return [...(m ? [m.canary, ...(m.vm ? [m.vm] : [])] : []), ...this.workers.map((w) => w.vm)];
  }

  get failStrategy(): FailStrategy {
    return this.core.options.failStrategy;
  }

  /** True when every worker's VM started (`proxy_on_vm_start` != 0) and configured (`proxy_on_configure` != 0). */
  get configured(): boolean {
    const m = this.mainThread;
    if (m && !(m.canaryConfigured && m.vm?.started && m.vm.configured)) return false;
    return this.workers.every((w) => w.configured);
  }

  /** Per-worker configure results. */
  get configureResults(): boolean[] {
    return this.workers.map((w) => w.configured);
  }

  worker(index: number): Worker {
    const w = this.workers[index];
    if (!w) throw new HarnessUsageError(`no worker ${index}: this host has ${this.workers.length} worker(s)`);
    return w;
  }

  get logs(): LogSink {
    return this.core.logs;
  }
  /** Everything the VMs wrote to WASI stdout (each write is also a log line at info). */
  get stdout(): string {
    return this.core.stdout;
  }
  /** Everything the VMs wrote to WASI stderr (each write is also a log line at error), e.g. a Go panic. */
  get stderr(): string {
    return this.core.stderr;
  }
  get metrics(): MetricsStore {
    return this.core.metrics;
  }
  get sharedData(): SharedDataStore {
    return this.core.shared.data;
  }
  get sharedQueues(): SharedQueueRegistry {
    return this.core.shared.queues;
  }
  get shared(): SharedState {
    return this.core.shared;
  }
  /** Every http call dispatched by any worker, in order. */
  get httpCalls(): HttpCallRecord[] {
    return this.core.httpCalls;
  }
  get foreignCalls(): ForeignCall[] {
    return this.core.foreignCalls;
  }
  /** VM traps, in order. */
  get traps(): TrapInfo[] {
    return this.core.traps;
  }
  /** Host-level properties (mutable: changes apply to later lookups). */
  get properties(): PropertyTree {
    return this.core.options.properties;
  }

  /** Current virtual time in epoch milliseconds. */
  get now(): number {
    return this.core.clock.nowMs;
  }

  /** Adds or replaces a cluster. */
  setCluster(name: string, handler: ClusterHandler): void {
    this.core.clusters.set(name, handler);
  }

  /** Adds or replaces a foreign function. */
  setForeignFunction(name: string, fn: ForeignFunction): void {
    this.core.foreign.set(name, fn);
  }

  /**
   * Runs one HTTP exchange through the plugin on a worker and resolves when the stream has ended
   * (after `proxy_on_delete`). When the plugin pauses for a timer, start the request, then
   * `await host.advance(ms)`, then await the result.
   */
  request(options: RequestOptions = {}): Promise<RequestResult> {
    const index = options.worker ?? this.nextWorker++ % this.workers.length;
    const worker = this.worker(index);
    const headers = new HeaderMap(options.headers);
    if (options.addPseudoHeaders !== false) {
      const hasBody = options.body !== undefined && options.body.length > 0;
      const defaults: Array<[string, string]> = [
        [":authority", "example.com"],
        [":path", "/"],
        [":method", hasBody ? "POST" : "GET"],
        [":scheme", "http"],
      ];
      for (const [k, v] of defaults) if (!headers.has(k)) headers.add(k, v);
    }
    const stream = worker.newStream({ properties: options.properties, sourceAddress: options.sourceAddress });
    return stream.run({ headers, body: options.body, trailers: options.trailers, upstream: options.upstream ?? this.defaultUpstream });
  }

  /** Moves the virtual clock forward, firing ticks and http-call timeouts in time order. */
  async advance(ms: number): Promise<void> {
    await this.core.clock.advance(ms, () => this.core.settle());
  }

  /** Waits until asynchronous work (http-call answers, queue deliveries, upstreams) is done. */
  settle(): Promise<void> {
    return this.core.settle();
  }

  /** Log entries of one worker or all. */
  logEntries(worker?: number): LogEntry[] {
    return this.core.logs.entries.filter((e) => worker === undefined || e.worker === worker);
  }

  /** Shuts the root contexts down (`proxy_on_done`, `proxy_on_delete`) and stops timers. */
  close(): void {
    this.mainThread?.vm?.shutdown();
    for (const w of this.workers) w.vm.shutdown();
  }
}
