/**
 * A standalone Envoy bootstrap for endpoint mode: the Wasm HTTP filter (V8, module from a local
 * file, plugin configuration as a google.protobuf.StringValue holding the JSON) ahead of the
 * router, and an upstream cluster whose load balancing policy is
 * `envoy.load_balancing_policies.override_host`, reading `x-gateway-destination-endpoint`
 * (an `ip:port[,ip:port…]` list; later entries serve retries) with a fallback policy for
 * requests the plugin did not steer. When the plugin config sets `holdHeadersForBody`, the
 * filter's PluginConfig gets `allow_on_headers_stop_iteration: true` (Envoy 1.35+), which the
 * plugin then relies on to read the body before the request headers leave.
 */
import { ManifestError } from "./errors.js";

/** The GIE destination header Envoy's override_host policy reads. */
export const DESTINATION_HEADER = "x-gateway-destination-endpoint";
export const FALLBACK_POLICIES = ["least_request", "round_robin", "random"] as const;
export type FallbackPolicy = (typeof FALLBACK_POLICIES)[number];

/** One upstream pool: its cluster, the model servers in it, and which requests go there. */
export interface EnvoyPool {
  name: string;
  /** Cluster name; the plugin's scrape calls to `scrape.cluster` land on the same cluster. */
  cluster: string;
  /** `ip:port` of every model server; override_host only picks hosts in this set. */
  endpoints: string[];
  /** Header the plugin writes for this pool; the GIE one when absent. */
  header?: string;
  /** Which requests the route sends to this pool (the pool's `match`). Absent: all. */
  match?: { authority?: string; pathPrefix?: string; headers?: { name: string; value?: string }[] };
}

/** Options of {@link buildEnvoyConfig}. */
export interface EnvoyConfigOptions {
  pluginName: string;
  /** Path of the module inside the Envoy container. */
  wasmPath: string;
  pluginConfig: Record<string, unknown>;
  pools: EnvoyPool[];
  listenPort: number;
  adminPort: number;
  fallback: FallbackPolicy;
  failStrategy: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
}

const FALLBACK_TYPES: Record<FallbackPolicy, string> = {
  least_request: "envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest",
  round_robin: "envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin",
  random: "envoy.extensions.load_balancing_policies.random.v3.Random",
};

/** Parses `ip:port` (IPv6 in brackets), throwing E_BAD_OPTION naming the bad entry. */
export function parseEndpoint(text: string): { address: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new ManifestError("E_BAD_OPTION", `endpoint '${text}' is not ip:port (override_host matches endpoint IP addresses, not names)`);
  }
  return { address: m[1] ?? m[2], port };
}

/**
 * Whether the plugin config asks the host to keep request headers writable during the body
 * (`holdHeadersForBody: true`), which needs Envoy's `allow_on_headers_stop_iteration`.
 */
export function pluginHoldsHeaders(config: Record<string, unknown> | undefined): boolean {
  return config?.holdHeadersForBody === true;
}

function typed(type: string, body: Record<string, unknown> = {}) {
  return { "@type": `type.googleapis.com/${type}`, ...body };
}

function overrideHostCluster(pool: EnvoyPool, fallback: FallbackPolicy): Record<string, unknown> {
  if (pool.endpoints.length === 0) {
    throw new ManifestError("E_BAD_OPTION", `pool '${pool.name}' has no ip:port endpoints; give --endpoints ip:port,... or list addresses in the config`);
  }
  const endpoints = pool.endpoints.map(parseEndpoint);
  return {
    name: pool.cluster,
    type: "STATIC",
    connect_timeout: "2s",
    load_assignment: {
      cluster_name: pool.cluster,
      endpoints: [{ lb_endpoints: endpoints.map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } })) }],
    },
    load_balancing_policy: {
      policies: [
        {
          typed_extension_config: {
            name: "envoy.load_balancing_policies.override_host",
            typed_config: typed("envoy.extensions.load_balancing_policies.override_host.v3.OverrideHost", {
              override_host_sources: [{ header: pool.header ?? DESTINATION_HEADER }],
              fallback_policy: {
                policies: [{ typed_extension_config: { name: `envoy.load_balancing_policies.${fallback}`, typed_config: typed(FALLBACK_TYPES[fallback]) } }],
              },
            }),
          },
        },
      ],
    },
  };
}

