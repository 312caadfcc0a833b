/** Runs the registered micro suites and gathers their rows into one table. */
import type { MicroRow } from "../report/types.js";
import { microSuites } from "./micro/index.js";
import type { MicroContext, PluginAbInput } from "./suite.js";

export interface MicroRun {
  rows: MicroRow[];
  skipped: { suite: string; reason: string }[];
}

/**
 * Runs the suites named in `only`, or every suite but the opt-in ones when `only` is empty.
 * Given `ab`, the `plugin-ab` suite runs too, alone when `only` is empty.
 */
export async function runMicro(opts: { repoRoot: string; quick: boolean; only?: string[]; ab?: PluginAbInput; log(msg: string): void }): Promise<MicroRun> {
  const rows: MicroRow[] = [];
  const skipped: MicroRun["skipped"] = [];
  const named = (name: string) => (opts.only ?? []).includes(name) || (opts.ab !== undefined && name === "plugin-ab");
  const suites = microSuites.filter((s) => named(s.name) || (!opts.only?.length && !opts.ab && !s.optIn));
  for (const s of suites) {
    const ctx: MicroContext = {
      repoRoot: opts.repoRoot, durationMs: opts.quick ? 150 : 1000, quick: opts.quick, log: (m) => opts.log(`${s.name}: ${m}`),
      ...(opts.ab ? { ab: opts.ab } : {}),
    };
    try {
      opts.log(`${s.name}: running`);
      for (const r of await s.run(ctx)) rows.push({ suite: s.name, ...r });
    } catch (err) {
      skipped.push({ suite: s.name, reason: (err as Error).message });
    }
  }
  return { rows, skipped };
}
