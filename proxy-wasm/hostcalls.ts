// Typed wrappers over the raw imports in imports.ts, in the same order.
//
// Conventions (one rule for every wrapper):
//  - Calls without a result return the host's Status.
//  - Calls with a result return it directly; `null` (or 0 for numbers) means "no value", and
//    `lastHostStatus()` tells why (NotFound, Empty, BadArgument, ...). No wrapper traps on a
//    host error: policy code decides what an error means.
//  - Variable-size results are ArrayBuffers the host wrote through `malloc`; allocator.ts
//    explains how they stay alive until adopted. Out-parameters go through the static scratch.
//  - `...Bytes` variants take pre-encoded UTF-8 so hot paths (headers set on every request)
//    encode once at configure time instead of once per request.

import * as raw from "./imports";
import {
  SCRATCH_PTR,
  SCRATCH_SIZE,
  SCRATCH_U64,
  EMPTY_BUFFER,
  adoptHostBlock,
  clearScratch,
  releasePendingHostBlocks,
} from "./allocator";
import { HeaderPair, deserializeHeaderMap, serializeHeaderMap } from "./header-map";
import { encodePropertyPath } from "./property-path";
import { BufferType, LogLevel, MapType, MetricType, Status, StreamType } from "./types";

let lastStatus: Status = Status.Ok;

/** Status of the most recent wrapper call that returns a value instead of a Status. */
export function lastHostStatus(): Status {
  return lastStatus;
}

// @ts-ignore: decorator
@inline
function ptrOf(buffer: ArrayBuffer): usize {
  return changetype<usize>(buffer);
}

// @ts-ignore: decorator
@inline
function sizeOf(buffer: ArrayBuffer): usize {
  return <usize>buffer.byteLength;
}

/** Finishes a call whose result is a host-allocated block: adopt it on Ok, else null. */
function takeBlock(status: u32): ArrayBuffer | null {
  lastStatus = <Status>status;
  const block = status == Status.Ok ? adoptHostBlock() : null;
  releasePendingHostBlocks();
  return block;
}

// ---- Logging -------------------------------------------------------------------------------

/** Writes one log line at `level`. */
export function log(level: LogLevel, message: string): Status {
  const bytes = String.UTF8.encode(message);
  return <Status>raw.proxy_log(<u32>level, ptrOf(bytes), sizeOf(bytes));
}

/** Writes pre-encoded UTF-8 bytes as one log line. */
export function logBytes(level: LogLevel, message: ArrayBuffer): Status {
  return <Status>raw.proxy_log(<u32>level, ptrOf(message), sizeOf(message));
}

/** The host's current log level (Envoy: the wasm logger's level). Info when unavailable. */
export function getLogLevel(): LogLevel {
  clearScratch();
  lastStatus = <Status>raw.proxy_get_log_level(SCRATCH_U64);
  return lastStatus == Status.Ok ? <LogLevel>load<u32>(SCRATCH_U64) : LogLevel.Info;
}

// ---- Status of the last callout -------------------------------------------------------------

/** Code and message of the callout that triggered the current callback (gRPC/http status). */
export class CalloutStatus {
  constructor(
    public code: u32,
    public message: string,
  ) {}
}

export function getStatus(): CalloutStatus | null {
  clearScratch();
  const status = raw.proxy_get_status(SCRATCH_U64, SCRATCH_PTR, SCRATCH_SIZE);
  const code = load<u32>(SCRATCH_U64);
  const block = takeBlock(status);
  if (block == null) return null;
  return new CalloutStatus(code, String.UTF8.decode(block));
}

// ---- Time and timers ---------------------------------------------------------------------

/** Wall-clock time in nanoseconds since the epoch (0 when unavailable). */
export function getCurrentTimeNanoseconds(): u64 {
  clearScratch();
  lastStatus = <Status>raw.proxy_get_current_time_nanoseconds(SCRATCH_U64);
  return lastStatus == Status.Ok ? load<u64>(SCRATCH_U64) : 0;
}

/** Asks for proxy_on_tick every `periodMs` on the calling root context; 0 stops ticks. */
export function setTickPeriodMilliseconds(periodMs: u32): Status {
  return <Status>raw.proxy_set_tick_period_milliseconds(periodMs);
}

// ---- Properties ----------------------------------------------------------------------------

/** Raw value of the property at `path`, e.g. ["xds", "cluster_name"]; null if absent. */
export function getProperty(path: string[]): ArrayBuffer | null {
  return getPropertyEncoded(encodePropertyPath(path));
}

