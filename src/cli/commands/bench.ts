import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { intOption, stringOption } from "../args.js";
import { CliError, type Command, UsageError } from "../command.js";
import { filtersFactory } from "../../bench/filters.js";
import { parseScrapeBudget, POLICIES, type ScrapeBudget, withScrapeBudget } from "../../bench/policies.js";
import { PLUGIN_AB_CASES } from "../../bench/micro/plugin-ab.js";
import { repoRoot } from "../../bench/repo-root.js";
import { runBench } from "../../bench/run.js";
import { classTable, cpuAbTable, formatTable, repeatTable } from "../../bench/table.js";
import { realTables, runRealBench } from "../../bench/real/bench.js";
import { REAL_POLICIES } from "../../bench/real/policies.js";
import { realWorkloads } from "../../bench/real/workloads.js";
import { defaultWorkloads } from "../../load/index.js";
import type { ParsedArgs } from "../command.js";
import type { BenchResults } from "../../report/types.js";

/** The terminal tables of a run: one for every micro row, one for the macro cells. */
export function resultTables(r: BenchResults): string {
  const out: string[] = [];
  const rates = r.micro.filter((m) => m.unit === undefined && !m.cpuAb);
  const figures = r.micro.filter((m) => m.unit !== undefined);
  if (rates.length) {
    out.push("micro benchmarks", formatTable(
      ["suite", "case", "baseline", "ops/s", "baseline ops/s", "ratio", "µs/op"],
      rates.map((m) => [m.suite, m.case, m.baseline, m.opsPerSec, m.baselineOpsPerSec ?? NaN, m.ratio ?? NaN, m.usPerOp ?? NaN]),
    ));
  }
  if (figures.length) {
    out.push("", "footprint", formatTable(["suite", "case", "value", "unit"], figures.map((m) => [m.suite, m.case, m.value ?? NaN, m.unit ?? ""])));
  }
  out.push(...cpuAbTable(r.micro));
  // Rows that measure something other than a rate (e.g. memory) carry their figure in notes.
  for (const m of r.micro) if (m.notes && !m.cpuAb) out.push(`${m.suite}: ${m.case}: ${m.notes}`);
  for (const s of r.microSkipped) out.push(`micro suite ${s.suite} skipped: ${s.reason}`);
  if (r.macro.length) {
    out.push("", "routing (macro)", formatTable(
      ["workload", "policy", "reqs", "TTFT p50", "TTFT p90", "e2e p50", "e2e p90", "req/s", "prefix hit %", "sheds", "errors"],
      r.macro.map((c) => [c.workload, c.policy, c.summary.requests, c.summary.ttftP50Ms, c.summary.ttftP90Ms, c.summary.e2eP50Ms, c.summary.e2eP90Ms, c.summary.throughputRps, c.prefixHitRate * 100, c.summary.sheds, c.summary.errors]),
    ), "(latencies in ms of wall-clock time against simulators running faster than real time)");
    // Cells with more than one request class (e.g. two tenants): each class's own figures.
    out.push(...classTable(r.macro));
    out.push(...repeatTable(r.macro));
  }
  for (const n of r.notes) out.push(n);
  return out.join("\n") + "\n";
}

