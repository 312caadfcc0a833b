/**
 * Envoy's default attributes (source/extensions/filters/common/expr/context.cc and the Wasm
 * `findValue` tokens): plugin_name, plugin_root_id, plugin_vm_id, node, and for HTTP streams
 * request.*, response.*, source.*, destination.*, connection.*, upstream.*, xds.*,
 * cluster_name, route_name. Values are functions so they reflect the stream at lookup time.
 */
import type { HeaderMap } from "./headers.js";
import { addressTree, headersTree, prop, type PropertyTree } from "./properties.js";

/** The plugin options the default attributes show. */
export interface PropertyOptions {
  readonly pluginName: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly clusterName: string;
  readonly routeName: string;
}

/** What the default attributes read of an HTTP stream (the harness's HttpStream is one). */
export interface PropertyStream {
  readonly startMs: number;
  readonly endMs?: number;
  readonly connectionId: number;
  readonly sourceAddress: string;
  readonly destinationAddress: string;
  readonly upstreamAddress: string;
  readonly upstreamCalled: boolean;
  readonly requestComplete: boolean;
  readonly localReply?: { readonly details?: string };
  readonly forwardedRequest?: { readonly headers: HeaderMap };
  requestHeadersForProperties(): HeaderMap | null;
  responseHeadersForProperties(): HeaderMap | null;
  responseTrailersForProperties(): HeaderMap | null;
  responseCode(): number | undefined;
  requestBodySize(): number;
  responseBodySize(): number;
}

/** `request.*` of a stream: functions, so they reflect the stream at lookup time. */
function requestTree(stream: PropertyStream): PropertyTree {
  const reqHeaders = () => stream.requestHeadersForProperties();
  const header = (k: string) => () => reqHeaders()?.get(k);
  const path = header(":path");
  return {
    path,
    url_path: () => path()?.split("?")[0],
    query: () => {
      const p = path();
      if (p === undefined) return undefined;
      const i = p.indexOf("?");
      return i >= 0 ? p.slice(i + 1) : "";
    },
    host: header(":authority"),
    scheme: header(":scheme"),
    method: header(":method"),
    headers: () => headersTree(reqHeaders()),
    referer: header("referer"),
    useragent: header("user-agent"),
    id: header("x-request-id"),
    protocol: "HTTP/1.1",
    time: () => prop.timestampNs(BigInt(Math.round(stream.startMs * 1e6))),
    duration: () => (stream.endMs === undefined ? undefined : prop.durationNs(BigInt(Math.round((stream.endMs - stream.startMs) * 1e6)))),
    size: () => {
      const cl = reqHeaders()?.get("content-length");
      if (cl !== undefined && /^\d+$/.test(cl)) return Number(cl);
      return stream.requestComplete ? stream.requestBodySize() : undefined;
    },
    total_size: () => (stream.requestComplete ? stream.requestBodySize() + (stream.forwardedRequest?.headers.byteSize() ?? 0) : undefined),
  };
}

export function defaultProperties(vm: { readonly core: { readonly options: PropertyOptions } }, stream: PropertyStream | undefined): PropertyTree {
  const o = vm.core.options;
  const tree: PropertyTree = {
    plugin_name: o.pluginName,
    plugin_root_id: o.rootId,
    plugin_vm_id: o.vmId,
    node: { id: "wayroute-harness", cluster: "wayroute-harness", metadata: {} },
    listener_direction: 0,
  };
  if (!stream) return tree;
  // request.* is built on first use: most lookups never touch it, and its ~15 functions were
  // most of the cost of a stream's first property lookup. A getter keeps `request` an own,
  // enumerable key, so merging, lookups and encoding see the same tree as before.
  let request: PropertyTree | undefined;
  Object.defineProperty(tree, "request", { enumerable: true, configurable: true, get: () => (request ??= requestTree(stream)) });
  tree["response"] = () => {
    const code = stream.responseCode();
    if (code === undefined) return undefined;
    const h = stream.responseHeadersForProperties();
    const trailers = stream.responseTrailersForProperties();
    const r: PropertyTree = {
      code,
      code_details: stream.localReply?.details || (stream.upstreamCalled ? "via_upstream" : ""),
      flags: 0,
      headers: headersTree(h),
      trailers: headersTree(trailers),
      size: stream.responseBodySize(),
      total_size: stream.responseBodySize() + (h?.byteSize() ?? 0),
    };
    const grpc = h?.get("grpc-status") ?? trailers?.get("grpc-status");
    if (grpc !== undefined) r["grpc_status"] = Number(grpc);
    return r;
  };
  tree["source"] = addressTree(stream.sourceAddress);
  tree["destination"] = addressTree(stream.destinationAddress);
  tree["connection"] = {
    id: prop.uint(stream.connectionId),
    mtls: false,
    requested_server_name: "",
  };
  tree["connection_id"] = prop.uint(stream.connectionId);
  tree["upstream"] = () => (stream.upstreamCalled ? addressTree(stream.upstreamAddress) : undefined);
  tree["xds"] = {
    cluster_name: o.clusterName,
    route_name: o.routeName,
    node: tree["node"],
    listener_direction: 0,
  };
  tree["cluster_name"] = o.clusterName;
  tree["route_name"] = o.routeName;
  return tree;
}