/** Like getProperty with a path already encoded by encodePropertyPath (reuse it per call). */
export function getPropertyEncoded(path: ArrayBuffer): ArrayBuffer | null {
  clearScratch();
  return takeBlock(raw.proxy_get_property(ptrOf(path), sizeOf(path), SCRATCH_PTR, SCRATCH_SIZE));
}

/** Property value decoded as UTF-8, or null if absent. */
export function getPropertyString(path: string[]): string | null {
  const value = getProperty(path);
  return value == null ? null : String.UTF8.decode(value);
}

export function setProperty(path: string[], value: ArrayBuffer): Status {
  const encoded = encodePropertyPath(path);
  return <Status>raw.proxy_set_property(ptrOf(encoded), sizeOf(encoded), ptrOf(value), sizeOf(value));
}

// ---- Header maps -------------------------------------------------------------------------

/** All pairs of a header map (empty on error). */
export function getHeaderMapPairs(map: MapType): HeaderPair[] {
  clearScratch();
  const block = takeBlock(raw.proxy_get_header_map_pairs(<u32>map, SCRATCH_PTR, SCRATCH_SIZE));
  return block == null ? new Array<HeaderPair>(0) : deserializeHeaderMap(block);
}

/** Replaces a whole header map. */
export function setHeaderMapPairs(map: MapType, pairs: HeaderPair[]): Status {
  const encoded = serializeHeaderMap(pairs);
  return <Status>raw.proxy_set_header_map_pairs(<u32>map, ptrOf(encoded), sizeOf(encoded));
}

/** Byte size of a header map as Envoy counts it (0 on error). */
export function getHeaderMapSize(map: MapType): u32 {
  clearScratch();
  lastStatus = <Status>raw.proxy_get_header_map_size(<u32>map, SCRATCH_U64);
  return lastStatus == Status.Ok ? load<u32>(SCRATCH_U64) : 0;
}

/** First value of header `name` (lower case), or null when absent. */
export function getHeader(map: MapType, name: string): string | null {
  const value = getHeaderBytes(map, String.UTF8.encode(name));
  return value == null ? null : String.UTF8.decode(value);
}

export function getHeaderBytes(map: MapType, name: ArrayBuffer): ArrayBuffer | null {
  clearScratch();
  return takeBlock(
    raw.proxy_get_header_map_value(<u32>map, ptrOf(name), sizeOf(name), SCRATCH_PTR, SCRATCH_SIZE),
  );
}

/** Appends a value (keeps existing values of the same header). */
export function addHeader(map: MapType, name: string, value: string): Status {
  return addHeaderBytes(map, String.UTF8.encode(name), String.UTF8.encode(value));
}

export function addHeaderBytes(map: MapType, name: ArrayBuffer, value: ArrayBuffer): Status {
  return <Status>(
    raw.proxy_add_header_map_value(<u32>map, ptrOf(name), sizeOf(name), ptrOf(value), sizeOf(value))
  );
}

/** Sets a header to exactly one value (adds it when absent). */
export function replaceHeader(map: MapType, name: string, value: string): Status {
  return replaceHeaderBytes(map, String.UTF8.encode(name), String.UTF8.encode(value));
}

export function replaceHeaderBytes(map: MapType, name: ArrayBuffer, value: ArrayBuffer): Status {
  return <Status>(
    raw.proxy_replace_header_map_value(
      <u32>map,
      ptrOf(name),
      sizeOf(name),
      ptrOf(value),
      sizeOf(value),
    )
  );
}

/** Removes every value of a header. */
export function removeHeader(map: MapType, name: string): Status {
  return removeHeaderBytes(map, String.UTF8.encode(name));
}

export function removeHeaderBytes(map: MapType, name: ArrayBuffer): Status {
  return <Status>raw.proxy_remove_header_map_value(<u32>map, ptrOf(name), sizeOf(name));
}

// ---- Buffers -------------------------------------------------------------------------------

/**
 * Up to `maxSize` bytes of a buffer from `start`. Returns an empty buffer when the range holds
 * nothing, null when the buffer does not exist in this callback (NotFound).
 */
export function getBufferBytes(buffer: BufferType, start: usize, maxSize: usize): ArrayBuffer | null {
  clearScratch();
  return takeBlock(
    raw.proxy_get_buffer_bytes(<u32>buffer, start, maxSize, SCRATCH_PTR, SCRATCH_SIZE),
  );
}

/** Current length of a buffer (0 with lastHostStatus() != Ok when it does not exist). */
export function getBufferLength(buffer: BufferType): usize {
  clearScratch();
  lastStatus = <Status>raw.proxy_get_buffer_status(<u32>buffer, SCRATCH_SIZE, SCRATCH_U64);
  return lastStatus == Status.Ok ? <usize>load<u32>(SCRATCH_SIZE) : 0;
}

