/**
 * A standalone Envoy bootstrap for endpoint mode: the Wasm HTTP filter (V8, module from a local
 * file, plugin configuration as a google.protobuf.StringValue holding the JSON) ahead of the
 * router, and an upstream cluster whose load balancing policy is
 * `envoy.load_balancing_policies.override_host`, reading `x-gateway-destination-endpoint`
 * (an `ip:port[,ip:port…]` list; later entries serve retries) with a fallback policy for
 * requests the plugin did not steer.
 */
import { ManifestError } from "./errors.js";

/** The GIE destination header Envoy's override_host policy reads. */
export const DESTINATION_HEADER = "x-gateway-destination-endpoint";
export const FALLBACK_POLICIES = ["least_request", "round_robin", "random"] as const;
export type FallbackPolicy = (typeof FALLBACK_POLICIES)[number];

/** Options of {@link buildEnvoyConfig}. */
export interface EnvoyConfigOptions {
  pluginName: string;
  /** Path of the module inside the Envoy container. */
  wasmPath: string;
  pluginConfig: Record<string, unknown>;
  /** `ip:port` of every model server; override_host only picks hosts in this set. */
  endpoints: string[];
  listenPort: number;
  adminPort: number;
  clusterName: string;
  fallback: FallbackPolicy;
  failStrategy: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
  /** Header the plugin writes; the GIE one unless the config says otherwise. */
  destinationHeader?: string;
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

function typed(type: string, body: Record<string, unknown> = {}) {
  return { "@type": `type.googleapis.com/${type}`, ...body };
}

/** The Envoy bootstrap as a plain object. */
export function buildEnvoyConfig(o: EnvoyConfigOptions): Record<string, unknown> {
  if (o.endpoints.length === 0) throw new ManifestError("E_BAD_OPTION", "endpoint mode needs the model servers: --endpoints ip:port,ip:port");
  const endpoints = o.endpoints.map(parseEndpoint);
  const failure =
    o.failStrategy === "FAIL_RELOAD" ? { failure_policy: "FAIL_RELOAD" } : { fail_open: o.failStrategy === "FAIL_OPEN" };
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
                    route_config: {
                      name: "models",
                      virtual_hosts: [
                        {
                          name: "models",
                          domains: ["*"],
                          // Streaming completions can run for minutes: no route timeout.
                          routes: [{ match: { prefix: "/" }, route: { cluster: o.clusterName, timeout: "0s" } }],
                        },
                      ],
                    },
                    http_filters: [wasmFilter, { name: "envoy.filters.http.router", typed_config: typed("envoy.extensions.filters.http.router.v3.Router") }],
                  }),
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: o.clusterName,
          type: "STATIC",
          connect_timeout: "2s",
          load_assignment: {
            cluster_name: o.clusterName,
            endpoints: [{ lb_endpoints: endpoints.map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } })) }],
          },
          load_balancing_policy: {
            policies: [
              {
                typed_extension_config: {
                  name: "envoy.load_balancing_policies.override_host",
                  typed_config: typed("envoy.extensions.load_balancing_policies.override_host.v3.OverrideHost", {
                    override_host_sources: [{ header: o.destinationHeader ?? DESTINATION_HEADER }],
                    fallback_policy: {
                      policies: [
                        {
                          typed_extension_config: {
                            name: `envoy.load_balancing_policies.${o.fallback}`,
                            typed_config: typed(FALLBACK_TYPES[o.fallback]),
                          },
                        },
                      ],
                    },
                  }),
                },
              },
            ],
          },
        },
      ],
    },
  };
}
