/**
 * wayroute's public TypeScript API: the Envoy-faithful proxy-wasm host harness and the tools
 * around it. Everything a user may import is re-exported here.
 */
// Proxy-wasm host harness (docs/harness.md).
export * from "./host/index.js";
// OCI packaging and registry client, Istio/Envoy manifests (docs/packaging.md).
export * from "./oci/index.js";
export * from "./manifest/index.js";
// Scenario runner (`wayroute run`) and plugin config validation (`wayroute validate`).
export * from "./scenario/index.js";
export * from "./config/index.js";
