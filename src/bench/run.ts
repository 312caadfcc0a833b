/**
 * `npm run bench` / `wayroute bench`: micro suites and the macro routing benchmark; writes JSON
 * and the HTML report under the output directory.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { defaultWorkloads, type Workload } from "../load/index.js";
import { renderReport } from "../report/index.js";
import type { BenchResults } from "../report/types.js";
import type { FilterFactory } from "../serve/filter.js";
import { DEFAULT_SIM_PARAMS, type SimCluster, type SimParams } from "../sim/index.js";
import { type ExternalProxy, runMacro } from "./macro.js";
import { runMicro } from "./micro-runner.js";
import { POLICIES, type Policy } from "./policies.js";
import { ProgressBar } from "./progress.js";
import type { PluginAbInput } from "./suite.js";

export interface BenchOptions {
  repoRoot: string;
  outDir: string;
  micro: boolean;
  macro: boolean;
  quick: boolean;
  suites?: string[];
  /** Two plugin builds to compare in the `plugin-ab` suite (`--baseline-plugin`). */
  ab?: PluginAbInput;
  workloads?: Workload[];
  policies?: Policy[];
  servers?: number;
  workers?: number;
  seed?: number;
  /**
   * Runs the routing benchmark this many times, seeds `seed`, `seed + 1`, ...; each run takes
   * every policy in turn, so a policy's cells and its neighbour's share the machine's load.
   */
  repeat?: number;
  sim?: Partial<SimParams>;
  progress?: boolean;
  filtersFor(policy: Policy, sims: SimCluster): Promise<FilterFactory | undefined>;
  /** Run each policy in this proxy instead of the built-in one (see MacroOptions.proxyFor). */
  proxyFor?(policy: Policy, sims: SimCluster): Promise<ExternalProxy>;
}

export interface BenchOutput {
  results: BenchResults;
  reportPath: string;
  jsonPath: string;
}

export async function runBench(o: BenchOptions): Promise<BenchOutput> {
  const bar = new ProgressBar(process.stderr, 30, o.progress ?? true);
  const startedAt = new Date().toISOString();
  const servers = o.servers ?? 4;
  const workers = o.workers ?? 2;
  const sim = { ...DEFAULT_SIM_PARAMS, ...(o.sim ?? {}) };
  const results: BenchResults = {
    startedAt,
    environment: {
      node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown",
      simulators: servers, proxyWorkers: workers, simSpeedup: sim.speedup, simMaxBatch: sim.maxBatch,
      simKvBlocks: sim.kvBlocks, simBlockTokens: sim.blockTokens, quick: String(o.quick),
    },
    micro: [], microSkipped: [], macro: [], notes: [],
  };
  if (o.micro) {
    const m = await runMicro({ repoRoot: o.repoRoot, quick: o.quick, ...(o.suites ? { only: o.suites } : {}), ...(o.ab ? { ab: o.ab } : {}), log: (msg) => bar.update(0, 1, msg) });
    bar.done();
    results.micro = m.rows;
    results.microSkipped = m.skipped;
  }
  if (o.macro) {
    const repeat = o.repeat ?? 1;
    const seen = new Set<string>();
    for (let i = 0; i < repeat; i++) {
      const seed = (o.seed ?? 42) + i;
      const macro = await runMacro({
        repoRoot: o.repoRoot,
        workloads: o.workloads ?? defaultWorkloads(o.quick ? 0.5 : 1),
        policies: o.policies ?? POLICIES,
        servers, workers, seed, sim: o.sim ?? {},
        filtersFor: o.filtersFor,
        ...(o.proxyFor ? { proxyFor: o.proxyFor } : {}),
        onProgress: (d, t, label) => bar.update(d, t, repeat > 1 ? `seed ${seed}: ${label}` : label),
        onSkip: (p, reason) => {
          bar.done();
          process.stderr.write(`bench: policy ${p.name} skipped: ${reason}\n`);
        },
      });
      bar.done();
      results.macro.push(...(repeat > 1 ? macro.cells.map((c) => ({ ...c, seed })) : macro.cells));
      for (const s of macro.skipped) {
        if (seen.has(s.policy)) continue;
        seen.add(s.policy);
        results.notes.push(`Policy ${s.policy} was skipped: ${s.reason}`);
      }
    }
    if (repeat > 1) results.environment.repeat = repeat;
  }
  mkdirSync(o.outDir, { recursive: true });
  const jsonPath = join(o.outDir, "results.json");
  writeFileSync(jsonPath, JSON.stringify(results, null, 2) + "\n");
  if (results.micro.length) writeFileSync(join(o.outDir, "micro.json"), JSON.stringify(results.micro, null, 2) + "\n");
  if (results.macro.length) writeFileSync(join(o.outDir, "macro.json"), JSON.stringify(results.macro.map(({ ttftSamples: _t, ...c }) => c), null, 2) + "\n");
  const reportPath = join(o.outDir, "report.html");
  writeFileSync(reportPath, renderReport(results));
  return { results, reportPath, jsonPath };
}
