// Raw host imports of the proxy-wasm ABI 0.2.1 ("env" module), exactly as Envoy links them
// (proxy-wasm-cpp-host src/exports.cc, src/wasm.cc registerCallbacks). Every parameter is a
// 32-bit word except the two 64-bit metric values. Every call returns a Status (WasmResult).
//
// This is the only file that declares host functions. Nothing outside hostcalls.ts should use
// them: the typed wrappers there own the out-parameter slots and the buffers the host allocates.
// asc emits an import only when a declaration is reachable, so declaring every call costs nothing.
//
// Deliberately absent: the ABI 0.1.0-only calls proxy_get_configuration, proxy_clear_route_cache,
// proxy_continue_request and proxy_continue_response. Envoy does not link them for a 0.2.1 module,
// so importing one makes the module fail to load.

// ---- Logging -------------------------------------------------------------------------------

@external("env", "proxy_log")
export declare function proxy_log(level: u32, messagePtr: usize, messageSize: usize): u32;

@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(returnLevelPtr: usize): u32;

// ---- Status of the last call (http call response, gRPC) ------------------------------------

@external("env", "proxy_get_status")
export declare function proxy_get_status(
  returnCodePtr: usize,
  returnMessagePtrPtr: usize,
  returnMessageSizePtr: usize,
): u32;

// ---- Time and timers ---------------------------------------------------------------------

@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(returnTimePtr: usize): u32;

@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMs: u32): u32;

// ---- Properties ----------------------------------------------------------------------------

@external("env", "proxy_get_property")
export declare function proxy_get_property(
  pathPtr: usize,
  pathSize: usize,
  returnValuePtrPtr: usize,
  returnValueSizePtr: usize,
): u32;

@external("env", "proxy_set_property")
export declare function proxy_set_property(
  pathPtr: usize,
  pathSize: usize,
  valuePtr: usize,
  valueSize: usize,
): u32;

// ---- Header maps -------------------------------------------------------------------------

@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(
  mapType: u32,
  returnMapPtrPtr: usize,
  returnMapSizePtr: usize,
): u32;

@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(mapType: u32, mapPtr: usize, mapSize: usize): u32;

@external("env", "proxy_get_header_map_size")
export declare function proxy_get_header_map_size(mapType: u32, returnSizePtr: usize): u32;

@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(
  mapType: u32,
  keyPtr: usize,
  keySize: usize,
  returnValuePtrPtr: usize,
  returnValueSizePtr: usize,
): u32;

@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(
  mapType: u32,
  keyPtr: usize,
  keySize: usize,
  valuePtr: usize,
  valueSize: usize,
): u32;

@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(
  mapType: u32,
  keyPtr: usize,
  keySize: usize,
  valuePtr: usize,
  valueSize: usize,
): u32;

@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(
  mapType: u32,
  keyPtr: usize,
  keySize: usize,
): u32;

// ---- Buffers -------------------------------------------------------------------------------

@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(
  bufferType: u32,
  start: usize,
  maxSize: usize,
  returnBufferPtrPtr: usize,
  returnBufferSizePtr: usize,
): u32;

@external("env", "proxy_get_buffer_status")
export declare function proxy_get_buffer_status(
  bufferType: u32,
  returnLengthPtr: usize,
  returnFlagsPtr: usize,
): u32;

@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(
  bufferType: u32,
  start: usize,
  size: usize,
  bufferPtr: usize,
  bufferSize: usize,
): u32;

// ---- HTTP stream control -----------------------------------------------------------------

@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  statusCode: u32,
  detailsPtr: usize,
  detailsSize: usize,
  bodyPtr: usize,
  bodySize: usize,
  headersPtr: usize,
  headersSize: usize,
  grpcStatus: i32,
): u32;

@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: u32): u32;

@external("env", "proxy_close_stream")
export declare function proxy_close_stream(streamType: u32): u32;

// ---- HTTP callouts -----------------------------------------------------------------------

@external("env", "proxy_http_call")
export declare function proxy_http_call(
  upstreamPtr: usize,
  upstreamSize: usize,
  headersPtr: usize,
  headersSize: usize,
  bodyPtr: usize,
  bodySize: usize,
  trailersPtr: usize,
  trailersSize: usize,
  timeoutMs: u32,
  returnTokenPtr: usize,
): u32;

// ---- gRPC callouts (declared for completeness; wayroute has no gRPC contexts) -------------

@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  servicePtr: usize,
  serviceSize: usize,
  serviceNamePtr: usize,
  serviceNameSize: usize,
  methodNamePtr: usize,
  methodNameSize: usize,
  initialMetadataPtr: usize,
  initialMetadataSize: usize,
  requestPtr: usize,
  requestSize: usize,
  timeoutMs: u32,
  returnTokenPtr: usize,
): u32;

@external("env", "proxy_grpc_stream")
export declare function proxy_grpc_stream(
  servicePtr: usize,
  serviceSize: usize,
  serviceNamePtr: usize,
  serviceNameSize: usize,
  methodNamePtr: usize,
  methodNameSize: usize,
  initialMetadataPtr: usize,
  initialMetadataSize: usize,
  returnTokenPtr: usize,
): u32;

@external("env", "proxy_grpc_send")
export declare function proxy_grpc_send(
  token: u32,
  messagePtr: usize,
  messageSize: usize,
  endOfStream: u32,
): u32;

@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): u32;

@external("env", "proxy_grpc_close")
export declare function proxy_grpc_close(token: u32): u32;

// ---- Shared data (per VM id, shared by all workers) ---------------------------------------

@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(
  keyPtr: usize,
  keySize: usize,
  returnValuePtrPtr: usize,
  returnValueSizePtr: usize,
  returnCasPtr: usize,
): u32;

@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(
  keyPtr: usize,
  keySize: usize,
  valuePtr: usize,
  valueSize: usize,
  cas: u32,
): u32;

// ---- Shared queues -----------------------------------------------------------------------

@external("env", "proxy_register_shared_queue")
export declare function proxy_register_shared_queue(
  namePtr: usize,
  nameSize: usize,
  returnIdPtr: usize,
): u32;

@external("env", "proxy_resolve_shared_queue")
export declare function proxy_resolve_shared_queue(
  vmIdPtr: usize,
  vmIdSize: usize,
  namePtr: usize,
  nameSize: usize,
  returnIdPtr: usize,
): u32;

@external("env", "proxy_enqueue_shared_queue")
export declare function proxy_enqueue_shared_queue(
  queueId: u32,
  valuePtr: usize,
  valueSize: usize,
): u32;

@external("env", "proxy_dequeue_shared_queue")
export declare function proxy_dequeue_shared_queue(
  queueId: u32,
  returnValuePtrPtr: usize,
  returnValueSizePtr: usize,
): u32;

// ---- Metrics -------------------------------------------------------------------------------

@external("env", "proxy_define_metric")
export declare function proxy_define_metric(
  metricType: u32,
  namePtr: usize,
  nameSize: usize,
  returnIdPtr: usize,
): u32;

@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metricId: u32, offset: i64): u32;

@external("env", "proxy_record_metric")
export declare function proxy_record_metric(metricId: u32, value: u64): u32;

@external("env", "proxy_get_metric")
export declare function proxy_get_metric(metricId: u32, returnValuePtr: usize): u32;

// ---- Contexts and foreign functions --------------------------------------------------------

@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): u32;

@external("env", "proxy_done")
export declare function proxy_done(): u32;

@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(
  namePtr: usize,
  nameSize: usize,
  argumentsPtr: usize,
  argumentsSize: usize,
  returnResultsPtrPtr: usize,
  returnResultsSizePtr: usize,
): u32;
