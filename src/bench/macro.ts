/**
 * The macro benchmark: for every (workload, policy) pair, fresh simulators (cold caches), the
 * local proxy running the policy, and the load generator; collects latency, throughput, sheds,
 * errors and the simulators' prefix-cache hit rate.
 */
import { Agent } from "node:http";
import { chatCall, contentionWindow, type LoadSummary, runLoad, summarize, type Workload, plannedRequests } from "../load/index.js";
import type { MacroCell } from "../report/types.js";
import { ProxyServer } from "../serve/index.js";
import type { FilterFactory } from "../serve/filter.js";
import { SimCluster, type SimParams } from "../sim/index.js";
import type { Policy } from "./policies.js";

export interface MacroOptions {
  repoRoot: string;
  workloads: Workload[];
  policies: Policy[];
  servers: number;
  sim?: Partial<SimParams>;
  workers: number;
  seed: number;
  /** Builds the plugin filter for a policy (undefined for proxy-only policies). */
  filtersFor(policy: Policy, sims: SimCluster): Promise<FilterFactory | undefined>;
  /**
   * Runs the policy in another proxy (e.g. a real Envoy) instead of the built-in Node proxy; when
   * given, `filtersFor` is not used.
   */
  proxyFor?(policy: Policy, sims: SimCluster): Promise<ExternalProxy>;
  onProgress?(done: number, total: number, label: string): void;
  /** How long the preflight request through a plugin may take (ms). */
  preflightTimeoutMs?: number;
  /** A policy that cannot run (plugin missing, config refused) is reported here and skipped. */
  onSkip?(policy: Policy, reason: string): void;
}

/** A proxy started outside the built-in one: where to send the load, and how to stop it. */
export interface ExternalProxy {
  address: string;
  stop(): Promise<unknown>;
}

export interface MacroRun {
  cells: MacroCell[];
  skipped: { policy: string; workload: string; reason: string }[];
}

export async function runMacro(o: MacroOptions): Promise<MacroRun> {
  const total = o.workloads.reduce((a, w) => a + plannedRequests(w), 0) * o.policies.length;
  let done = 0;
  const cells: MacroCell[] = [];
  const skipped: MacroRun["skipped"] = [];
  const dead = new Set<string>();
  for (const w of o.workloads) {
    for (const p of o.policies) {
      if (dead.has(p.name)) {
        done += plannedRequests(w);
        continue;
      }
      const sims = await SimCluster.start({ servers: o.servers, ...(o.sim ? { params: o.sim } : {}) });
      let proxy: ProxyServer | ExternalProxy | undefined;
      try {
        let filters: FilterFactory | undefined;
        try {
          if (o.proxyFor) proxy = await o.proxyFor(p, sims);
          else filters = await o.filtersFor(p, sims);
        } catch (err) {
          const reason = (err as Error).message;
          dead.add(p.name);
          skipped.push({ policy: p.name, workload: w.name, reason });
          o.onSkip?.(p, reason);
          done += plannedRequests(w);
          continue;
        }
        if (!proxy) {
          const local = new ProxyServer({ workers: o.workers, defaultCluster: { name: "sim", endpoints: sims.addresses, lb: p.lb } }, filters);
          await local.start();
          proxy = local;
        }
        if (filters || (o.proxyFor && p.wasm)) {
          // One request first: a plugin that cannot serve (refuses, hangs, errors) is skipped
          // with the reason instead of failing a whole workload request by request.
          const agent = new Agent({ keepAlive: false });
          const pre = await chatCall({
            target: proxy.address, path: "/v1/chat/completions", agent, timeoutMs: o.preflightTimeoutMs ?? 10_000, headers: {},
            body: { model: sims.servers[0]?.params.model ?? "sim-llm", max_tokens: 2, messages: [{ role: "user", content: "preflight" }] },
          });
          agent.destroy();
          if (pre.status !== 200) {
            const reason = `a first request through the plugin got ${pre.status || "no response"}${pre.error ? `: ${pre.error.trim().slice(0, 160)}` : ""}`;
            dead.add(p.name);
            skipped.push({ policy: p.name, workload: w.name, reason });
            o.onSkip?.(p, reason);
            done += plannedRequests(w);
            continue;
          }
        }
        const base = done;
        const before = sims.stats();
        const run = await runLoad({
          target: proxy.address, workload: w, seed: o.seed,
          onProgress: (d) => o.onProgress?.(base + d, total, `${w.name} / ${p.name}`),
        });
        done = base + plannedRequests(w);
        const after = sims.stats();
        let queried = 0;
        let hits = 0;
        for (const k of Object.keys(after)) {
          queried += after[k]!.prefixQueriedTokens - (before[k]?.prefixQueriedTokens ?? 0);
          hits += after[k]!.prefixHitTokens - (before[k]?.prefixHitTokens ?? 0);
        }
        const summary: LoadSummary = summarize(run.records, run.durationMs, contentionWindow(w));
        cells.push({
          workload: w.name, policy: p.name, durationMs: run.durationMs, summary,
          prefixHitRate: queried > 0 ? hits / queried : 0,
          ttftSamples: run.records.filter((r) => r.status === 200 && r.ttftMs !== undefined).map((r) => Math.round(r.ttftMs! * 10) / 10).sort((a, b) => a - b),
        });
      } finally {
        await proxy?.stop();
        await sims.stop();
      }
    }
  }
  return { cells, skipped };
}
