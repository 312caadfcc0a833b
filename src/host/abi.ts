/**
 * Numeric constants of the proxy-wasm ABI as Envoy (proxy-wasm-cpp-host) defines them, and ABI
 * version detection. Values come from proxy-wasm-cpp-host `include/proxy-wasm/wasm_api_impl.h`
 * and the SDKs' enum files; they never change between 0.2.0 and 0.2.1.
 */
import { AbiVersionError } from "./errors.js";

/** Status codes every `proxy_*` host function returns (`WasmResult`). */
export const WasmResult = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;
export type WasmResultCode = (typeof WasmResult)[keyof typeof WasmResult];

/** Log levels, in the order of `proxy_log`'s first argument. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;
export const BUFFER_TYPE_MAX = 8;

export const MapType = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;
export const MAP_TYPE_MAX = 7;

export const StreamType = { Request: 0, Response: 1, Downstream: 2, Upstream: 3 } as const;
export const STREAM_TYPE_MAX = 3;

export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;
export type MetricTypeName = "counter" | "gauge" | "histogram";
export const METRIC_TYPE_NAMES: readonly MetricTypeName[] = ["counter", "gauge", "histogram"];

/** What `proxy_on_request_headers` / `proxy_on_response_headers` may return. */
export const FilterHeadersStatus = {
  Continue: 0,
  StopIteration: 1,
  ContinueAndEndStream: 2,
  StopAllIterationAndBuffer: 3,
  StopAllIterationAndWatermark: 4,
} as const;

/** What `proxy_on_request_body` / `proxy_on_response_body` may return. */
export const FilterDataStatus = {
  Continue: 0,
  StopIterationAndBuffer: 1,
  StopIterationAndWatermark: 2,
  StopIterationNoBuffer: 3,
} as const;

/** What the trailers callbacks may return. */
export const FilterTrailersStatus = { Continue: 0, StopIteration: 1 } as const;

export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

const ABI_MARKERS: ReadonlyArray<[string, AbiVersion]> = [
  ["proxy_abi_version_0_2_1", "0.2.1"],
  ["proxy_abi_version_0_2_0", "0.2.0"],
  ["proxy_abi_version_0_1_0", "0.1.0"],
];

/**
 * Finds the module's ABI version by its exported marker function, as proxy-wasm-cpp-host does.
 * Throws {@link AbiVersionError} when no marker is exported.
 */
export function detectAbiVersion(module: WebAssembly.Module): AbiVersion {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  for (const [marker, version] of ABI_MARKERS) {
    if (names.has(marker)) return version;
  }
  throw new AbiVersionError(
    "the module exports no proxy-wasm ABI marker (proxy_abi_version_0_2_1, _0_2_0 or _0_1_0); " +
      "build it with a proxy-wasm SDK, or export the marker function of the ABI it implements",
  );
}
