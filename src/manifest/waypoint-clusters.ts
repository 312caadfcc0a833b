/**
 * The Envoy cluster names an Istio ambient waypoint really has, for the plugin's metric scrapes.
 * A waypoint builds one cluster per port of each Service it serves, named by pilot's
 * `BuildSubsetKey(TrafficDirectionInboundVIP, "http", hostname, port)` (istio/istio
 * pilot/pkg/networking/core/cluster_waypoint.go, buildWaypointInboundVIP), i.e.
 * `inbound-vip|PORT|http|HOSTNAME` for an HTTP port ("tcp" for a TCP one, both when the
 * protocol is unknown). It need not have any `outbound|PORT||HOSTNAME` cluster for those Services,
 * and a `proxy_http_call` to a cluster it lacks fails with BadArgument.
 */
import type { RouteBackend } from "./route-mode.js";

/** `inbound-vip|PORT|http|SERVICE.NAMESPACE.svc.DOMAIN`. */
export function waypointServiceCluster(service: string, namespace: string, port: number, domain = "cluster.local"): string {
  return `inbound-vip|${port}|http|${service}.${namespace}.svc.${domain}`;
}

const OUTBOUND = /^outbound\|(\d+)\|\|(.+)$/;

/** `outbound|PORT||HOST` → `inbound-vip|PORT|http|HOST`; other names unchanged. */
export function toWaypointCluster(name: string): string {
  const m = OUTBOUND.exec(name);
  return m ? `inbound-vip|${m[1]}|http|${m[2]}` : name;
}

interface RoutePool {
  steering?: { mode?: unknown };
  endpoints?: { backend?: unknown; metricsCluster?: unknown }[];
  scrape?: { clusterTemplate?: unknown; cluster?: unknown; enabled?: unknown };
}

/**
 * A copy of the plugin config whose route-mode scrapes name clusters the waypoint has: an endpoint
 * without `metricsCluster` (and no pool `clusterTemplate`) gets its backend Service's
 * `inbound-vip` cluster; `outbound|PORT||HOST` names (metricsCluster or clusterTemplate) become
 * `inbound-vip|PORT|http|HOST`. Returns the changed names as `old -> new` for a notice.
 */
export function withWaypointScrapeClusters(
  config: Record<string, unknown>,
  o: { namespace: string; port: number; backends: RouteBackend[] },
): { config: Record<string, unknown>; changed: string[] } {
  const copy = structuredClone(config) as { pools?: unknown };
  const changed: string[] = [];
  const pools = (Array.isArray(copy.pools) ? copy.pools : copy.pools && typeof copy.pools === "object" ? Object.values(copy.pools) : []) as RoutePool[];
  for (const pool of pools) {
    if (pool?.steering?.mode !== "route" || !Array.isArray(pool.endpoints)) continue;
    if (pool.scrape?.enabled === false) continue;
    const template = pool.scrape?.clusterTemplate;
    if (typeof template === "string" && toWaypointCluster(template) !== template) {
      changed.push(`${template} -> ${toWaypointCluster(template)}`);
      pool.scrape!.clusterTemplate = toWaypointCluster(template);
    }
    for (const e of pool.endpoints) {
      if (typeof e?.backend !== "string") continue;
      if (typeof e.metricsCluster === "string") {
        const next = toWaypointCluster(e.metricsCluster);
        if (next !== e.metricsCluster) {
          changed.push(`${e.metricsCluster} -> ${next}`);
          e.metricsCluster = next;
        }
      } else if (typeof template !== "string" && typeof pool.scrape?.cluster !== "string") {
        const service = o.backends.find((b) => b.name === e.backend)?.service ?? e.backend;
        e.metricsCluster = waypointServiceCluster(service, o.namespace, o.port);
      }
    }
  }
  return { config: copy as Record<string, unknown>, changed };
}
