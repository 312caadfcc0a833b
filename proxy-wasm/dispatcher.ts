// The one place that knows context ids. Every exported proxy_on_* callback lands here, finds
// the context by id and calls its method. Contexts are created on proxy_on_context_create
// (parent 0 = root context, else an HTTP stream of that root) and dropped on proxy_on_delete.
//
// A callback for an unknown id (e.g. a stream whose root declined it) is answered with the
// "do nothing" value instead of trapping: a trap would kill the worker's VM.
//
// Every callback that runs plugin code is bracketed by enterCallback/leaveCallback (collector.ts):
// garbage is collected only on entry to an outermost callback.
//
// Hot path: the last stream looked up is cached, since one stream's callbacks usually arrive
// back to back; otherwise one Map lookup per callback.

import { HttpContext, RootContext } from "./context";
import { enterCallback, leaveCallback, leaveWith } from "./collector";
import { FilterStatus } from "./types";

/** Builds the plugin's root context for a root id. Register one with setRootContextFactory. */
export type RootContextFactory = (contextId: u32) => RootContext;

function defaultRootFactory(contextId: u32): RootContext {
  return new RootContext(contextId);
}

let rootFactory: RootContextFactory = defaultRootFactory;
const roots = new Map<u32, RootContext>();
const streams = new Map<u32, HttpContext>();
let cachedStream: HttpContext | null = null;

/** Call once from the plugin entry's top-level code (runs in _initialize). */
export function setRootContextFactory(factory: RootContextFactory): void {
  rootFactory = factory;
}

function rootOf(contextId: u32): RootContext | null {
  return roots.has(contextId) ? roots.get(contextId) : null;
}

function streamOf(contextId: u32): HttpContext | null {
  const cached = cachedStream;
  if (cached != null && cached.contextId == contextId) return cached;
  if (!streams.has(contextId)) return null;
  const found = streams.get(contextId);
  cachedStream = found;
  return found;
}

/** Number of live contexts, for tests and diagnostics. */
export function liveStreamCount(): i32 {
  return streams.size;
}

// ---- ABI marker ----------------------------------------------------------------------------

/** Its presence tells the host this module speaks ABI 0.2.1. */
export function proxy_abi_version_0_2_1(): void {}

// ---- Lifecycle -----------------------------------------------------------------------------

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enterCallback(0);
  if (parentContextId == 0) {
    const factory = rootFactory;
    roots.set(contextId, factory(contextId));
  } else {
    const root = rootOf(parentContextId);
    if (root != null) {
      const stream = root.createHttpContext(contextId);
      if (stream != null) streams.set(contextId, stream);
    }
  }
  leaveCallback();
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: usize): bool {
  enterCallback(vmConfigurationSize);
  const root = rootOf(rootContextId);
  return leaveWith(root == null ? true : root.onVmStart(vmConfigurationSize));
}

export function proxy_on_configure(rootContextId: u32, configurationSize: usize): bool {
  enterCallback(configurationSize);
  const root = rootOf(rootContextId);
  return leaveWith(root == null ? false : root.onConfigure(configurationSize));
}

export function proxy_on_tick(rootContextId: u32): void {
  enterCallback(0);
  const root = rootOf(rootContextId);
  if (root != null) root.onTick();
  leaveCallback();
}

export function proxy_on_queue_ready(rootContextId: u32, queueId: u32): void {
  enterCallback(0);
  const root = rootOf(rootContextId);
  if (root != null) root.onQueueReady(queueId);
  leaveCallback();
}

export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, dataSize: usize): void {
  enterCallback(dataSize);
  const root = rootOf(rootContextId);
  if (root != null) root.onForeignFunction(functionId, dataSize);
  leaveCallback();
}

export function proxy_on_http_call_response(
  rootContextId: u32,
  token: u32,
  headerCount: u32,
  bodySize: usize,
  trailerCount: u32,
): void {
  enterCallback(bodySize);
  const root = rootOf(rootContextId);
  if (root != null) root.onHttpCallResponse(token, headerCount, bodySize, trailerCount);
  leaveCallback();
}

export function proxy_on_log(contextId: u32): void {
  enterCallback(0);
  const stream = streamOf(contextId);
  if (stream != null) {
    stream.onLog();
  } else {
    const root = rootOf(contextId);
    if (root != null) root.onLog();
  }
  leaveCallback();
}

export function proxy_on_done(contextId: u32): bool {
  enterCallback(0);
  const stream = streamOf(contextId);
  if (stream != null) return leaveWith(stream.onDone());
  const root = rootOf(contextId);
  return leaveWith(root == null ? true : root.onDone());
}

export function proxy_on_delete(contextId: u32): void {
  enterCallback(0);
  const stream = streamOf(contextId);
  if (stream != null) {
    stream.onDelete();
    streams.delete(contextId);
    cachedStream = null;
  } else {
    const root = rootOf(contextId);
    if (root != null) {
      root.onDelete();
      roots.delete(contextId);
    }
  }
  leaveCallback();
}

// ---- HTTP streams --------------------------------------------------------------------------

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: u32): u32 {
  enterCallback(0);
  const stream = streamOf(contextId);
  return leaveWith(stream == null ? 0 : <u32>stream.onRequestHeaders(headerCount, endOfStream != 0));
}

export function proxy_on_request_body(contextId: u32, bodySize: usize, endOfStream: u32): u32 {
  enterCallback(bodySize);
  const stream = streamOf(contextId);
  return leaveWith(stream == null ? 0 : <u32>stream.onRequestBody(bodySize, endOfStream != 0));
}

export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): u32 {
  enterCallback(0);
  const stream = streamOf(contextId);
  return leaveWith(stream == null ? 0 : <u32>stream.onRequestTrailers(trailerCount));
}

export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: u32): u32 {
  enterCallback(0);
  const stream = streamOf(contextId);
  return leaveWith(stream == null ? 0 : <u32>stream.onResponseHeaders(headerCount, endOfStream != 0));
}

export function proxy_on_response_body(contextId: u32, bodySize: usize, endOfStream: u32): u32 {
  enterCallback(bodySize);
  const stream = streamOf(contextId);
  return leaveWith(stream == null ? 0 : <u32>stream.onResponseBody(bodySize, endOfStream != 0));
}

export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): u32 {
  enterCallback(0);
  const stream = streamOf(contextId);
  return leaveWith(stream == null ? 0 : <u32>stream.onResponseTrailers(trailerCount));
}

// ---- TCP streams: wayroute has no network-filter contexts; let bytes through ---------------

export function proxy_on_new_connection(contextId: u32): u32 {
  return <u32>FilterStatus.Continue;
}

export function proxy_on_downstream_data(contextId: u32, dataSize: usize, endOfStream: u32): u32 {
  return <u32>FilterStatus.Continue;
}

export function proxy_on_upstream_data(contextId: u32, dataSize: usize, endOfStream: u32): u32 {
  return <u32>FilterStatus.Continue;
}

export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {}

export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {}
