/**
 * Puts the manifest pieces together: validates the plugin config against the plugin's schema,
 * builds the WasmPlugin (validated against the Istio CRD) plus the route-mode objects, or the
 * standalone Envoy config for endpoint mode, and renders multi-document YAML.
 */
import { Document } from "yaml";
import { assertValidWasmPlugin } from "./crd-schema.js";
import { buildEnvoyConfig, type EnvoyConfigOptions, type EnvoyPool, type EnvoyRouteBackend } from "./envoy.js";
import { ManifestError } from "./errors.js";
import { assertValidPluginConfig } from "./plugin-config.js";
import { buildRouteMode, DEFAULT_ROUTE_HEADER, type RouteBackend, type RouteModeOptions } from "./route-mode.js";
import { buildWasmPlugin, type WasmPluginOptions } from "./wasmplugin.js";

export type SteeringMode = "route" | "endpoint";

interface PoolLike {
  name?: unknown;
  steering?: { mode?: unknown; header?: unknown; maxEndpoints?: unknown };
  endpoints?: unknown;
  match?: { authority?: unknown; pathPrefix?: unknown; headers?: unknown };
  scrape?: { cluster?: unknown; clusterTemplate?: unknown };
}

function pools(config: Record<string, unknown> | undefined): PoolLike[] {
  const p = config?.pools;
  if (Array.isArray(p)) return p as PoolLike[];
  if (p && typeof p === "object") return Object.values(p as Record<string, PoolLike>);
  return [];
}

/** The steering mode the config asks for (`pools[*].steering.mode`), if it says. */
export function configSteeringMode(config: Record<string, unknown> | undefined): SteeringMode | undefined {
  const modes = new Set(pools(config).map((p) => p?.steering?.mode).filter((m): m is SteeringMode => m === "route" || m === "endpoint"));
  if (modes.size > 1) {
    throw new ManifestError("E_BAD_OPTION", "the config mixes route and endpoint steering across pools; generate each with --mode");
  }
  return [...modes][0];
}

/** The route-mode header the config names (`pools[*].steering.header`), else the default. */
export function configRouteHeader(config: Record<string, unknown> | undefined): string {
  for (const p of pools(config)) if (typeof p?.steering?.header === "string") return p.steering.header;
  return DEFAULT_ROUTE_HEADER;
}

/**
 * Route-mode backends from the config: every `backend` of a pool steered in route mode, each
 * routed to the Service of the same name (whose waypoint cluster
 * `inbound-vip|PORT|http|<backend>.<ns>.svc.cluster.local` the plugin scrapes through), with the
 * pool's header when it sets one.
 */
export function configRouteBackends(config: Record<string, unknown> | undefined): RouteBackend[] {
  const out: RouteBackend[] = [];
  for (const p of pools(config)) {
    if (p?.steering?.mode !== "route" || !Array.isArray(p.endpoints)) continue;
    const header = typeof p.steering.header === "string" ? p.steering.header : undefined;
    for (const e of p.endpoints as { backend?: unknown }[]) {
      if (typeof e?.backend === "string") out.push({ name: e.backend, service: e.backend, ...(header ? { header } : {}) });
    }
  }
  return out;
}

/**
 * The Service clients call, from the route-mode pools' `match.authority` (`<svc>` or
 * `<svc>.<ns>[.svc[.cluster.local]]`), when they agree on one.
 */
export function configParentService(config: Record<string, unknown> | undefined): string | undefined {
  const names = new Set<string>();
  for (const p of pools(config)) {
    if (p?.steering?.mode !== "route" || typeof p.match?.authority !== "string") continue;
    names.add(p.match.authority.split(":")[0].split(".")[0].toLowerCase());
  }
  return names.size === 1 ? [...names][0] : undefined;
}

/** The cluster the plugin scrapes one route-mode endpoint through: metricsCluster, the template, else the backend. */
function routeEndpointCluster(p: PoolLike, e: { backend?: unknown; address?: unknown; metricsCluster?: unknown }): string {
  if (typeof e.metricsCluster === "string") return e.metricsCluster;
  const backend = String(e.backend);
  if (typeof p.scrape?.clusterTemplate === "string") {
    const address = typeof e.address === "string" ? e.address : "";
    const i = address.lastIndexOf(":");
    return p.scrape.clusterTemplate
      .replaceAll("{backend}", backend)
      .replaceAll("{address}", address)
      .replaceAll("{ip}", i > 0 ? address.slice(0, i) : address)
      .replaceAll("{port}", i > 0 ? address.slice(i + 1) : "");
  }
  return backend;
}

/**
 * Route mode on a standalone Envoy: each route-mode pool becomes a round-robin cluster over its
 * endpoints' addresses (the route without the steering header), and each endpoint a cluster of
 * its own, named like the cluster the plugin scrapes it through, selected by the header's value.
 */
