/**
 * The bootstrap `wayroute envoy`, the demo and the tests run: the manifest generator's standalone
 * Envoy config (route or endpoint mode, taken from the plugin config) bound to loopback, with
 * free ports by default, the module read from a local file.
 */
import { resolve } from "node:path";
import { buildEnvoyConfig, type EndpointCluster, type FallbackPolicy } from "../manifest/envoy.js";
import { configEnvoyPools, configRouteEnvoy, configSteeringMode, type SteeringMode } from "../manifest/generate.js";

/** Options of {@link standaloneBootstrap}. */
export interface StandaloneOptions {
  /** The plugin config (already validated by the caller when it came from a user). */
  pluginConfig: Record<string, unknown>;
  /** The module on this machine (made absolute). */
  wasmPath: string;
  /** Steering mode; default from the config (`pools[*].steering.mode`), else endpoint. */
  mode?: SteeringMode;
  /** Endpoint mode's cluster kind (default override_host). */
  endpointCluster?: EndpointCluster;
  /** Envoy root_id and vm_id (default `wayroute`). */
  pluginName?: string;
  /** Wasm filter failure handling (default FAIL_CLOSE: `fail_open: false`). */
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
  /** override_host's fallback for unsteered requests (default least_request). */
  fallback?: FallbackPolicy;
  /** Listener address (default 127.0.0.1) and port (default 0: any free port). */
  listenAddress?: string;
  listenPort?: number;
  /** Admin port on 127.0.0.1 (default 0). */
  adminPort?: number;
  /** See EnvoyConfigOptions.allowOnHeadersStopIteration. */
  allowOnHeadersStopIteration?: boolean;
  /**
   * Upstream `ip:port`s for a config without pools (header and body rules only): one cluster,
   * `upstream`, takes every request.
   */
  upstreams?: string[];
  /** Leave the Wasm filter out (Envoy's own balancing over `upstreams`, for comparisons). */
  withoutPlugin?: boolean;
}

/** Builds the bootstrap; throws ManifestError (`E_BAD_OPTION`) for impossible combinations. */
export function standaloneBootstrap(o: StandaloneOptions): Record<string, unknown> {
  const mode = o.mode ?? configSteeringMode(o.pluginConfig) ?? "endpoint";
  const route = mode === "route" ? configRouteEnvoy(o.pluginConfig) : undefined;
  let pools = route ? route.pools : configEnvoyPools(o.pluginConfig);
  if (!route && pools.length === 0 && o.upstreams?.length) pools = [{ name: "upstream", cluster: "upstream", endpoints: o.upstreams }];
  return buildEnvoyConfig({
    mode,
    plugin: !o.withoutPlugin,
    pools,
    routeBackends: route?.backends,
    endpointCluster: o.endpointCluster,
    pluginName: o.pluginName ?? "wayroute",
    wasmPath: resolve(o.wasmPath),
    pluginConfig: o.pluginConfig,
    listenAddress: o.listenAddress ?? "127.0.0.1",
    listenPort: o.listenPort ?? 0,
    adminPort: o.adminPort ?? 0,
    fallback: o.fallback ?? "least_request",
    failStrategy: o.failStrategy ?? "FAIL_CLOSE",
    allowOnHeadersStopIteration: o.allowOnHeadersStopIteration,
  });
}

/**
 * A copy of `config` whose pools point at `addresses` (e.g. `wayroute sim` servers): endpoint i
 * keeps the other fields of the config's endpoint i (zone, …) and gets address i; route-mode
 * endpoints keep their backend name (else `sim-i`) and metricsCluster (else the backend name).
 */
export function pointConfigAt(config: Record<string, unknown>, addresses: string[]): Record<string, unknown> {
  const copy = structuredClone(config) as { pools?: unknown };
  const list = Array.isArray(copy.pools) ? copy.pools : copy.pools && typeof copy.pools === "object" ? Object.values(copy.pools) : [];
  for (const pool of list as { steering?: { mode?: string }; endpoints?: Record<string, unknown>[] }[]) {
    const old = Array.isArray(pool.endpoints) ? pool.endpoints : [];
    const route = pool.steering?.mode === "route";
    pool.endpoints = addresses.map((address, i) => {
      const base = old[i] && typeof old[i] === "object" ? { ...old[i] } : {};
      if (!route) return { ...base, address };
      const backend = typeof base.backend === "string" ? base.backend : `sim-${i}`;
      return { ...base, backend, address, metricsCluster: typeof base.metricsCluster === "string" ? base.metricsCluster : backend };
    });
  }
  return copy as Record<string, unknown>;
}