/** Virtual hosts routing each pool's `match` to its cluster; pools without an authority share `*`. */
function virtualHosts(pools: EnvoyPool[]): Record<string, unknown>[] {
  const byHost = new Map<string, EnvoyPool[]>();
  for (const p of pools) {
    const host = p.match?.authority?.toLowerCase().split(":")[0] ?? "*";
    byHost.set(host, [...(byHost.get(host) ?? []), p]);
  }
  // Specific hosts first; Envoy picks exact domains before the wildcard anyway.
  const hosts = [...byHost.keys()].sort((a, b) => (a === "*" ? 1 : b === "*" ? -1 : a < b ? -1 : 1));
  return hosts.map((host) => ({
    name: host === "*" ? "default" : host,
    domains: host === "*" ? ["*"] : [host, `${host}:*`],
    routes: byHost.get(host)!.map((p) => {
      const match: Record<string, unknown> = { prefix: p.match?.pathPrefix || "/" };
      if (p.match?.headers?.length) {
        match.headers = p.match.headers.map((h) => (h.value === undefined ? { name: h.name, present_match: true } : { name: h.name, string_match: { exact: h.value } }));
      }
      // Streaming completions can run for minutes: no route timeout.
      return { match, route: { cluster: p.cluster, timeout: "0s" } };
    }),
  }));
}

/** The Envoy bootstrap as a plain object. */
export function buildEnvoyConfig(o: EnvoyConfigOptions): Record<string, unknown> {
  if (o.pools.length === 0) throw new ManifestError("E_BAD_OPTION", "endpoint mode needs the model servers: --endpoints ip:port,ip:port or pools in the config");
  const clusters = new Set<string>();
  for (const p of o.pools) {
    if (clusters.has(p.cluster)) throw new ManifestError("E_BAD_OPTION", `two pools use cluster '${p.cluster}'`);
    clusters.add(p.cluster);
  }
  const failure =
    o.failStrategy === "FAIL_RELOAD" ? { failure_policy: "FAIL_RELOAD" } : { fail_open: o.failStrategy === "FAIL_OPEN" };
  // The plugin's hold mode and this Envoy knob go together: without it a held request hangs.
  const holdHeaders = pluginHoldsHeaders(o.pluginConfig) ? { allow_on_headers_stop_iteration: true } : {};
  const wasmFilter = {
    name: "envoy.filters.http.wasm",
    typed_config: typed("envoy.extensions.filters.http.wasm.v3.Wasm", {
      config: {
        name: o.pluginName,
        root_id: o.pluginName,
        vm_config: {
          vm_id: o.pluginName,
          runtime: "envoy.wasm.runtime.v8",
          code: { local: { filename: o.wasmPath } },
        },
        configuration: typed("google.protobuf.StringValue", { value: JSON.stringify(o.pluginConfig) }),
        ...failure,
        ...holdHeaders,
      },
    }),
  };
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: o.adminPort } } },
    static_resources: {
      listeners: [
        {
          name: "wayroute",
          address: { socket_address: { address: "0.0.0.0", port_value: o.listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: typed("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
                    stat_prefix: "wayroute",
                    route_config: { name: "models", virtual_hosts: virtualHosts(o.pools) },
                    http_filters: [wasmFilter, { name: "envoy.filters.http.router", typed_config: typed("envoy.extensions.filters.http.router.v3.Router") }],
                  }),
                },
              ],
            },
          ],
        },
      ],
      clusters: o.pools.map((p) => overrideHostCluster(p, o.fallback)),
    },
  };
}
