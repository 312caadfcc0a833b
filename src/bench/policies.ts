/**
 * Routing policies the macro benchmark compares, as data. `round-robin` and `random` are the
 * proxy's own load balancer with no plugin; the others run the wayroute plugin with a config.
 * A config is built per run because it must name the simulators' addresses.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Facts about the simulated pool a policy config needs. */
export interface PoolFacts {
  /** `ip:port` of every simulator. */
  endpoints: string[];
  /** Cluster name for metric scrapes (the serve cluster map points it at each simulator). */
  metricsCluster: string;
  /** Base model name. */
  model: string;
}

export interface Policy {
  name: string;
  description: string;
  /** The proxy's own load balancer (used when the plugin does not steer). */
  lb: "round-robin" | "random";
  /** Plugin to run, relative to the repository root; none for proxy-only policies. */
  wasm?: string;
  /** Builds the plugin config for a pool. */
  config?: (pool: PoolFacts, repoRoot: string) => unknown;
}

/** Reads an example config and points its first pool at the simulators. */
function fromExample(file: string, overrides: Record<string, unknown> = {}) {
  return (pool: PoolFacts, repoRoot: string): unknown => {
    const path = join(repoRoot, file);
    if (!existsSync(path)) throw new Error(`${file} is missing: the pools config example has not landed`);
    const cfg = JSON.parse(readFileSync(path, "utf8")) as { pools?: Array<Record<string, unknown>> };
    return withEndpoints(cfg, pool, overrides);
  };
}

/** Replaces the endpoints of the config's first pool with the simulators. */
export function withEndpoints(cfg: { pools?: Array<Record<string, unknown>> }, pool: PoolFacts, overrides: Record<string, unknown> = {}): unknown {
  const pools = Array.isArray(cfg.pools) ? cfg.pools : [];
  const first = { ...(pools[0] ?? {}), ...overrides, endpoints: pool.endpoints.map((address) => ({ address })) };
  return { ...cfg, pools: [first, ...pools.slice(1)] };
}

export const POLICIES: Policy[] = [
  { name: "round-robin", description: "the proxy's own round-robin, no plugin", lb: "round-robin" },
  { name: "random", description: "the proxy's own random pick, no plugin", lb: "random" },
  {
    name: "least-request", description: "wayroute plugin, fewest in-flight requests", lb: "round-robin",
    wasm: "build/plugin.wasm", config: fromExample("examples/configs/least-request.json"),
  },
  {
    name: "gie-default", description: "wayroute plugin, GIE v1.5 default profile (queue 2, kv 2, prefix 3)", lb: "round-robin",
    wasm: "build/plugin.wasm", config: fromExample("examples/configs/gie-default.json"),
  },
  {
    name: "wayroute", description: "wayroute plugin, tuned profile", lb: "round-robin",
    wasm: "build/plugin.wasm", config: fromExample("examples/configs/wayroute-tuned.json"),
  },
];

export function findPolicy(name: string): Policy | undefined {
  return POLICIES.find((p) => p.name === name);
}
