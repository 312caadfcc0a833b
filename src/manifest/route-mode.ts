/**
 * Route mode on a stock Istio ambient waypoint: the plugin sets a header to a backend name and
 * clears the route cache; an HTTPRoute attached to the Service (GAMMA: parentRef kind Service)
 * sends each header value to its own Service. For a StatefulSet, one Service per replica selects
 * exactly one pod through the `statefulset.kubernetes.io/pod-name` label the controller sets.
 */
import { ManifestError } from "./errors.js";
import { assertDnsLabel, assertDnsSubdomain } from "./k8s-names.js";

/** Header the plugin sets in route mode unless the config names another. */
export const DEFAULT_ROUTE_HEADER = "x-wayroute-backend";
const PART_OF = { "app.kubernetes.io/part-of": "wayroute" };

/** One header value → Service mapping. */
export interface RouteBackend {
  /** Value of the steering header. */
  name: string;
  /** Service that receives requests carrying it. */
  service: string;
  /** Header carrying the name, when this backend's pool names its own (else the route-wide one). */
  header?: string;
}

/** Options of {@link buildRouteMode}. */
export interface RouteModeOptions {
  namespace: string;
  /** The Service clients call (the HTTPRoute's parent) and the fallback backend. */
  service: string;
  port: number;
  header: string;
  backends: RouteBackend[];
  /** Generate the parent Service too, selecting these pod labels. */
  serviceSelector?: Record<string, string>;
  /** Generate one Service per replica of this StatefulSet. */
  statefulSet?: { name: string; replicas: number; targetPort: number };
  /** Generate the waypoint Gateway and label the namespace to use it. */
  waypoint?: string;
  includeNamespace?: boolean;
  includeGateway?: boolean;
}

/** Per-replica backends `<sts>-0 … <sts>-(n-1)`, each its own Service. */
export function replicaBackends(statefulSet: string, replicas: number): RouteBackend[] {
  return Array.from({ length: replicas }, (_, i) => ({ name: `${statefulSet}-${i}`, service: `${statefulSet}-${i}` }));
}

/** Parses `--route-backends name=service,name2=service2`. */
export function parseRouteBackends(text: string): RouteBackend[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq <= 0 || eq === pair.length - 1) {
        throw new ManifestError("E_BAD_OPTION", `--route-backends entry '${pair}' is not name=service`);
      }
      return { name: pair.slice(0, eq), service: pair.slice(eq + 1) };
    });
}

function service(name: string, namespace: string, selector: Record<string, string>, port: number, targetPort: number, labels: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels },
    spec: { selector, ports: [{ name: "http", port, targetPort, protocol: "TCP", appProtocol: "http" }] },
  };
}

/** Gateway API allows at most 16 rules per HTTPRoute. */
const MAX_RULES = 16;
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** The documents route mode needs, in apply order. */
export function buildRouteMode(o: RouteModeOptions): Record<string, unknown>[] {
  assertDnsLabel(o.namespace, "namespace");
  assertDnsLabel(o.service, "Service name");
  if (!HEADER_NAME.test(o.header)) throw new ManifestError("E_BAD_OPTION", `route header '${o.header}' is not a valid HTTP header name`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new ManifestError("E_BAD_OPTION", `port ${o.port} is not 1-65535`);
  if (o.backends.length === 0) {
    throw new ManifestError("E_BAD_OPTION", "route mode needs backends: --statefulset <name> --replicas <n>, or --route-backends name=service,...");
  }
  const seen = new Set<string>();
  for (const b of o.backends) {
    if (!HEADER_VALUE.test(b.name)) throw new ManifestError("E_BAD_OPTION", `backend name '${b.name}' is not a valid header value`);
    if (b.header && !HEADER_NAME.test(b.header)) throw new ManifestError("E_BAD_OPTION", `route header '${b.header}' is not a valid HTTP header name`);
    const key = `${b.header ?? o.header}\n${b.name}`;
    if (seen.has(key)) throw new ManifestError("E_BAD_OPTION", `backend name '${b.name}' appears twice`);
    seen.add(key);
    assertDnsLabel(b.service, `backend Service name`);
  }
  const docs: Record<string, unknown>[] = [];
  if (o.waypoint) assertDnsLabel(o.waypoint, "waypoint name");
  if (o.includeNamespace && o.waypoint) {
    docs.push({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: o.namespace, labels: { "istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": o.waypoint } },
    });
  }
  if (o.includeGateway && o.waypoint) {
    docs.push({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: o.waypoint, namespace: o.namespace, labels: { "istio.io/waypoint-for": "service" } },
      spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
    });
  }
  const targetPort = o.statefulSet?.targetPort ?? o.port;
  if (o.serviceSelector) docs.push(service(o.service, o.namespace, o.serviceSelector, o.port, targetPort, { ...PART_OF }));
  if (o.statefulSet) {
    assertDnsLabel(o.statefulSet.name, "StatefulSet name");
    for (let i = 0; i < o.statefulSet.replicas; i++) {
      const pod = `${o.statefulSet.name}-${i}`;
      assertDnsLabel(pod, "per-replica Service name");
      docs.push(service(pod, o.namespace, { "statefulset.kubernetes.io/pod-name": pod }, o.port, targetPort, { ...PART_OF, "wayroute.dev/replica-of": o.statefulSet.name }));
    }
  }
  const headerRules = o.backends.map((b) => ({
    matches: [{ headers: [{ type: "Exact", name: b.header ?? o.header, value: b.name }] }],
    backendRefs: [{ name: b.service, port: o.port }],
  }));
  // Requests without the header (the plugin failed open, or steering is off) go to the parent Service.
  const fallback = { backendRefs: [{ name: o.service, port: o.port }] };
  const chunks: Record<string, unknown>[][] = [];
  const rules: Record<string, unknown>[] = [...headerRules, fallback];
  for (let i = 0; i < rules.length; i += MAX_RULES) chunks.push(rules.slice(i, i + MAX_RULES));
  chunks.forEach((chunk, i) => {
    const name = chunks.length === 1 ? `${o.service}-wayroute` : `${o.service}-wayroute-${i}`;
    assertDnsSubdomain(name, "HTTPRoute name");
    docs.push({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name, namespace: o.namespace, labels: { ...PART_OF } },
      spec: { parentRefs: [{ group: "", kind: "Service", name: o.service, port: o.port }], rules: chunk },
    });
  });
  return docs;
}
