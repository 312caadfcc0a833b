/** The local proxy (`wayroute serve`): runs a proxy-wasm plugin on every request and forwards over TCP. */
export { ProxyServer, type ProxyStats } from "./proxy.js";
export { resolveServeConfig, loadServeConfig, ServeConfigError, DEFAULT_ENDPOINT_HEADER, type ServeConfig, type ServePluginConfig, type FailStrategy } from "./config.js";
export { PassThroughFilter, PassThroughFilterFactory, type StreamFilter, type FilterFactory, type FilterWorker, type Verdict, type HeaderPairs, type StreamInfo } from "./filter.js";
export { LoadBalancer, UpstreamRequest } from "./upstream.js";
