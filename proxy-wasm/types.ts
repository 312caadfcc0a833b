// Enumerations of the proxy-wasm ABI 0.2.1, with the numeric values the host uses on the wire.
// Values checked against proxy-wasm-cpp-host (include/proxy-wasm/context_interface.h, word.h)
// and the Rust SDK's src/types.rs.

/** Log levels for proxy_log and proxy_get_log_level. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

/** WasmResult: the status every host call returns. */
export enum Status {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** Returned by proxy_on_request_headers / proxy_on_response_headers. */
export enum FilterHeadersStatus {
  Continue = 0,
  /** Under ABI 0.2.x Envoy turns this into StopAllIterationAndWatermark. */
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** Returned by proxy_on_request_body / proxy_on_response_body. */
export enum FilterDataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** Returned by proxy_on_request_trailers / proxy_on_response_trailers. */
export enum FilterTrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** Returned by the TCP callbacks (proxy_on_new_connection, *_data). */
export enum FilterStatus {
  Continue = 0,
  StopIteration = 1,
}

/** Buffers readable with proxy_get_buffer_bytes. */
export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}

/** Header maps addressed by the proxy_*_header_map_* calls. */
export enum MapType {
  HttpRequestHeaders = 0,
  HttpRequestTrailers = 1,
  HttpResponseHeaders = 2,
  HttpResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

/** Streams for proxy_continue_stream / proxy_close_stream. */
export enum StreamType {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3,
}

/** Metric kinds for proxy_define_metric. */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** Which side closed a TCP connection. */
export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}

/** gRPC status passed to proxy_send_local_response; -1 means "not a gRPC reply". */
export const GRPC_STATUS_NONE: i32 = -1;
