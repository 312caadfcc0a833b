/**
 * Builds the proxy filter for a benchmark policy: nothing for proxy-only policies, the plugin on
 * `workers` VMs for plugin policies, with the plugin's http-call clusters pointed at the
 * simulators (one cluster per simulator, named by its address, plus the pool's cluster).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FilterFactory } from "../serve/filter.js";
import { createWasmFilters } from "../serve/wasm-filter.js";
import type { SimCluster } from "../sim/index.js";
import type { Policy, PoolFacts } from "./policies.js";
import { BenchError } from "./suite.js";

/** Cluster the plugin uses to reach every simulator for metric scrapes (endpoint mode). */
export const METRICS_CLUSTER = "sim-pool";

/**
 * How long the local proxy lets the plugin hold a paused stream before it answers 504 itself:
 * longer than any policy's flow-control maxWaitMs (10 s in examples/configs/flow-control.json),
 * so a waiting request is served or refused by the plugin, as in Envoy (no such proxy timeout).
 */
export const RESUME_TIMEOUT_MS = 15_000;

export function filtersFactory(repoRoot: string, workers: number) {
  return async (policy: Policy, sims: SimCluster): Promise<FilterFactory | undefined> => {
    if (!policy.wasm) return undefined;
    const wasm = join(repoRoot, policy.wasm);
    if (!existsSync(wasm)) throw new BenchError(`${policy.wasm} is missing: run 'npm run build:wasm' first`);
    const pool: PoolFacts = { endpoints: sims.addresses, metricsCluster: METRICS_CLUSTER, model: sims.servers[0]?.params.model ?? "sim-llm" };
    const config = policy.config ? policy.config(pool, repoRoot) : undefined;
    const clusters: Record<string, string> = { [METRICS_CLUSTER]: sims.addresses[0]! };
    for (const a of sims.addresses) clusters[a] = a;
    return createWasmFilters({ wasm, config, rootId: "wayroute", failStrategy: "FAIL_OPEN" }, { workers, clusters, endpoints: sims.addresses, resumeTimeoutMs: RESUME_TIMEOUT_MS });
  };
}
