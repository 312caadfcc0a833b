/**
 * `wayroute serve --with-sim N`: a plugin config written for a real cluster names endpoints the
 * local simulators are not. Left alone, the plugin would steer real traffic to those addresses, so
 * serve maps each endpoint-mode pool onto the simulators and says so, line by line.
 */

/** The simulators' metrics cluster, as `serve --with-sim` registers it. */
export const SIM_CLUSTER = "sim-pool";

/** A plugin config with its pools pointed at the simulators, and one line per change or gap. */
export interface SimMapping {
  config: unknown;
  notices: string[];
}

interface PoolLike {
  name?: unknown;
  endpoints?: unknown;
  steering?: { mode?: unknown };
  scrape?: { cluster?: unknown };
}

/**
 * Points every endpoint-mode pool of `config` at `sims` (endpoint i takes simulator i's address and
 * keeps its other fields; extra simulators are added, extra endpoints dropped) and its scrape
 * cluster at {@link SIM_CLUSTER}. Route-mode pools name backends, not addresses: they are left as
 * they are, with a notice saying how to reach the simulators. Anything but an object with a
 * `pools` array comes back unchanged with no notice.
 */
export function mapPoolsOntoSims(config: unknown, sims: readonly string[]): SimMapping {
  if (!config || typeof config !== "object" || Array.isArray(config)) return { config, notices: [] };
  const pools = (config as { pools?: unknown }).pools;
  if (!Array.isArray(pools) || sims.length === 0) return { config, notices: [] };
  const notices: string[] = [];
  const mapped = pools.map((raw: unknown, i) => {
    if (!raw || typeof raw !== "object") return raw;
    const pool = raw as PoolLike;
    const name = typeof pool.name === "string" ? pool.name : `#${i}`;
    const endpoints = Array.isArray(pool.endpoints) ? (pool.endpoints as unknown[]) : [];
    if (pool.steering?.mode === "route") {
      notices.push(`pool ${name} is in route mode (its endpoints name backends): not mapped; reach the simulators with --route-header and --backend <name>=<ip:port>`);
      return raw;
    }
    const before = endpoints.map((e) => (e && typeof e === "object" ? String((e as { address?: unknown }).address) : "?"));
    const after = sims.map((address, j) => {
      const old = endpoints[j];
      return { ...(old && typeof old === "object" ? (old as object) : {}), address };
    });
    notices.push(`pool ${name}: endpoints ${before.join(", ") || "(none)"} -> simulators ${sims.join(", ")}`);
    const out: Record<string, unknown> = { ...(raw as object), endpoints: after };
    if (pool.scrape && typeof pool.scrape === "object" && pool.scrape.cluster !== SIM_CLUSTER) {
      notices.push(`pool ${name}: metrics cluster ${String(pool.scrape.cluster)} -> ${SIM_CLUSTER} (the simulators)`);
      out.scrape = { ...pool.scrape, cluster: SIM_CLUSTER };
    }
    return out;
  });
  return { config: { ...(config as object), pools: mapped }, notices };
}