/** Replaces `size` bytes from `start` with `data` (start 0, size = length replaces all). */
export function setBufferBytes(buffer: BufferType, start: usize, size: usize, data: ArrayBuffer): Status {
  return <Status>raw.proxy_set_buffer_bytes(<u32>buffer, start, size, ptrOf(data), sizeOf(data));
}

/** `setBufferBytes` from `length` bytes at `ptr` (e.g. a reused buffer's contents), without a copy. */
export function setBufferBytesFrom(buffer: BufferType, start: usize, size: usize, ptr: usize, length: usize): Status {
  return <Status>raw.proxy_set_buffer_bytes(<u32>buffer, start, size, ptr, length);
}

// ---- HTTP stream control -----------------------------------------------------------------

/**
 * Replies to the client without going upstream. After this the callback's return value is
 * ignored and the stream stops; the reply is sent when the callback returns.
 */
export function sendLocalResponse(
  statusCode: u32,
  details: string,
  body: ArrayBuffer,
  headers: HeaderPair[],
  grpcStatus: i32 = -1,
): Status {
  const detailBytes = String.UTF8.encode(details);
  const headerBytes = serializeHeaderMap(headers);
  return <Status>(
    raw.proxy_send_local_response(
      statusCode,
      ptrOf(detailBytes),
      sizeOf(detailBytes),
      ptrOf(body),
      sizeOf(body),
      ptrOf(headerBytes),
      sizeOf(headerBytes),
      grpcStatus,
    )
  );
}

/** Resumes a stream paused by a Stop* return value. */
export function continueStream(stream: StreamType): Status {
  return <Status>raw.proxy_continue_stream(<u32>stream);
}

/** Resets a stream. */
export function closeStream(stream: StreamType): Status {
  return <Status>raw.proxy_close_stream(<u32>stream);
}

// ---- HTTP callouts -----------------------------------------------------------------------

/**
 * Starts an HTTP call to cluster `upstream`. Headers must include :method, :path and
 * :authority. Returns the token proxy_on_http_call_response will carry, 0 on failure.
 */
export function httpCall(
  upstream: string,
  headers: HeaderPair[],
  body: ArrayBuffer,
  trailers: HeaderPair[],
  timeoutMs: u32,
): u32 {
  const upstreamBytes = String.UTF8.encode(upstream);
  const headerBytes = serializeHeaderMap(headers);
  const trailerBytes = serializeHeaderMap(trailers);
  clearScratch();
  lastStatus = <Status>(
    raw.proxy_http_call(
      ptrOf(upstreamBytes),
      sizeOf(upstreamBytes),
      ptrOf(headerBytes),
      sizeOf(headerBytes),
      ptrOf(body),
      sizeOf(body),
      ptrOf(trailerBytes),
      sizeOf(trailerBytes),
      timeoutMs,
      SCRATCH_U64,
    )
  );
  return lastStatus == Status.Ok ? load<u32>(SCRATCH_U64) : 0;
}

// ---- Shared data -------------------------------------------------------------------------

/** A shared-data value and the CAS version it was read at. */
export class SharedDataValue {
  constructor(
    public value: ArrayBuffer,
    public cas: u32,
  ) {}
}

/** Reads shared data; null with lastHostStatus() NotFound when the key is absent. */
export function getSharedData(key: string): SharedDataValue | null {
  return getSharedDataBytes(String.UTF8.encode(key));
}

/** getSharedData with the key already UTF-8 encoded. */
export function getSharedDataBytes(keyBytes: ArrayBuffer): SharedDataValue | null {
  clearScratch();
  const status = raw.proxy_get_shared_data(
    ptrOf(keyBytes),
    sizeOf(keyBytes),
    SCRATCH_PTR,
    SCRATCH_SIZE,
    SCRATCH_U64,
  );
  const cas = load<u32>(SCRATCH_U64);
  const block = takeBlock(status);
  return block == null ? null : new SharedDataValue(block, cas);
}

/** Writes shared data. cas 0 writes unconditionally; a stale cas gives Status.CasMismatch. */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): Status {
  return setSharedDataAt(String.UTF8.encode(key), ptrOf(value), sizeOf(value), cas);
}

/** setSharedData with the key already UTF-8 encoded. */
export function setSharedDataBytes(keyBytes: ArrayBuffer, value: ArrayBuffer, cas: u32 = 0): Status {
  return setSharedDataAt(keyBytes, ptrOf(value), sizeOf(value), cas);
}

/**
 * setSharedData with the key already UTF-8 encoded and the value given as `size` bytes at
 * `value` (part of a larger buffer: one encoding can serve two keys).
 */
