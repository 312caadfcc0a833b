/**
 * A standalone Envoy bootstrap: the Wasm HTTP filter (V8, one VM per worker, module from a local
 * file, plugin configuration as a google.protobuf.StringValue holding the JSON) ahead of the
 * router, admin on loopback, and the upstream clusters of the steering mode:
 * - endpoint mode, `override_host` (default): one cluster per pool whose load balancing policy is
 *   `envoy.load_balancing_policies.override_host`, reading `x-gateway-destination-endpoint`
 *   (an `ip:port[,ip:port…]` list; later entries serve retries) with a fallback policy for
 *   requests the plugin did not steer;
 * - endpoint mode, `original_dst`: an `ORIGINAL_DST` cluster with `use_http_header` on the same
 *   header (one address only: no fallbacks, and no host at all without the header);
 * - route mode: one STATIC cluster per endpoint (named like the plugin's scrape cluster for it) and
 *   routes matching the steering header's value, ahead of the pool's own round-robin route.
 * When the plugin config sets `holdHeadersForBody`, the filter's PluginConfig gets
 * `allow_on_headers_stop_iteration: true` (Envoy 1.35+), which the plugin then relies on to read
 * the body before the request headers leave; asking for hold mode without it is refused.
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
  /** The plugin's `steering.maxEndpoints` (addresses it writes to the header), when known. */
  maxEndpoints?: number;
  /** Which requests the route sends to this pool (the pool's `match`). Absent: all. */
  match?: { authority?: string; pathPrefix?: string; headers?: { name: string; value?: string }[] };
}

/** Route mode: one header value → one cluster holding exactly one endpoint. */
export interface EnvoyRouteBackend {
  /** Value of the steering header (the endpoint's `backend`). */
  name: string;
  /** Its cluster (the endpoint's `metricsCluster`, so the plugin's scrapes land there too). */
  cluster: string;
  /** `ip:port` of the model server. */
  address: string;
  /** The steering header. */
  header: string;
  /** Name of the pool it belongs to (routes sit in that pool's virtual host). */
  pool: string;
}

/** How endpoint mode's clusters honour the destination header. */
export const ENDPOINT_CLUSTERS = ["override_host", "original_dst"] as const;
export type EndpointCluster = (typeof ENDPOINT_CLUSTERS)[number];

/** Options of {@link buildEnvoyConfig}. */
export interface EnvoyConfigOptions {
  /** Steering mode (default endpoint). */
  mode?: "endpoint" | "route";
  /** `false`: no Wasm filter at all (Envoy's own load balancing, for comparisons). */
  plugin?: boolean;
  /** Route mode: the per-endpoint backends; at least one is required. */
  routeBackends?: EnvoyRouteBackend[];
  /** Endpoint mode: override_host (default) or ORIGINAL_DST + use_http_header. */
  endpointCluster?: EndpointCluster;
  /** Listener bind address (default 0.0.0.0; tests and `wayroute envoy` use 127.0.0.1). */
  listenAddress?: string;
  /**
   * Envoy's `allow_on_headers_stop_iteration`. Default: set exactly when the plugin holds headers
   * for the body. `false` with a holding plugin is refused (the request would hang).
   */
  allowOnHeadersStopIteration?: boolean;
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

function staticCluster(name: string, endpoints: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    type: "STATIC",
    connect_timeout: "2s",
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: endpoints.map(parseEndpoint).map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } })) }],
    },
    ...extra,
  };
}

/** ORIGINAL_DST reading the destination header: Envoy connects to whatever address it names. */
function originalDstCluster(pool: EnvoyPool): Record<string, unknown> {
  // Observed in Envoy 1.40: a header holding `a,b` is not an address; the request then gets no
  // host (503 "no healthy upstream"), so the plugin must write exactly one address.
  if (pool.maxEndpoints !== undefined && pool.maxEndpoints > 1) {
    throw new ManifestError("E_BAD_OPTION", `pool '${pool.name}': an ORIGINAL_DST cluster reads one address from the header; set steering.maxEndpoints to 1 (it is ${pool.maxEndpoints}), or use override_host for fallbacks`);
  }
  return {
    name: pool.cluster,
    type: "ORIGINAL_DST",
    lb_policy: "CLUSTER_PROVIDED",
    connect_timeout: "2s",
    original_dst_lb_config: { use_http_header: true, http_header_name: pool.header ?? DESTINATION_HEADER },
    ...poolBreakers(pool),
  };
}

/** Envoy's default per-cluster limit of connections (all threads) and of requests. */
const ENVOY_DEFAULT_LIMIT = 1024;

/**
 * Circuit breakers of an endpoint-mode pool's cluster, which the plugin's scrapes go through
 * too (`scrape.cluster`). The thread holding the scrape lease keeps a connection to every
 * endpoint (each is scraped once per effective interval): with Envoy's default 1,024
 * connections per cluster, a pool of 1,024 endpoints takes all of them and the workers'
 * requests count `upstream_cx_overflow` (observed in Envoy 1.40). So the limit is the default
 * plus one connection per endpoint. Fallback addresses are tried as retries, and Envoy allows
 * only 3 concurrent retries per cluster by default: past that a dead primary's requests get 503
 * (upstream_rq_retry_overflow) instead of their fallback, as observed in Envoy 1.40 under 4
 * parallel requests. These retries only follow connect failures, so they are bounded by the
 * requests themselves: allow as many as Envoy's default request limit.
 */
function poolBreakers(pool: EnvoyPool): Record<string, unknown> {
  const t: Record<string, unknown> = { priority: "DEFAULT" };
  if (pool.endpoints.length > 0) t.max_connections = ENVOY_DEFAULT_LIMIT + pool.endpoints.length;
  if ((pool.maxEndpoints ?? 1) > 1) t.max_retries = ENVOY_DEFAULT_LIMIT;
  return Object.keys(t).length > 1 ? { circuit_breakers: { thresholds: [t] } } : {};
}

