/** Istio and Envoy manifests for the plugin: WasmPlugin, route-mode objects, Envoy bootstrap. */
export { ManifestError, type ManifestErrorCode } from "./errors.js";
export { assertDnsLabel, assertDnsSubdomain, dns1123LabelProblem, dns1123SubdomainProblem } from "./k8s-names.js";
export { buildWasmPlugin, type WasmPluginOptions, type PluginSource, type PluginTargets, FAIL_STRATEGIES, PHASES, PULL_POLICIES } from "./wasmplugin.js";
export { buildRouteMode, replicaBackends, parseRouteBackends, DEFAULT_ROUTE_HEADER, type RouteModeOptions, type RouteBackend } from "./route-mode.js";
export { buildEnvoyConfig, parseEndpoint, pluginHoldsHeaders, DESTINATION_HEADER, FALLBACK_POLICIES, ENDPOINT_CLUSTERS, type EndpointCluster, type EnvoyConfigOptions, type EnvoyPool, type EnvoyRouteBackend, type FallbackPolicy } from "./envoy.js";
export { wasmPluginProblems, assertValidWasmPlugin, structuralToJsonSchema } from "./crd-schema.js";
export { pluginConfigProblems, assertValidPluginConfig, pluginConfigValidator, readConfigFile } from "./plugin-config.js";
export { findSchemasDir } from "./schemas-dir.js";
export { waypointServiceCluster, toWaypointCluster, withWaypointScrapeClusters } from "./waypoint-clusters.js";
export { jsonPath } from "./json-path.js";
export {
  routeModeDocuments,
  endpointModeDocuments,
  renderYaml,
  configSteeringMode,
  configRouteHeader,
  configEndpoints,
  configRouteBackends,
  configParentService,
  configEnvoyPools,
  configRouteEnvoy,
  checkedConfig,
  type SteeringMode,
} from "./generate.js";
