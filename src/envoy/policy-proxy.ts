/**
 * Runs a benchmark policy in a real Envoy in front of simulated servers (the demo and the routing
 * benchmark's `proxyFor`): plugin policies get the standalone config generated from their plugin
 * config; proxy-only policies get the same listener and cluster with no Wasm filter and Envoy's
 * own round-robin or random balancing.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Policy } from "../bench/policies.js";
import type { SimCluster } from "../sim/index.js";
import { EnvoyError } from "./errors.js";
import type { EnvoyBinary } from "./locate.js";
import { EnvoyProcess } from "./process.js";
import { standaloneBootstrap } from "./standalone.js";

/** Cluster name the policies' configs scrape through (as the built-in proxy's METRICS_CLUSTER). */
const METRICS_CLUSTER = "sim-pool";

/** A factory for `proxyFor`: one Envoy per (policy, workload) run, `workers` worker threads. */
export function envoyPolicyProxy(repoRoot: string, workers: number, binary: EnvoyBinary) {
  return async (policy: Policy, sims: SimCluster): Promise<{ address: string; stop(): Promise<unknown> }> => {
    let bootstrap: Record<string, unknown>;
    const fallback = policy.lb === "random" ? "random" : "round_robin";
    if (!policy.wasm) {
      bootstrap = standaloneBootstrap({ pluginConfig: {}, wasmPath: "unused.wasm", upstreams: sims.addresses, withoutPlugin: true, fallback });
    } else {
      const wasmPath = join(repoRoot, policy.wasm);
      if (!existsSync(wasmPath)) throw new EnvoyError("E_ENVOY_CONFIG", `${policy.wasm} is missing: run 'npm run build:wasm' first`);
      const config = (policy.config?.({ endpoints: sims.addresses, metricsCluster: METRICS_CLUSTER, model: sims.servers[0]?.params.model ?? "sim-llm" }, repoRoot) ?? {}) as Record<string, unknown>;
      bootstrap = standaloneBootstrap({ pluginConfig: config, wasmPath, upstreams: sims.addresses, fallback, failStrategy: "FAIL_OPEN" });
    }
    const envoy = await EnvoyProcess.start({ bootstrap, concurrency: workers, binary, logLevel: "error", componentLogLevel: "wasm:warn" });
    return { address: envoy.listenerAddress(), stop: () => envoy.stop() };
  };
}
