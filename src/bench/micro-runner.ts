/** Runs the registered micro suites and gathers their rows into one table. */
import type { MicroRow } from "../report/types.js";
import { microSuites } from "./micro/index.js";
import type { MicroContext } from "./suite.js";

export interface MicroRun {
  rows: MicroRow[];
  skipped: { suite: string; reason: string }[];
}

export async function runMicro(opts: { repoRoot: string; quick: boolean; only?: string[]; log(msg: string): void }): Promise<MicroRun> {
  const rows: MicroRow[] = [];
  const skipped: MicroRun["skipped"] = [];
  const suites = microSuites.filter((s) => !opts.only?.length || opts.only.includes(s.name));
  for (const s of suites) {
    const ctx: MicroContext = { repoRoot: opts.repoRoot, durationMs: opts.quick ? 150 : 1000, quick: opts.quick, log: (m) => opts.log(`${s.name}: ${m}`) };
    try {
      opts.log(`${s.name}: running`);
      for (const r of await s.run(ctx)) rows.push({ suite: s.name, ...r });
    } catch (err) {
      skipped.push({ suite: s.name, reason: (err as Error).message });
    }
  }
  return { rows, skipped };
}