export const bench: Command = {
  name: "bench",
  summary: "run the micro and routing benchmarks; write JSON and an HTML report",
  usage: `usage: wayroute bench [options]

Micro suites (requests/s through the harness, body scanning, picking) and the macro routing
benchmark (simulated model servers + the local proxy + a load generator) under several policies.
Writes results.json, micro.json, macro.json and report.html to --out. Needs build/*.wasm
('npm run build:wasm'); plugin policies are skipped with a note when it is missing.

options:
  --out <dir>          output directory (default bench-results)
  --quick              short run (CI smoke test)
  --no-micro           skip the micro suites
  --no-macro           skip the routing benchmark
  --suite <name>       only this micro suite (repeat)
  --workload <name>    only workloads whose name contains this (repeat)
  --policy <name>      only this policy (repeat): ${POLICIES.map((p) => p.name).join(", ")}
  --servers <n>        simulated servers (default 4)
  --workers <n>        proxy workers / plugin VMs (default 2)
  --seed <n>           load generator seed (default 42)
  --repeat <n>         run the routing benchmark n times, seeds seed .. seed+n-1, every policy in
                       turn within a run; adds a table of medians and ranges over the runs
  --scrape-budget <b>  A/B of the scrape budget (repeat): every plugin policy runs once per value,
                       side by side, named '<policy> budget=<b>'; b is unlimited (effective
                       interval = intervalMs, as before the budget), default, or 1..10000 per s
  --baseline-plugin <file>
                       compare two builds of the plugin (suite plugin-ab, alone unless --suite
                       names others; no routing benchmark): the request-path workloads through
                       the harness with both modules, interleaved rounds in alternating order,
                       process CPU (user+system) per request; prints new/old per workload with
                       a 95 % interval of the median and "noise" when the interval holds 1
  --plugin <file>      the new build for --baseline-plugin (default build/plugin.wasm)
  --rounds <n>         interleaved rounds per plugin-ab case (default 12, --quick 2)
  --case <text>        only plugin-ab cases whose name contains this (repeat), e.g. 'picker 1024'
                       (cases: ${PLUGIN_AB_CASES.join("; ")})
  --json               print results.json to stdout instead of tables
  --no-progress        no progress bar on stderr

--stack real runs the routing benchmark on the real stack instead: Envoy 1.40 (2 workers) with
Envoy's own balancers, Envoy + ext_proc + llm-d's EPP, and Envoy + wayroute, in front of
llm-d-inference-sim servers (wayroute's simulator, labelled, when it is not installed), plus the
routing-overhead measurement. Install the peers first: npm run setup:peers. A missing peer skips
what needs it, with the reason. See docs/benchmarks.md.
  --stack <name>       local (default) or real
  --no-overhead        real stack: skip the routing-overhead measurement
                       (--repeat works on the real stack too; the overhead runs once)
  (real-stack policies: ${REAL_POLICIES.map((p) => p.name).join(", ")})

Exit codes: 0 ok, 1 failure, 2 usage error.`,
  options: {
    out: { type: "string" },
    stack: { type: "string" },
    overhead: { type: "boolean", default: true },
    quick: { type: "boolean" },
    micro: { type: "boolean", default: true },
    macro: { type: "boolean", default: true },
    suite: { type: "list" },
    workload: { type: "list" },
    policy: { type: "list" },
    servers: { type: "string" },
    workers: { type: "string" },
    seed: { type: "string" },
    repeat: { type: "string" },
    "scrape-budget": { type: "list" },
    "baseline-plugin": { type: "string" },
    plugin: { type: "string" },
    rounds: { type: "string" },
    case: { type: "list" },
    json: { type: "boolean" },
    progress: { type: "boolean", default: true },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const root = repoRoot();
    const quick = args.options.quick === true;
    const stack = stringOption(args, "stack") ?? "local";
    if (stack !== "local" && stack !== "real") throw new UsageError(`unknown --stack ${stack}; local or real`);
    if (stack === "real") return runRealCommand(args, root, quick);
    const wanted = args.options.policy as string[];
    for (const p of wanted) if (!POLICIES.some((x) => x.name === p)) throw new UsageError(`unknown --policy ${p}; one of ${POLICIES.map((x) => x.name).join(", ")}`);
    const budgets: ScrapeBudget[] = (args.options["scrape-budget"] as string[]).map((v) => {
      const b = parseScrapeBudget(v);
      if (b === undefined) throw new UsageError(`--scrape-budget ${v}: unlimited, default or a whole number 1..10000`);
      return b;
    });
    const chosen = wanted.length ? POLICIES.filter((p) => wanted.includes(p.name)) : POLICIES;
    const policies = budgets.length ? chosen.flatMap((p) => (p.wasm ? budgets.map((b) => withScrapeBudget(p, b)) : [p])) : chosen;
    const wl = args.options.workload as string[];
    const workloads = defaultWorkloads(quick ? 0.5 : 1).filter((w) => !wl.length || wl.some((x) => w.name.includes(x)));
    if (!workloads.length) throw new UsageError(`no workload matches ${wl.join(", ")}`);
    const workers = intOption(args, "workers", 2, 1, 16);
    const baseline = stringOption(args, "baseline-plugin");
    for (const o of ["plugin", "rounds", "case"]) {
      const given = Array.isArray(args.options[o]) ? (args.options[o] as string[]).length > 0 : args.options[o] !== undefined;
      if (given && !baseline) throw new UsageError(`--${o} goes with --baseline-plugin`);
    }
    const ab = baseline
      ? {
        plugin: resolve(stringOption(args, "plugin") ?? join(root, "build/plugin.wasm")),
        baseline: resolve(baseline),
        ...(args.options.rounds !== undefined ? { rounds: intOption(args, "rounds", 12, 1, 200) } : {}),
        cases: args.options.case as string[],
      }
      : undefined;
    for (const f of ab ? [ab.plugin, ab.baseline] : []) if (!existsSync(f)) throw new CliError(`${f} does not exist (the plugin-ab suite compares two built modules)`);
    const out = await runBench({
      repoRoot: root,
      outDir: resolve(stringOption(args, "out") ?? "bench-results"),
      micro: args.options.micro !== false,
      macro: args.options.macro !== false && !ab,
      quick,
      suites: args.options.suite as string[],
      ...(ab ? { ab } : {}),
      workloads,
      policies,
      servers: intOption(args, "servers", 4, 1, 32),
      workers,
      seed: intOption(args, "seed", 42),
      repeat: intOption(args, "repeat", 1, 1, 50),
      progress: args.options.progress !== false,
      filtersFor: filtersFactory(root, workers),
    });
    if (args.options.json === true) process.stdout.write(JSON.stringify(out.results, null, 2) + "\n");
    else process.stdout.write(resultTables(out.results) + `\nreport: ${out.reportPath}\n`);
    return 0;
  },
};

