/**
 * "envoy-state-plane": what keeping endpoint state costs a real Envoy 1.40 (2 workers), idle,
 * at the default scrape settings. For 64 and 1,024 endpoints on loopback (one process, one
 * server per endpoint), three Envoy runs over the same pool: scraping off (the baseline: ORCA-only
 * mode, the plugin still ticks), scraping a 45 KB vLLM-shaped page from servers that ignore the
 * `?name[]=` filter, and scraping servers that honour it (as prometheus_client does). A row's
 * value is Envoy's CPU with scraping minus the baseline, as a share of one thread's second;
 * notes give the busiest threads, the scrape rate the servers counted against the budget, and the
 * plugin's effective interval. Skipped with a note when Envoy is not installed.
 * `WAYROUTE_BENCH_SCRAPE_BUDGET=<n>` measures another `scrape.budgetPerSecond`, and
 * `WAYROUTE_BENCH_PLUGIN=<path>` another build of the plugin.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ENVOY_INSTALL_COMMAND, tryFindEnvoy } from "../../envoy/index.js";
import { MetricsPool } from "../real/metrics-pool.js";
import { measureRequests, measureStatePlane, type StatePlaneSample } from "../real/state-plane.js";
import { BenchError, type MicroResult, type MicroSuite } from "../suite.js";
import { filteredPage, vllmPage } from "./state-plane.js";

/** The plugin's default scrape budget (scrapes per second per pool; DEFAULT_SCRAPE_BUDGET in assembly/pools/config.ts). */
const DEFAULT_BUDGET = 100;

/** `WAYROUTE_BENCH_SCRAPE_BUDGET=<n>`: measure with `scrape.budgetPerSecond: n` instead of the default. */
function budgetFromEnv(): number | undefined {
  const v = process.env.WAYROUTE_BENCH_SCRAPE_BUDGET;
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new BenchError(`WAYROUTE_BENCH_SCRAPE_BUDGET=${v}: a whole number 1..10000`);
  return n;
}

function threadsNote(s: StatePlaneSample): string {
  return s.threads.slice(0, 3).map((t) => `${t.name} ${t.msPerSec.toFixed(1)}`).join(", ");
}

/** An ORCA report as vLLM sends it (TEXT form, two named metrics). */
const ORCA_REPORT = "TEXT named_metrics.num_requests_waiting=2, named_metrics.kv_cache_usage_perc=0.4";

/**
 * One ORCA report's cost in Envoy: CPU per request with every response carrying a report
 * against none (scraping off), alternating twice so drift falls on both.
 */
async function orcaRows(ctx: Parameters<MicroSuite["run"]>[0], binary: NonNullable<ReturnType<typeof tryFindEnvoy>>, wasmPath: string, pool: MetricsPool): Promise<MicroResult[]> {
  const requests = ctx.quick ? 1000 : 4000;
  const without: number[] = [];
  const withOrca: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (const orca of [false, true]) {
      pool.replyHeaders = orca ? { "endpoint-load-metrics": ORCA_REPORT } : {};
      ctx.log(`Envoy state plane: ${pool.addresses.length} endpoints, requests ${orca ? "with" : "without"} ORCA reports`);
      const s = await measureRequests({ binary, wasmPath, pool, warm: 500, requests, parallel: 4 });
      (orca ? withOrca : without).push(s.cpuMsPerRequest);
    }
  }
  pool.replyHeaders = {};
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const us = (ms: number) => (ms * 1000).toFixed(0);
  const d = mean(withOrca) - mean(without);
  return [{
    case: `Envoy 1.40: ${pool.addresses.length} endpoints, one ORCA report per response`, baseline: "no report", opsPerSec: 0,
    value: d * 1000, unit: "µs CPU/request",
    notes: `Envoy CPU per request (all threads, ${requests} requests, 4 at a time, scraping off): with a report ${withOrca.map(us).join(" / ")} µs, without ${without.map(us).join(" / ")} µs (two alternating rounds); difference of the means ${us(d)} µs`,
  }];
}