export function setSharedDataAt(keyBytes: ArrayBuffer, value: usize, size: usize, cas: u32 = 0): Status {
  return <Status>raw.proxy_set_shared_data(ptrOf(keyBytes), sizeOf(keyBytes), value, size, cas);
}

// ---- Shared queues -----------------------------------------------------------------------

/** Registers a queue owned by this VM; returns its id (0 with lastHostStatus() on failure). */
export function registerSharedQueue(name: string): u32 {
  const nameBytes = String.UTF8.encode(name);
  clearScratch();
  lastStatus = <Status>raw.proxy_register_shared_queue(ptrOf(nameBytes), sizeOf(nameBytes), SCRATCH_U64);
  return lastStatus == Status.Ok ? load<u32>(SCRATCH_U64) : 0;
}

/** Looks up a queue registered by VM `vmId`; returns its id (0 with lastHostStatus() if none). */
export function resolveSharedQueue(vmId: string, name: string): u32 {
  const vmBytes = String.UTF8.encode(vmId);
  const nameBytes = String.UTF8.encode(name);
  clearScratch();
  lastStatus = <Status>(
    raw.proxy_resolve_shared_queue(
      ptrOf(vmBytes),
      sizeOf(vmBytes),
      ptrOf(nameBytes),
      sizeOf(nameBytes),
      SCRATCH_U64,
    )
  );
  return lastStatus == Status.Ok ? load<u32>(SCRATCH_U64) : 0;
}

export function enqueueSharedQueue(queueId: u32, value: ArrayBuffer): Status {
  return <Status>raw.proxy_enqueue_shared_queue(queueId, ptrOf(value), sizeOf(value));
}

/** Next item of a queue; null with lastHostStatus() Empty when there is none. */
export function dequeueSharedQueue(queueId: u32): ArrayBuffer | null {
  clearScratch();
  return takeBlock(raw.proxy_dequeue_shared_queue(queueId, SCRATCH_PTR, SCRATCH_SIZE));
}

// ---- Metrics -------------------------------------------------------------------------------

/** Defines (or finds) a metric; returns its id. Check lastHostStatus(): 0 can be a valid id. */
export function defineMetric(type: MetricType, name: string): u32 {
  const nameBytes = String.UTF8.encode(name);
  clearScratch();
  lastStatus = <Status>(
    raw.proxy_define_metric(<u32>type, ptrOf(nameBytes), sizeOf(nameBytes), SCRATCH_U64)
  );
  return load<u32>(SCRATCH_U64);
}

export function incrementMetric(metricId: u32, offset: i64): Status {
  return <Status>raw.proxy_increment_metric(metricId, offset);
}

export function recordMetric(metricId: u32, value: u64): Status {
  return <Status>raw.proxy_record_metric(metricId, value);
}

export function getMetric(metricId: u32): u64 {
  clearScratch();
  lastStatus = <Status>raw.proxy_get_metric(metricId, SCRATCH_U64);
  return lastStatus == Status.Ok ? load<u64>(SCRATCH_U64) : 0;
}

// ---- Contexts and foreign functions --------------------------------------------------------

// Encoded once: route mode calls this on every steered request.
const CLEAR_ROUTE_CACHE = String.UTF8.encode("clear_route_cache");

/** Makes later host calls act on context `contextId` (e.g. resume a stream from a tick). */
export function setEffectiveContext(contextId: u32): Status {
  return <Status>raw.proxy_set_effective_context(contextId);
}

/** Tells the host a context that returned false from on_done has finished. */
export function done(): Status {
  return <Status>raw.proxy_done();
}

/** Calls a host-registered foreign function; returns its result bytes, null on failure. */
export function callForeignFunction(name: string, args: ArrayBuffer): ArrayBuffer | null {
  return callForeignFunctionBytes(String.UTF8.encode(name), args);
}

/** callForeignFunction with the name pre-encoded as UTF-8. */
export function callForeignFunctionBytes(nameBytes: ArrayBuffer, args: ArrayBuffer): ArrayBuffer | null {
  clearScratch();
  return takeBlock(
    raw.proxy_call_foreign_function(
      ptrOf(nameBytes),
      sizeOf(nameBytes),
      ptrOf(args),
      sizeOf(args),
      SCRATCH_PTR,
      SCRATCH_SIZE,
    ),
  );
}

/**
 * Envoy's foreign function "clear_route_cache": re-runs route selection after headers changed.
 * (ABI 0.2.x replacement for the 0.1.0-only proxy_clear_route_cache import.)
 */
export function clearRouteCache(): Status {
  callForeignFunctionBytes(CLEAR_ROUTE_CACHE, EMPTY_BUFFER);
  return lastStatus;
}
