import { resolve } from "node:path";
import { intOption, stringOption } from "../args.js";
import { CliError, type Command, UsageError } from "../command.js";
import { filtersFactory } from "../../bench/filters.js";
import { findPolicy, type Policy } from "../../bench/policies.js";
import { repoRoot } from "../../bench/repo-root.js";
import { runBench } from "../../bench/run.js";
import { formatTable } from "../../bench/table.js";
import { SESSION_HEADER, type SharedPrefixWorkload } from "../../load/index.js";
import { ENVOY_INSTALL_COMMAND, envoyPolicyProxy, findEnvoy, tryFindEnvoy, type EnvoyBinary } from "../../envoy/index.js";

/** The demo's workload: llm-d's shared-prefix multi-turn chat, scaled to run in seconds. */
export function demoWorkload(scale = 1): SharedPrefixWorkload {
  return {
    kind: "shared-prefix", name: "shared-prefix chat", groups: 8, usersPerGroup: Math.max(1, Math.round(4 * scale)), turns: 4,
    systemPromptTokens: 1500, questionTokens: 60, outputTokens: 24, thinkMs: 5, sessionHeader: SESSION_HEADER, rampMs: 1000,
  };
}

export const demo: Command = {
  name: "demo",
  summary: "simulators + local proxy + shared-prefix load: round-robin vs wayroute",
  usage: `usage: wayroute demo [options]

Starts simulated model servers and a proxy, sends a short shared-prefix multi-turn chat load (the
shape of llm-d's KV-cache benchmark, scaled down) first with the proxy's round-robin, then with
the wayroute plugin, and prints the comparison plus the HTML report's path. The proxy is a real
Envoy (two workers, the plugin in its Wasm filter) when Envoy is installed (npm run setup:envoy),
else the built-in Node proxy; the first line says which.

options:
  --out <dir>        output directory (default bench-results/demo)
  --servers <n>      simulated servers (default 4)
  --scale <x>        workload size factor (default 1)
  --policy <name>    compare round-robin with this policy instead of wayroute
  --proxy <which>    auto (default: Envoy if installed), envoy, or node
  --no-progress      no progress bar on stderr

Exit codes: 0 ok, 1 failure, 2 usage error.`,
  options: {
    out: { type: "string" },
    servers: { type: "string" },
    scale: { type: "string" },
    policy: { type: "string" },
    proxy: { type: "string" },
    progress: { type: "boolean", default: true },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const scale = Number(stringOption(args, "scale") ?? "1");
    if (!(scale > 0 && scale <= 10)) throw new UsageError("--scale must be a number in (0, 10]");
    const other = findPolicy(stringOption(args, "policy") ?? "wayroute");
    if (!other) throw new UsageError(`unknown --policy ${stringOption(args, "policy")}`);
    const which = stringOption(args, "proxy") ?? "auto";
    if (!["auto", "envoy", "node"].includes(which)) throw new UsageError(`--proxy must be auto, envoy or node, got '${which}'`);
    let envoy: EnvoyBinary | undefined;
    if (which === "envoy") {
      try {
        envoy = findEnvoy();
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    } else if (which === "auto") envoy = tryFindEnvoy();
    process.stdout.write(
      envoy
        ? `proxy: Envoy ${envoy.version} (${envoy.path}), 2 workers, the plugin in its Wasm filter (V8)\n`
        : `proxy: the built-in Node proxy${which === "auto" ? ` (Envoy not found; to run the demo through Envoy: ${ENVOY_INSTALL_COMMAND})` : ""}\n`,
    );
    const root = repoRoot();
    const policies: Policy[] = [findPolicy("round-robin")!, other];
    const out = await runBench({
      repoRoot: root, outDir: resolve(stringOption(args, "out") ?? "bench-results/demo"),
      micro: false, macro: true, quick: false, workloads: [demoWorkload(scale)], policies,
      servers: intOption(args, "servers", 4, 1, 32), workers: 2, seed: 7, progress: args.options.progress !== false,
      filtersFor: filtersFactory(root, 2),
      ...(envoy ? { proxyFor: envoyPolicyProxy(root, 2, envoy) } : {}),
    });
    const cells = out.results.macro;
    process.stdout.write(formatTable(
      ["policy", "requests", "TTFT p50 ms", "TTFT p90 ms", "e2e p90 ms", "req/s", "prefix hit %", "sheds", "errors"],
      cells.map((c) => [c.policy, c.summary.requests, c.summary.ttftP50Ms, c.summary.ttftP90Ms, c.summary.e2eP90Ms, c.summary.throughputRps, c.prefixHitRate * 100, c.summary.sheds, c.summary.errors]),
    ) + "\n");
    const rr = cells.find((c) => c.policy === "round-robin");
    const wr = cells.find((c) => c.policy === other.name);
    if (rr && wr && wr.summary.ok > 0) {
      const lower = (a: number, b: number) => (b > 0 && a >= b ? `${(a / b).toFixed(2)}x lower` : a > 0 ? `${(b / a).toFixed(2)}x higher` : "n/a");
      process.stdout.write(
        `\n${other.name} vs round-robin: prefix-cache hit rate ${(rr.prefixHitRate * 100).toFixed(0)}% -> ${(wr.prefixHitRate * 100).toFixed(0)}%, ` +
          `throughput ${(wr.summary.throughputRps / rr.summary.throughputRps).toFixed(2)}x, ` +
          `TTFT p50 ${lower(rr.summary.ttftP50Ms, wr.summary.ttftP50Ms)}, TTFT p90 ${lower(rr.summary.ttftP90Ms, wr.summary.ttftP90Ms)}, ` +
          `e2e p90 ${lower(rr.summary.e2eP90Ms, wr.summary.e2eP90Ms)}\n` +
          "(one run on a shared machine: tail latencies move from run to run; the hit rate and throughput are the steadier signal)\n",
      );
    }
    for (const n of out.results.notes) process.stdout.write(n + "\n");
    process.stdout.write(`\nreport: ${out.reportPath}\n`);
    return 0;
  },
};
