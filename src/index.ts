/**
 * wayroute's public TypeScript API: the Envoy-faithful proxy-wasm host harness and the tools
 * around it. Everything a user may import is re-exported here.
 */
// Proxy-wasm host harness (docs/harness.md).
export * from "./host/index.js";
// OCI packaging and registry client, Istio/Envoy manifests (docs/packaging.md).
export * from "./oci/index.js";
export * from "./manifest/index.js";
// Real Envoy: locate, validate a bootstrap, run and stop (docs/envoy.md).
export * from "./envoy/index.js";
// Scenario runner (`wayroute run`) and plugin config validation (`wayroute validate`).
export * from "./scenario/index.js";
export * from "./config/index.js";
// Simulated model servers, local proxy, load generator, benchmark report (docs/simulator.md, docs/benchmarks.md).
export { SimCluster, SimServer, SimEngine, KvCache, DEFAULT_SIM_PARAMS, resolveSimParams, SimParamError, SimRequestError, renderVllmMetrics, renderOrca, type SimParams, type SimStats, type SimClusterOptions, type SimServerOptions } from "./sim/index.js";
export { ProxyServer, PassThroughFilter, PassThroughFilterFactory, resolveServeConfig, loadServeConfig, ServeConfigError, DEFAULT_ENDPOINT_HEADER, type ProxyStats, type ServeConfig, type ServePluginConfig, type StreamFilter, type FilterFactory, type FilterWorker, type Verdict, type StreamInfo } from "./serve/index.js";
export { createWasmFilters, WasmFilterFactory, PluginLoadError, type WasmPluginSpec, type WasmFilterOptions } from "./serve/wasm-filter.js";
export { runLoad, summarize, quantile, defaultWorkloads, type Workload, type LoadRun, type LoadSummary, type RequestRecord, type RunLoadOptions } from "./load/index.js";
export { renderReport, type BenchResults, type MacroCell, type MicroRow } from "./report/index.js";
export type { MicroSuite, MicroResult, MicroContext } from "./bench/suite.js";
