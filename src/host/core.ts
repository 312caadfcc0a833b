/**
 * Services shared by every VM (worker) of one host: options, virtual clock, logs, metrics,
 * shared state, clusters, foreign functions, traps and the tracker of asynchronous work that
 * `settle()` waits for.
 */
import { deflateSync, inflateSync } from "node:zlib";
import { WasmResult, type LogLevelName } from "./abi.js";
import type { RawHeaderWrite } from "./headers.js";
import type { ClusterHandler, HttpCallRecord } from "./http-calls.js";
import { LogSink } from "./logs.js";
import { MetricsStore } from "./metrics.js";
import type { PropertyTree } from "./properties.js";
import { SharedDataStore } from "./shared-data.js";
import { SharedQueueRegistry } from "./shared-queues.js";
import { VirtualClock } from "./timers.js";

/**
 * State Envoy shares between VMs: shared data and shared queues (keyed by vm_id). Pass one
 * instance to several hosts to model several plugins in one Envoy (e.g. queue sender/receiver).
 */
export class SharedState {
  readonly data = new SharedDataStore();
  readonly queues = new SharedQueueRegistry();
}

/** What a foreign function sees about its caller. */
export interface ForeignCallContext {
  worker: number;
  /** Context id of the (effective) caller. */
  contextId: number;
  /** Id of the HTTP stream the call was made for, if any. */
  streamId?: number;
}

/**
 * A function the plugin can call with `proxy_call_foreign_function(name, args)`. Return the result
 * bytes (a string is UTF-8 encoded), nothing for an empty result, or `{ status }` to fail with a
 * proxy-wasm status code.
 */
export type ForeignFunction = (
  args: Uint8Array,
  context: ForeignCallContext,
) => Uint8Array | string | void | undefined | { status: number; result?: Uint8Array };

/** Record of one foreign-function call. */
export interface ForeignCall {
  name: string;
  args: Uint8Array;
  worker: number;
  streamId?: number;
  status: number;
}

/** Envoy's failure policy for a VM that trapped (Istio `failStrategy`). */
export type FailStrategy = "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";

/** A VM trap as the harness reports it. */
export interface TrapInfo {
  worker: number;
  vmId: string;
  /** The export that was running, e.g. `proxy_on_request_headers`. */
  callback: string;
  contextId: number;
  /** The Wasm trap message, e.g. `unreachable`. */
  message: string;
  /** JS stack including the wasm frames (function indexes / names). */
  stack: string;
  timeMs: number;
}

export type { RawHeaderWrite } from "./headers.js";

/** Built-in foreign functions Envoy registers, as far as they make sense here. */
export function builtinForeignFunctions(): Record<string, ForeignFunction> {
  return {
    // Counted per stream by the harness (see RequestResult.clearRouteCacheCount).
    clear_route_cache: () => undefined,
    compress: (args) => new Uint8Array(deflateSync(args)),
    uncompress: (args) => {
      try {
        return new Uint8Array(inflateSync(args));
      } catch {
        return { status: WasmResult.SerializationFailure };
      }
    },
  };
}

export interface CoreOptions {
  rootId: string;
  pluginName: string;
  vmId: string;
  vmConfig: Uint8Array;
  pluginConfig: Uint8Array;
  properties: PropertyTree;
  failStrategy: FailStrategy;
  /** Envoy PluginConfig `allow_on_headers_stop_iteration` (Envoy 1.35+). */
  allowOnHeadersStopIteration: boolean;
  logLevel: LogLevelName;
  maxLogEntries?: number;
  nowMs: number;
  sourceAddress: string;
  destinationAddress: string;
  upstreamAddress: string;
  clusterName: string;
  routeName: string;
  /** Extra imports beyond Envoy's (harness self-tests only). */
  extraImports?: Record<string, Record<string, (...args: never[]) => unknown>>;
  /** Told each host function's wall time (benchmarks); unset: imports are not wrapped. */
  onHostCall?: (name: string, ms: number) => void;
}

export class HostCore {
  readonly clock: VirtualClock;
  readonly logs: LogSink;
  readonly metrics = new MetricsStore();
  readonly clusters = new Map<string, ClusterHandler>();
  readonly foreign = new Map<string, ForeignFunction>();
  readonly foreignCalls: ForeignCall[] = [];
  readonly httpCalls: HttpCallRecord[] = [];
  readonly traps: TrapInfo[] = [];
  /** Everything the VMs wrote to WASI stdout / stderr. */
  stdout = "";
  stderr = "";
  random?: (buf: Uint8Array) => void;
  /** Called on every header write with its raw bytes (see RawHeaderWrite). */
  onHeaderWrite?: (write: RawHeaderWrite) => void;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    readonly options: CoreOptions,
    readonly shared: SharedState,
  ) {
    this.clock = new VirtualClock(options.nowMs);
    this.logs = new LogSink(options.logLevel, options.maxLogEntries);
    for (const [name, fn] of Object.entries(builtinForeignFunctions())) this.foreign.set(name, fn);
  }

  hasCluster(name: string): boolean {
    return this.clusters.has(name);
  }

  /** Registers asynchronous work so that `settle()` waits for it. Errors are reported, not thrown. */
  track(work: Promise<unknown>): void {
    const p = work.catch((e: unknown) => {
      this.logs.push({
        level: "error",
        message: `harness: asynchronous work failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        source: "host",
        worker: -1,
        vmId: this.options.vmId,
        rootId: this.options.rootId,
        contextId: 0,
        timeMs: this.clock.nowMs,
      });
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves when no tracked asynchronous work is left (including work started meanwhile). */
  async settle(): Promise<void> {
    for (let rounds = 0; rounds < 10_000; rounds++) {
      if (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      await new Promise((r) => setImmediate(r));
      if (this.pending.size === 0) return;
    }
  }
}