/** `--stack real`: the real-stack benchmark (src/bench/real). */
async function runRealCommand(args: ParsedArgs, root: string, quick: boolean): Promise<number> {
  const wanted = args.options.policy as string[];
  for (const p of wanted) if (!REAL_POLICIES.some((x) => x.name === p)) throw new UsageError(`unknown --policy ${p} for --stack real; one of ${REAL_POLICIES.map((x) => x.name).join(", ")}`);
  const wl = args.options.workload as string[];
  const workloads = realWorkloads(quick ? 0.25 : 1).filter((w) => !wl.length || wl.some((x) => w.name.includes(x)));
  if (!workloads.length) throw new UsageError(`no workload matches ${wl.join(", ")}`);
  const out = await runRealBench({
    repoRoot: root,
    outDir: resolve(stringOption(args, "out") ?? "bench-results"),
    quick,
    macro: args.options.macro !== false,
    overhead: args.options.overhead !== false,
    workloads,
    ...(wanted.length ? { policies: REAL_POLICIES.filter((p) => wanted.includes(p.name)) } : {}),
    servers: intOption(args, "servers", 4, 1, 32),
    workers: intOption(args, "workers", 2, 1, 16),
    seed: intOption(args, "seed", 42),
    repeat: intOption(args, "repeat", 1, 1, 50),
    progress: args.options.progress !== false,
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
  });
  if (args.options.json === true) process.stdout.write(JSON.stringify(out.results, null, 2) + "\n");
  else process.stdout.write(realTables(out.results.real!) + `\nreport: ${out.reportPath}\n`);
  return 0;
}