export function configRouteEnvoy(config: Record<string, unknown> | undefined): { pools: EnvoyPool[]; backends: EnvoyRouteBackend[] } {
  const outPools = configEnvoyPools(config, "route");
  const backends: EnvoyRouteBackend[] = [];
  for (const p of pools(config)) {
    if (p?.steering?.mode !== "route" || !Array.isArray(p.endpoints)) continue;
    const pool = outPools.find((x) => x.name === p.name) ?? outPools[0];
    const header = typeof p.steering.header === "string" ? p.steering.header : DEFAULT_ROUTE_HEADER;
    for (const e of p.endpoints as { backend?: unknown; address?: unknown; metricsCluster?: unknown }[]) {
      if (typeof e?.backend !== "string") continue;
      if (typeof e.address !== "string") {
        throw new ManifestError("E_BAD_OPTION", `route-mode endpoint '${e.backend}' has no address; a standalone Envoy needs ip:port for each backend's cluster`);
      }
      backends.push({ name: e.backend, cluster: routeEndpointCluster(p, e), address: e.address, header, pool: pool.name });
    }
  }
  return { pools: outPools, backends };
}

/** Pools of one steering mode (default endpoint) from the config: cluster, header, endpoints and match of each. */
export function configEnvoyPools(config: Record<string, unknown> | undefined, mode: SteeringMode = "endpoint"): EnvoyPool[] {
  const out: EnvoyPool[] = [];
  for (const p of pools(config)) {
    if ((p?.steering?.mode === "route") !== (mode === "route")) continue;
    const name = typeof p?.name === "string" ? p.name : `pool-${out.length}`;
    const endpoints = (Array.isArray(p?.endpoints) ? (p.endpoints as { address?: unknown }[]) : [])
      .map((e) => (typeof e === "string" ? e : e?.address))
      .filter((a): a is string => typeof a === "string");
    const headers = Array.isArray(p?.match?.headers)
      ? (p.match.headers as { name?: unknown; value?: unknown }[])
          .filter((h) => typeof h?.name === "string")
          .map((h) => ({ name: h.name as string, ...(typeof h.value === "string" ? { value: h.value } : {}) }))
      : [];
    out.push({
      name,
      cluster: typeof p?.scrape?.cluster === "string" ? p.scrape.cluster : name,
      endpoints,
      header: typeof p?.steering?.header === "string" ? p.steering.header : undefined,
      // The schema's default is 3 (primary plus two fallbacks).
      maxEndpoints: mode === "endpoint" ? (typeof p?.steering?.maxEndpoints === "number" ? p.steering.maxEndpoints : 3) : undefined,
      match: {
        authority: typeof p?.match?.authority === "string" ? p.match.authority : undefined,
        pathPrefix: typeof p?.match?.pathPrefix === "string" ? p.match.pathPrefix : undefined,
        headers,
      },
    });
  }
  return out;
}

/** `ip:port` endpoints listed in the config's pools (strings, or objects with an `address`). */
export function configEndpoints(config: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  for (const p of pools(config)) {
    if (!Array.isArray(p?.endpoints)) continue;
    for (const e of p.endpoints as unknown[]) {
      if (typeof e === "string") out.push(e);
      else if (e && typeof (e as { address?: unknown }).address === "string") out.push((e as { address: string }).address);
    }
  }
  return out;
}

/** Validates the config (when there is one) and returns it. */
export function checkedConfig(config: Record<string, unknown> | undefined, schemasDir: string, source: string): Record<string, unknown> | undefined {
  if (config) assertValidPluginConfig(config, schemasDir, source);
  return config;
}

/** WasmPlugin + route objects for a stock ambient waypoint. */
export function routeModeDocuments(plugin: WasmPluginOptions, route: RouteModeOptions, schemasDir: string): Record<string, unknown>[] {
  const wasmPlugin = buildWasmPlugin(plugin);
  assertValidWasmPlugin(wasmPlugin, schemasDir);
  const routeDocs = buildRouteMode(route);
  // Namespace and Gateway first, then the plugin, then Services and routes.
  const infra = routeDocs.filter((d) => d.kind === "Namespace" || d.kind === "Gateway");
  const rest = routeDocs.filter((d) => d.kind !== "Namespace" && d.kind !== "Gateway");
  return [...infra, wasmPlugin, ...rest];
}

/** The Envoy bootstrap for endpoint mode. */
export function endpointModeDocuments(envoy: EnvoyConfigOptions): Record<string, unknown>[] {
  return [buildEnvoyConfig(envoy)];
}

/** Renders documents as YAML separated by `---`, after `headerLines` as comments. */
export function renderYaml(docs: Record<string, unknown>[], headerLines: string[] = []): string {
  const header = headerLines.map((l) => `# ${l}`.trimEnd()).join("\n");
  const body = docs.map((d) => new Document(d).toString({ lineWidth: 0 })).join("---\n");
  return (header ? header + "\n" : "") + body;
}
