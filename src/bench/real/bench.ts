/**
 * `wayroute bench --stack real`: runs the real-stack benchmark and writes results.json (its
 * `real` field), real.json and report.html (with the "Real stack" section) to the output
 * directory; {@link realTables} prints the terminal tables.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { renderReport } from "../../report/index.js";
import type { BenchResults } from "../../report/types.js";
import { ProgressBar } from "../progress.js";
import { classTable, formatTable, repeatTable } from "../table.js";
import { type RealStackOptions, runRealStack } from "./run.js";
import type { RealStackResults } from "./types.js";

/** What the real-stack run takes, less the callbacks this wrapper supplies, plus where to write. */
export interface RealBenchOptions extends Pick<RealStackOptions, "repoRoot" | "quick" | "macro" | "overhead" | "workloads" | "policies" | "servers" | "workers" | "seed" | "command"> {
  outDir: string;
  progress: boolean;
  /**
   * Runs the routing benchmark this many times, seeds `seed`, `seed + 1`, ... (the overhead
   * measurement only in the first); cells carry their seed and the tables add medians.
   */
  repeat?: number;
}

export async function runRealBench(o: RealBenchOptions): Promise<{ results: BenchResults; reportPath: string; jsonPath: string }> {
  const bar = new ProgressBar(process.stderr, 30, o.progress);
  const startedAt = new Date().toISOString();
  const repeat = o.repeat ?? 1;
  const run = (seed: number, overhead: boolean) => runRealStack({
    repoRoot: o.repoRoot, quick: o.quick, macro: o.macro, overhead,
    ...(o.workloads ? { workloads: o.workloads } : {}), ...(o.policies ? { policies: o.policies } : {}),
    servers: o.servers, workers: o.workers, seed, command: o.command,
    onProgress: (d, t, label) => bar.update(d, t, label),
    log: (line) => {
      bar.done();
      process.stderr.write(line + "\n");
    },
    onPartial: (partial) => {
      mkdirSync(o.outDir, { recursive: true });
      writeFileSync(join(o.outDir, "real.partial.json"), JSON.stringify(partial, null, 2) + "\n");
    },
  });
  const real = await run(o.seed, o.overhead);
  if (repeat > 1) {
    real.macro = real.macro.map((c) => ({ ...c, seed: o.seed }));
    for (let i = 1; i < repeat && o.macro; i++) {
      const more = await run(o.seed + i, false);
      real.macro.push(...more.macro.map((c) => ({ ...c, seed: o.seed + i })));
      for (const s of more.skipped) if (!real.skipped.some((x) => x.policy === s.policy && x.workload === s.workload)) real.skipped.push(s);
    }
  }
  bar.done();
  const results: BenchResults = {
    startedAt,
    environment: {
      node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown",
      stack: "real", envoy: real.versions.envoy, epp: real.versions.epp, simulator: real.versions.simulator,
      simulators: o.servers, envoyWorkers: o.workers, quick: String(o.quick),
    },
    micro: [], microSkipped: [], macro: [], notes: [], real,
  };
  mkdirSync(o.outDir, { recursive: true });
  const jsonPath = join(o.outDir, "results.json");
  writeFileSync(jsonPath, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(o.outDir, "real.json"), JSON.stringify({ ...real, macro: real.macro.map(({ ttftSamples: _t, ...c }) => c) }, null, 2) + "\n");
  const reportPath = join(o.outDir, "report.html");
  writeFileSync(reportPath, renderReport(results));
  return { results, reportPath, jsonPath };
}

/** The terminal tables of a real-stack run. */
export function realTables(r: RealStackResults): string {
  const out: string[] = [`real stack: Envoy ${r.versions.envoy}, EPP ${r.versions.epp}, ${r.versions.simulator}`];
  if (r.macro.length) {
    out.push("", "routing (real stack)", formatTable(
      ["workload", "policy", "reqs", "TTFT p50", "TTFT p90", "e2e p90", "req/s", "prefix hit %", "sheds", "errors", "served per server"],
      r.macro.map((c) => [c.workload, c.policy, c.summary.requests, c.summary.ttftP50Ms, c.summary.ttftP90Ms, c.summary.e2eP90Ms, c.summary.throughputRps, c.prefixHitRate * 100, c.summary.sheds, c.summary.errors, Object.values(c.summary.perServer).join("/")]),
    ), "(latencies in wall-clock ms; the simulators model a GPU server 4x faster than real time)");
    out.push(...classTable(r.macro));
    out.push(...repeatTable(r.macro));
    // The flows the EPP's flow control saw (its fairness_id), to check the tenant header reached it.
    for (const c of r.macro) {
      const flows = c.steering.epp?.flowQueuedByFlow;
      if (flows) out.push(`${c.workload} / ${c.policy}: EPP flows ${Object.entries(flows).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
  }
  if (r.overhead.length) {
    out.push("", "routing overhead (zero-latency servers, fixed rate; added = over plain Envoy round-robin)", formatTable(
      ["body", "endpoints", "policy", "ok", "p50 ms", "p99 ms", "added p50", "added p99", "Envoy CPU ms/1k", "EPP CPU ms/1k"],
      r.overhead.map((x) => [x.body, String(x.endpoints), x.policy, `${x.ok}/${x.requests}`, x.p50Ms, x.p99Ms, x.addedP50Ms, x.addedP99Ms, x.envoyCpuMsPer1k, x.eppCpuMsPer1k ?? NaN]),
    ));
  }
  const seen = new Set<string>();
  for (const s of r.skipped) {
    if (seen.has(s.policy)) continue;
    seen.add(s.policy);
    out.push(`skipped ${s.policy}: ${s.reason}`);
  }
  for (const n of r.notes) out.push(n);
  return out.join("\n") + "\n";
}
