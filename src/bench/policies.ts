/**
 * Routing policies the macro benchmark compares, as data. `round-robin` and `random` are the
 * proxy's own load balancer with no plugin; the others run the wayroute plugin with a config.
 * A config is built per run because it must name the simulators' addresses.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SESSION_HEADER } from "../load/workload.js";

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

/** Fields every plugin policy shares: the simulated pool, its scrape cluster, sheddable objective. */
function poolBase(pool: PoolFacts): Record<string, unknown> {
  return {
    name: "sim-pool",
    match: { pathPrefix: "/v1/" },
    endpoints: pool.endpoints.map((address) => ({ address })),
    steering: { mode: "endpoint", maxEndpoints: 2 },
    scrape: { engine: "vllm", path: "/metrics", intervalMs: 50, cluster: pool.metricsCluster },
    // The overload workload marks its sheddable share with this objective (priority -1).
    priority: { default: 0, objectives: { [SHEDDABLE_OBJECTIVE]: -1 } },
    trustedCallers: [{ property: "source.address", prefix: "127.0.0.1" }],
  };
}

/** Objective name the overload workload sends in `x-gateway-inference-objective` for sheddable requests. */
export const SHEDDABLE_OBJECTIVE = "batch";

/** A config whose pool uses `profile` (and any extra pool fields, and top-level fields). */
function profileConfig(profile: unknown, extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return (pool: PoolFacts): unknown => ({ ...top, pools: [{ ...poolBase(pool), profile, ...extra }] });
}

/** Reads an example config and points its first pool at the simulators. */
function fromExample(file: string, top: Record<string, unknown> = {}) {
  return (pool: PoolFacts, repoRoot: string): unknown => {
    const path = join(repoRoot, file);
    if (!existsSync(path)) throw new Error(`${file} is missing`);
    const cfg = JSON.parse(readFileSync(path, "utf8")) as { pools?: Array<Record<string, unknown>> };
    const first = (cfg.pools ?? [])[0] ?? {};
    const base = poolBase(pool);
    return { ...cfg, ...top, pools: [{ ...first, ...base, name: first.name ?? base.name, scrape: { ...((first.scrape as object) ?? {}), ...(base.scrape as object) } }] };
  };
}

/** The same config with every flow-control band's maxInFlightShare dropped (1: no reserve). */
function withoutFlowReserve(config: (pool: PoolFacts, repoRoot: string) => unknown) {
  return (pool: PoolFacts, repoRoot: string): unknown => {
    const cfg = config(pool, repoRoot) as { pools: Array<{ flowControl?: { bands?: Array<Record<string, unknown>> } }> };
    for (const p of cfg.pools) for (const b of p.flowControl?.bands ?? []) delete b.maxInFlightShare;
    return cfg;
  };
}

