/** The proxy-wasm host harness: public API. See docs/harness.md. */
export { ProxyWasmHost, Worker, MainThread, MAIN_THREAD, type ProxyWasmHostOptions, type RequestOptions, type ConfigInput } from "./host.js";
export {
  HttpStream,
  type StepResult,
  type RequestResult,
  type ForwardedRequest,
  type FinalResponse,
  type LocalReply,
  type UpstreamHandler,
  type UpstreamResponse,
  type BodyInput,
  type StreamOptions,
} from "./streams.js";
export {
  SharedState,
  type FailStrategy,
  type ForeignFunction,
  type ForeignCallContext,
  type ForeignCall,
  type TrapInfo,
  type RawHeaderWrite,
} from "./core.js";
export { HeaderMap, encodePairs, decodePairs, type HeaderPairs, type HeaderInput } from "./headers.js";
export {
  HttpCallRecord,
  type ClusterHandler,
  type HttpCallRequest,
  type HttpCallResponse,
  type HttpCallOutcome,
  type HttpCallState,
  type DeliveredHttpResponse,
} from "./http-calls.js";
export { prop, encodeProperty, type PropertyTree, type PropertyValue, type TypedProperty } from "./properties.js";
export { formatLog, type LogEntry, type LogSource, LogSink } from "./logs.js";
export { MetricsStore, type Metric } from "./metrics.js";
export { SharedDataStore, type SharedValue } from "./shared-data.js";
export { SharedQueueRegistry } from "./shared-queues.js";
export {
  WasmResult,
  BufferType,
  MapType,
  StreamType,
  MetricType,
  FilterHeadersStatus,
  FilterDataStatus,
  FilterTrailersStatus,
  LOG_LEVELS,
  detectAbiVersion,
  type AbiVersion,
  type LogLevelName,
  type MetricTypeName,
  type WasmResultCode,
} from "./abi.js";
export {
  HostError,
  AbiVersionError,
  LinkError,
  ModuleLoadError,
  VmStartError,
  HarnessUsageError,
} from "./errors.js";
