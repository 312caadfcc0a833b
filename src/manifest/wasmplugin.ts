/** Builds the Istio `WasmPlugin` (extensions.istio.io/v1alpha1) that attaches wayroute to a waypoint. */
import { assertDnsLabel, assertDnsSubdomain } from "./k8s-names.js";
import { ManifestError } from "./errors.js";
import { pluginHoldsHeaders } from "./envoy.js";

/** Where the module comes from, and the checksum Istio verifies. */
export interface PluginSource {
  /** `oci://host/repo[:tag]@sha256:…` or `https://…/plugin.wasm`. */
  url: string;
  /**
   * Hex sha256 Istio checks: for oci:// the IMAGE MANIFEST digest; for http(s):// the wasm file's.
   */
  sha256: string;
}

/** What the WasmPlugin attaches to. Waypoints ignore `selector`, so it is always targetRefs. */
export interface PluginTargets {
  /** Waypoint Gateway names (group gateway.networking.k8s.io, kind Gateway). */
  gateways: string[];
  /** Service names (group "", kind Service): scopes the plugin to traffic for those Services. */
  services: string[];
}

export const FAIL_STRATEGIES = ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"] as const;
export const PHASES = ["AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE"] as const;
export const PULL_POLICIES = ["IfNotPresent", "Always"] as const;

/** Options of {@link buildWasmPlugin}. */
export interface WasmPluginOptions {
  name: string;
  namespace: string;
  source: PluginSource;
  targets: PluginTargets;
  /** Becomes Envoy's root_id. */
  pluginName?: string;
  pluginConfig?: Record<string, unknown>;
  phase?: (typeof PHASES)[number];
  priority?: number;
  failStrategy?: (typeof FAIL_STRATEGIES)[number];
  imagePullPolicy?: (typeof PULL_POLICIES)[number];
  imagePullSecret?: string;
}

/** A WasmPlugin object, ready for YAML output and CRD validation. */
export function buildWasmPlugin(o: WasmPluginOptions): Record<string, unknown> {
  assertDnsSubdomain(o.name, "WasmPlugin name");
  assertDnsLabel(o.namespace, "namespace");
  for (const g of o.targets.gateways) assertDnsLabel(g, "waypoint name");
  for (const s of o.targets.services) assertDnsLabel(s, "Service name");
  if (o.imagePullSecret !== undefined) assertDnsSubdomain(o.imagePullSecret, "imagePullSecret");
  const targetRefs = [
    ...o.targets.gateways.map((name) => ({ group: "gateway.networking.k8s.io", kind: "Gateway", name })),
    ...o.targets.services.map((name) => ({ group: "", kind: "Service", name })),
  ];
  if (pluginHoldsHeaders(o.pluginConfig)) {
    throw new ManifestError(
      "E_BAD_CONFIG",
      "holdHeadersForBody: true needs Envoy's allow_on_headers_stop_iteration on the Wasm filter, which an Istio WasmPlugin cannot set (requests would hang); remove it, or use endpoint mode (--mode endpoint) with a standalone Envoy 1.35+",
    );
  }
  if (targetRefs.length === 0) {
    throw new ManifestError("E_BAD_OPTION", "the WasmPlugin needs a target: --waypoint <gateway> or --target-service <name> (waypoints ignore selector)");
  }
  const spec: Record<string, unknown> = { targetRefs, url: o.source.url, sha256: o.source.sha256 };
  if (o.imagePullPolicy) spec.imagePullPolicy = o.imagePullPolicy;
  if (o.imagePullSecret) spec.imagePullSecret = o.imagePullSecret;
  spec.pluginName = o.pluginName ?? o.name;
  if (o.phase) spec.phase = o.phase;
  if (o.priority !== undefined) spec.priority = o.priority;
  spec.failStrategy = o.failStrategy ?? "FAIL_CLOSE";
  spec.type = "HTTP";
  if (o.pluginConfig) spec.pluginConfig = o.pluginConfig;
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: { name: o.name, namespace: o.namespace },
    spec,
  };
}
