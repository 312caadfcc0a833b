// Context base classes. A plugin subclasses RootContext (one per plugin root id: configuration,
// timers, callouts, queues) and HttpContext (one per HTTP stream) and overrides only the
// callbacks it needs; every default below does nothing and lets traffic through.
// The dispatcher (dispatcher.ts) owns the ids and calls these methods; contexts never look
// each other up by id themselves.

import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "./types";

/** One HTTP stream (request and its response). */
export class HttpContext {
  constructor(
    /** Id the host gave this stream's context. */
    public readonly contextId: u32,
    /** Id of the root context that created it. */
    public readonly rootContextId: u32,
  ) {}

  /** Request headers are available; `headerCount` pairs. */
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  /** A request body chunk arrived; `bodySize` is the size buffered so far. */
  onRequestBody(bodySize: usize, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  onRequestTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: usize, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  /** Access-log time: the stream is over; properties such as response.code are final. */
  onLog(): void {}

  /** Return false to finish asynchronously and call hostcalls.done() later. */
  onDone(): bool {
    return true;
  }

  /** Last callback; the context is dropped after it. */
  onDelete(): void {}
}

/** One plugin instance in this VM (Envoy: one per root_id/plugin and worker). */
export class RootContext {
  constructor(public readonly contextId: u32) {}

  /** VM start; `vmConfigurationSize` bytes are in BufferType.VmConfiguration. */
  onVmStart(vmConfigurationSize: usize): bool {
    return true;
  }

  /**
   * New plugin configuration: `configurationSize` bytes in BufferType.PluginConfiguration.
   * Return false to refuse it (Envoy then rejects the plugin config).
   */
  onConfigure(configurationSize: usize): bool {
    return true;
  }

  /** Timer set with setTickPeriodMilliseconds fired. */
  onTick(): void {}

  /** A shared queue this root registered has items. */
  onQueueReady(queueId: u32): void {}

  /** The host called a foreign function into the plugin; arguments in BufferType.CallData. */
  onForeignFunction(functionId: u32, dataSize: usize): void {}

  /**
   * Response to httpCall(token). Zero headers and zero body mean the call failed.
   * Headers: MapType.HttpCallResponseHeaders; body: BufferType.HttpCallResponseBody.
   */
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void {}

  /** Creates the context for a new HTTP stream, or null to ignore the stream. */
  createHttpContext(contextId: u32): HttpContext | null {
    return null;
  }

  /** Plugin shutting down. Return false to finish asynchronously and call done() later. */
  onDone(): bool {
    return true;
  }

  onLog(): void {}

  onDelete(): void {}
}
