/** Simulated OpenAI-compatible model servers with a vLLM-like behaviour model. */
export { SimCluster, type SimClusterOptions } from "./cluster.js";
export { SimServer, type SimServerOptions } from "./server.js";
export { SimEngine, type SimStats } from "./engine.js";
export { DEFAULT_SIM_PARAMS, resolveSimParams, SimParamError, type SimParams } from "./params.js";
export { renderVllmMetrics, renderOrca } from "./metrics.js";
export { renderChat, blockHashes, SimRequestError } from "./prompt.js";
export { KvCache } from "./kv-cache.js";