export const POLICIES: Policy[] = [
  { name: "round-robin", description: "the proxy's own round-robin, no plugin", lb: "round-robin" },
  { name: "random", description: "the proxy's own random pick, no plugin", lb: "random" },
  {
    name: "least-request", description: "wayroute plugin, fewest in-flight requests", lb: "round-robin",
    wasm: "build/plugin.wasm",
    config: profileConfig({ filters: [{ type: "health-filter" }], scorers: [{ type: "in-flight-scorer", weight: 1 }], picker: { type: "max-score-picker" } }),
  },
  {
    name: "gie-default", description: "wayroute plugin, GIE v1.5 default profile (queue 2, kv 2, prefix 3)", lb: "round-robin",
    wasm: "build/plugin.wasm", config: fromExample("examples/configs/gie-default.json"),
  },
  {
    name: "gie-default-flow", description: "the GIE default profile with flow control: a saturated pool queues requests (priority bands, tenant fairness) instead of shedding", lb: "round-robin",
    wasm: "build/plugin.wasm", config: fromExample("examples/configs/flow-control.json"),
  },
  {
    name: "gie-default-flow-noreserve", description: "gie-default-flow with no reserve for the standard band: the sheddable band may fill every in-flight slot (maxInFlightShare 1)", lb: "round-robin",
    wasm: "build/plugin.wasm", config: withoutFlowReserve(fromExample("examples/configs/flow-control.json")),
  },
  {
    name: "gie-default-hold", description: "the GIE default profile reading the prompt: holdHeadersForBody, as on standalone Envoy 1.35+ (allow_on_headers_stop_iteration)", lb: "round-robin",
    wasm: "build/plugin.wasm", config: fromExample("examples/configs/gie-default.json", { holdHeadersForBody: true }),
  },
  {
    // Stock Envoy Wasm cannot read the body before the upstream is chosen (a header
    // StopIteration pauses the body too), so the tuned policy gets its cache locality from the
    // tenant header with bounded-load affinity, and its balance from fresh in-flight counts.
    name: "wayroute", description: "wayroute plugin, tuned: tenant affinity (bounded load), in-flight, queue and KV scorers", lb: "round-robin",
    wasm: "build/plugin.wasm",
    config: profileConfig({
      // No saturation filter: under CPU contention scraped metrics age past the 200 ms staleness
      // limit, the filter then drops a tenant's server and the tenant's cache goes cold elsewhere.
      // Overload is still shed by admission (sheddable requests while the pool is saturated).
      filters: [{ type: "health-filter" }],
      scorers: [
        { type: "session-affinity-scorer", weight: 6, params: { loadFactor: 2 } },
        { type: "in-flight-scorer", weight: 1 },
        { type: "queue-scorer", weight: 1 },
        { type: "kv-cache-utilization-scorer", weight: 1 },
      ],
      picker: { type: "max-score-picker" },
    }, { failureMode: "FailOpen", sessionAffinity: { header: SESSION_HEADER } }),
  },
  {
    name: "wayroute-prefix", description: "wayroute plugin reading the prompt (holdHeadersForBody, standalone Envoy 1.35+): prefix-cache 3, in-flight 1", lb: "round-robin",
    wasm: "build/plugin.wasm",
    config: profileConfig({
      filters: [{ type: "health-filter" }],
      scorers: [
        { type: "prefix-cache-scorer", weight: 3 },
        { type: "in-flight-scorer", weight: 1 },
      ],
      picker: { type: "max-score-picker" },
    }, { failureMode: "FailOpen" }, { holdHeadersForBody: true }),
  },
];

export function findPolicy(name: string): Policy | undefined {
  return POLICIES.find((p) => p.name === name);
}

/**
 * A scrape budget for the A/B option `--scrape-budget`: `unlimited` is the behaviour before the
 * budget existed (the highest budget the config accepts, so the effective interval is the
 * configured one), `default` leaves the plugin's default, a number sets `budgetPerSecond`.
 */
export type ScrapeBudget = "unlimited" | "default" | number;

/** The config's upper bound for `scrape.budgetPerSecond`. */
export const MAX_SCRAPE_BUDGET = 10_000;

/** Parses one `--scrape-budget` value; undefined when it is not one. */
export function parseScrapeBudget(value: string): ScrapeBudget | undefined {
  if (value === "unlimited" || value === "default") return value;
  if (!/^[0-9]+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= MAX_SCRAPE_BUDGET ? n : undefined;
}

/**
 * The plugin policy `p` with every scraping pool's `scrape.budgetPerSecond` set to `budget`,
 * named `<p> budget=<budget>`; proxy-only policies are returned as they are.
 */
export function withScrapeBudget(p: Policy, budget: ScrapeBudget): Policy {
  const base = p.config;
  if (!p.wasm || !base) return p;
  return {
    ...p,
    name: `${p.name} budget=${budget}`,
    description: `${p.description}; scrape budget ${budget === "unlimited" ? `${MAX_SCRAPE_BUDGET}/s (effective interval = intervalMs)` : budget === "default" ? "the plugin's default" : `${budget}/s`}`,
    config: (pool, repoRoot) => {
      const cfg = base(pool, repoRoot) as { pools?: Array<{ scrape?: Record<string, unknown> }> };
      for (const pl of cfg.pools ?? []) {
        if (!pl.scrape || pl.scrape.enabled === false) continue;
        if (budget === "default") delete pl.scrape.budgetPerSecond;
        else pl.scrape.budgetPerSecond = budget === "unlimited" ? MAX_SCRAPE_BUDGET : budget;
      }
      return cfg;
    },
  };
}
