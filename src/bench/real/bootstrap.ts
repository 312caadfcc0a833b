/**
 * Envoy bootstraps for the real-stack policies that run no wayroute plugin: Envoy's own
 * round-robin and least-request over the simulators, and Envoy + ext_proc to llm-d's Endpoint
 * Picker with an ORIGINAL_DST cluster that follows `x-gateway-destination-endpoint`, as in
 * llm-d-router's docs/discovery.md ("Running EPP with file discovery"). Everything binds 127.0.0.1.
 */

const HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const EXT_PROC = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor";
const HTTP_OPTIONS = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/** The route cluster every policy's listener sends to. */
export const BACKEND_CLUSTER = "backend";

/** Generous limits: the benchmark measures routing, not Envoy's default circuit breakers (1024). */
const CIRCUIT_BREAKERS = { thresholds: [{ max_connections: 100000, max_pending_requests: 100000, max_requests: 100000, max_retries: 100 }] };

function socket(address: string): { socket_address: { address: string; port_value: number } } {
  const i = address.lastIndexOf(":");
  return { socket_address: { address: address.slice(0, i), port_value: Number(address.slice(i + 1)) } };
}

/** A static cluster over `endpoints` (`ip:port`). */
export function staticCluster(name: string, endpoints: string[], lbPolicy: "ROUND_ROBIN" | "LEAST_REQUEST", http2 = false): Record<string, unknown> {
  return {
    name, type: "STATIC", connect_timeout: "5s", lb_policy: lbPolicy, circuit_breakers: CIRCUIT_BREAKERS,
    ...(http2 ? { typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": { "@type": HTTP_OPTIONS, explicit_http_config: { http2_protocol_options: {} } } } } : {}),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: endpoints.map((a) => ({ endpoint: { address: socket(a) } })) }] },
  };
}

/** The ORIGINAL_DST cluster of the EPP guide: the upstream is the address in the EPP's header. */
export function originalDstCluster(name: string, header = "x-gateway-destination-endpoint"): Record<string, unknown> {
  return {
    name, type: "ORIGINAL_DST", connect_timeout: "5s", lb_policy: "CLUSTER_PROVIDED", circuit_breakers: CIRCUIT_BREAKERS,
    original_dst_lb_config: { use_http_header: true, http_header_name: header },
  };
}

export interface ListenerOptions {
  /** `127.0.0.1:port` the listener binds. */
  listen: string;
  /** HTTP filters before the router. */
  filters?: unknown[];
  /** Route timeout, seconds (0 = none). */
  routeTimeoutS?: number;
}

/** A bootstrap with one HTTP listener routing everything to {@link BACKEND_CLUSTER}. */
export function bootstrap(listener: ListenerOptions, clusters: unknown[], adminAddress = "127.0.0.1:0"): Record<string, unknown> {
  return {
    admin: { address: socket(adminAddress) },
    static_resources: {
      listeners: [{
        name: "inference",
        address: socket(listener.listen),
        filter_chains: [{
          filters: [{
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": HCM,
              stat_prefix: "inference",
              route_config: {
                name: "inference",
                virtual_hosts: [{
                  name: "inference", domains: ["*"],
                  routes: [{ match: { prefix: "/" }, route: { cluster: BACKEND_CLUSTER, timeout: `${listener.routeTimeoutS ?? 600}s` } }],
                }],
              },
              http_filters: [...(listener.filters ?? []), { name: "envoy.filters.http.router", typed_config: { "@type": ROUTER } }],
            },
          }],
        }],
      }],
      clusters,
    },
  };
}

/** Envoy's own load balancer over the simulators, no filter. */
export function plainBootstrap(listen: string, endpoints: string[], lb: "ROUND_ROBIN" | "LEAST_REQUEST"): Record<string, unknown> {
  return bootstrap({ listen }, [staticCluster(BACKEND_CLUSTER, endpoints, lb)]);
}

/** Name of the cluster that reaches the EPP's ext_proc gRPC port. */
export const EPP_CLUSTER = "epp";

/**
 * Envoy + ext_proc + EPP, as the EPP's standalone guide configures it: headers and bodies sent
 * to the EPP in FULL_DUPLEX_STREAMED mode (so the EPP can read the prompt), an HTTP/2 cluster to
 * its gRPC port, and the ORIGINAL_DST backend cluster.
 */
export function eppBootstrap(listen: string, eppGrpc: string): Record<string, unknown> {
  const extProc = {
    name: "envoy.filters.http.ext_proc",
    typed_config: {
      "@type": EXT_PROC,
      grpc_service: { envoy_grpc: { cluster_name: EPP_CLUSTER, authority: eppGrpc }, timeout: "10s" },
      processing_mode: {
        request_header_mode: "SEND", response_header_mode: "SEND",
        request_body_mode: "FULL_DUPLEX_STREAMED", response_body_mode: "FULL_DUPLEX_STREAMED",
        request_trailer_mode: "SEND", response_trailer_mode: "SEND",
      },
      message_timeout: "600s",
    },
  };
  return bootstrap({ listen, filters: [extProc] }, [originalDstCluster(BACKEND_CLUSTER), staticCluster(EPP_CLUSTER, [eppGrpc], "LEAST_REQUEST", true)]);
}