function overrideHostCluster(pool: EnvoyPool, fallback: FallbackPolicy): Record<string, unknown> {
  if (pool.endpoints.length === 0) {
    throw new ManifestError("E_BAD_OPTION", `pool '${pool.name}' has no ip:port endpoints; give --endpoints ip:port,... or list addresses in the config`);
  }
  return staticCluster(pool.cluster, pool.endpoints, {
    ...poolBreakers(pool),
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
  });
}

/** Virtual hosts routing each pool's `match` to its cluster; pools without an authority share `*`. */
function virtualHosts(pools: EnvoyPool[], backends: EnvoyRouteBackend[] = [], fallbacks = false): Record<string, unknown>[] {
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
    routes: byHost.get(host)!.flatMap((p) => {
      const poolHeaders = p.match?.headers?.length
        ? p.match.headers.map((h) => (h.value === undefined ? { name: h.name, present_match: true } : { name: h.name, string_match: { exact: h.value } }))
        : [];
      const route = (cluster: string, extra: Record<string, unknown>[] = []) => {
        const headers = [...poolHeaders, ...extra];
        const match: Record<string, unknown> = { prefix: p.match?.pathPrefix || "/", ...(headers.length ? { headers } : {}) };
        // override_host tries the header's next address on a retry: one retry per fallback, only
        // for failures before the request reached a server (a model call is not idempotent).
        const retries = fallbacks && (p.maxEndpoints ?? 1) > 1 ? { retry_policy: { retry_on: "connect-failure,refused-stream", num_retries: p.maxEndpoints! - 1 } } : {};
        // Streaming completions can run for minutes: no route timeout.
        return { match, route: { cluster, timeout: "0s", ...retries } };
      };
      // Route mode: the plugin's header picks the endpoint's cluster (after clear_route_cache);
      // without the header (FailOpen, steering off) the pool's own cluster balances.
      const steered = backends.filter((b) => b.pool === p.name).map((b) => route(b.cluster, [{ name: b.header, string_match: { exact: b.name } }]));
      return [...steered, route(p.cluster)];
    }),
  }));
}

/** The Envoy bootstrap as a plain object. */
export function buildEnvoyConfig(o: EnvoyConfigOptions): Record<string, unknown> {
  const mode = o.mode ?? "endpoint";
  const backends = mode === "route" ? (o.routeBackends ?? []) : [];
  if (o.pools.length === 0) {
    throw new ManifestError("E_BAD_OPTION", mode === "route" ? "route mode needs a route-mode pool in the config" : "endpoint mode needs the model servers: --endpoints ip:port,ip:port or pools in the config");
  }
  if (mode === "route" && backends.length === 0) {
    throw new ManifestError("E_BAD_OPTION", "route mode with no routes: give each route-mode endpoint a backend name and an ip:port address");
  }
  const clusters = new Set<string>();
  for (const name of [...o.pools.map((p) => p.cluster), ...backends.map((b) => b.cluster)]) {
    if (clusters.has(name)) throw new ManifestError("E_BAD_OPTION", `two pools or backends use cluster '${name}'`);
    clusters.add(name);
  }
  const seen = new Set<string>();
  for (const b of backends) {
    const key = `${b.pool}\n${b.header}\n${b.name}`;
    if (seen.has(key)) throw new ManifestError("E_BAD_OPTION", `backend name '${b.name}' appears twice in pool '${b.pool}'`);
    seen.add(key);
    if (!o.pools.some((p) => p.name === b.pool)) throw new ManifestError("E_BAD_OPTION", `backend '${b.name}' names pool '${b.pool}', which has no route`);
  }
  const failure =
    o.failStrategy === "FAIL_RELOAD" ? { failure_policy: "FAIL_RELOAD" } : { fail_open: o.failStrategy === "FAIL_OPEN" };
  // The plugin's hold mode and this Envoy knob go together: without it a held request hangs.
  const holds = pluginHoldsHeaders(o.pluginConfig);
  if (holds && o.allowOnHeadersStopIteration === false) {
    throw new ManifestError("E_BAD_OPTION", "holdHeadersForBody needs Envoy's allow_on_headers_stop_iteration: true (Envoy 1.35+); without it every body-routed request hangs");
  }
  const holdHeaders = holds || o.allowOnHeadersStopIteration === true ? { allow_on_headers_stop_iteration: true } : {};
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
    // Admin exposes /quitquitquit and config dumps: loopback only.
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: o.adminPort } } },
    static_resources: {
      listeners: [
        {
          name: "wayroute",
          address: { socket_address: { address: o.listenAddress ?? "0.0.0.0", port_value: o.listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: typed("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
                    stat_prefix: "wayroute",
                    route_config: { name: "models", virtual_hosts: virtualHosts(o.pools, backends, mode === "endpoint" && o.endpointCluster !== "original_dst") },
                    http_filters: [...(o.plugin === false ? [] : [wasmFilter]), { name: "envoy.filters.http.router", typed_config: typed("envoy.extensions.filters.http.router.v3.Router") }],
                  }),
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        ...o.pools.map((p) =>
          mode === "route"
            ? staticCluster(p.cluster, p.endpoints, { lb_policy: "ROUND_ROBIN" })
            : o.endpointCluster === "original_dst"
              ? originalDstCluster(p)
              : overrideHostCluster(p, o.fallback),
        ),
        ...backends.map((b) => staticCluster(b.cluster, [b.address])),
      ],
    },
  };
}