export const envoyStatePlaneSuite: MicroSuite = {
  name: "envoy-state-plane",
  description: "state plane through real Envoy 1.40 (2 workers, idle): CPU spent scraping 64 and 1,024 loopback endpoints (45 KB vLLM page, and filtered) at default settings against scraping off; scrape rate counted by the servers against the budget; at 1,024 endpoints, one ORCA report's Envoy CPU per request (responses with a report against none, scraping off)",
  async run(ctx): Promise<MicroResult[]> {
    const binary = tryFindEnvoy();
    if (!binary) throw new BenchError(`Envoy not found (install: ${ENVOY_INSTALL_COMMAND}, or set WAYROUTE_ENVOY)`);
    const wasmPath = process.env.WAYROUTE_BENCH_PLUGIN ?? join(ctx.repoRoot, "build/plugin.wasm");
    if (!existsSync(wasmPath)) throw new BenchError(`${wasmPath} is missing: run 'npm run build:wasm'`);
    const warmMs = ctx.quick ? 1500 : 3000;
    const windowMs = ctx.quick ? 4000 : 10_000;
    const budget = budgetFromEnv();
    const scrapeExtra = budget !== undefined ? { budgetPerSecond: budget } : {};
    const full = vllmPage();
    const filtered = filteredPage();
    const rows: MicroResult[] = [];
    for (const n of [64, 1024]) {
      ctx.log(`Envoy state plane: starting ${n} servers`);
      const pool = await MetricsPool.start({ count: n, page: full });
      try {
        ctx.log(`Envoy state plane: ${n} endpoints, scraping off`);
        const off = await measureStatePlane({ binary, wasmPath, pool, scrape: false, warmMs, windowMs });
        rows.push({
          case: `Envoy 1.40: ${n} endpoints, scraping off (baseline)`, baseline: "", opsPerSec: 0,
          value: off.cpuMsPerSec, unit: "ms CPU/s",
          notes: `Envoy idle, ${binary.version}, 2 workers, scrape.enabled false (ORCA-only): ${off.cpuMsPerSec.toFixed(1)} ms CPU per s (${threadsNote(off)})`,
        });
        for (const [label, filteredPageOrNone] of [["45 KB vLLM page", undefined], ["45 KB page, ?name[]= filtered", filtered]] as const) {
          pool.serve(full, filteredPageOrNone);
          ctx.log(`Envoy state plane: ${n} endpoints, ${label}`);
          const on = await measureStatePlane({ binary, wasmPath, pool, scrape: true, scrapeExtra, warmMs, windowMs });
          const share = ((on.cpuMsPerSec - off.cpuMsPerSec) / 1000) * 100;
          rows.push({
            case: `Envoy 1.40: ${n} endpoints, ${label}`, baseline: "scraping off", opsPerSec: 0,
            value: share, unit: "% of a thread",
            notes: `Envoy ${on.cpuMsPerSec.toFixed(1)} ms CPU per s scraping vs ${off.cpuMsPerSec.toFixed(1)} off = ${share.toFixed(2)} % of one thread (busiest: ${threadsNote(on)}); servers counted ${on.scrapesPerSec.toFixed(1)} scrapes/s (budget ${budget ?? DEFAULT_BUDGET}/s${budget !== undefined ? " from WAYROUTE_BENCH_SCRAPE_BUDGET" : ""}; ${(on.filteredShare * 100).toFixed(0)} % with ?name[]=), ${on.endpointsScraped}/${n} endpoints in ${(on.windowMs / 1000).toFixed(1)} s; effective interval ${on.effectiveIntervalMs ?? "?"} ms; scrape errors ${on.scrapeErrors ?? 0}; upstream_cx_overflow ${on.connectionOverflows ?? "?"}`,
          });
        }
        if (n === 1024) rows.push(...(await orcaRows(ctx, binary, wasmPath, pool)));
      } finally {
        await pool.stop();
      }
    }
    return rows;
  },
};
