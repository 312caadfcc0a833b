/**
 * The state plane through a real Envoy: Envoy (2 workers) with the plugin keeping one pool's
 * load state by scraping a {@link MetricsPool} on loopback, idle (no requests), at the default
 * scrape settings. One case is one Envoy run: after a warm-up, Envoy's CPU time over a fixed
 * window (from /proc, per thread), the scrapes the servers counted in that window, and the
 * plugin's own scrape gauges. Comparing a run with scraping against the same pool with
 * `scrape.enabled: false` gives what keeping state costs.
 */
import { resolve } from "node:path";
import { type EnvoyBinary, EnvoyProcess, standaloneBootstrap } from "../../envoy/index.js";
import { threadCpuMs } from "./cpu.js";
import type { MetricsPool } from "./metrics-pool.js";

/** The plugin pool's name (its metrics are `wayroute_picker_<POOL>_…`). */
export const STATE_POOL = "bench";
/** The Envoy cluster the pool is steered and scraped through. */
export const STATE_CLUSTER = "pool";

/** The plugin config: one pool over `addresses`, scraped at the defaults (engine vLLM) or not at all. */
export function statePlaneConfig(addresses: string[], scrape: boolean, extraScrape: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pools: [{
      name: STATE_POOL,
      endpoints: addresses.map((address) => ({ address })),
      scrape: scrape ? { engine: "vllm", cluster: STATE_CLUSTER, ...extraScrape } : { enabled: false, cluster: STATE_CLUSTER },
    }],
  };
}

/**
 * The Envoy bootstrap for {@link statePlaneConfig}: the generated standalone config, as users get
 * it (override_host cluster `pool`, loopback, Envoy's default circuit breakers).
 */
export function statePlaneBootstrap(pluginConfig: Record<string, unknown>, wasmPath: string): Record<string, unknown> {
  return standaloneBootstrap({ wasmPath: resolve(wasmPath), pluginConfig });
}

/** What one Envoy run measured. */
export interface StatePlaneSample {
  windowMs: number;
  /** Envoy's CPU per second of the window, all threads (ms/s). */
  cpuMsPerSec: number;
  /** Per thread name (threads of one name summed), ms/s, busiest first. */
  threads: { name: string; msPerSec: number }[];
  /** Scrapes the servers counted per second of the window. */
  scrapesPerSec: number;
  /** Share of those that asked for `?name[]=` filters. */
  filteredShare: number;
  /** Distinct endpoints scraped in the window. */
  endpointsScraped: number;
  /** The plugin's gauges and counters at the end (undefined when absent). */
  effectiveIntervalMs?: number;
  scrapeErrors?: number;
  /** Envoy's `cluster.pool.upstream_cx_overflow` at the end (connections over the circuit breaker). */
  connectionOverflows?: number;
}

/** `wayroute_picker_<pool>_<name>` from Envoy's Prometheus stats. */
async function pluginStat(envoy: EnvoyProcess, name: string): Promise<number | undefined> {
  const text = (await envoy.admin("/stats/prometheus")).body;
  const m = new RegExp(`^wayroute_picker_${STATE_POOL}_${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Starts Envoy (2 workers) with the plugin on `pool`, waits `warmMs`, measures for `windowMs`,
 * stops Envoy (also when the measurement fails).
 */
export async function measureStatePlane(o: {
  binary: EnvoyBinary;
  wasmPath: string;
  pool: MetricsPool;
  scrape: boolean;
  /** More `scrape` fields (e.g. `budgetPerSecond`) when scraping. */
  scrapeExtra?: Record<string, unknown>;
  warmMs: number;
  windowMs: number;
}): Promise<StatePlaneSample> {
  const bootstrap = statePlaneBootstrap(statePlaneConfig(o.pool.addresses, o.scrape, o.scrapeExtra), o.wasmPath);
  const envoy = await EnvoyProcess.start({ bootstrap, concurrency: 2, binary: o.binary });
  try {
    await new Promise((r) => setTimeout(r, o.warmMs));
    o.pool.reset();
    const before = threadCpuMs(envoy.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, o.windowMs));
    const after = threadCpuMs(envoy.pid);
    const windowMs = performance.now() - t0;
    const scrapes = o.pool.scrapes;
    const filtered = o.pool.filteredScrapes;
    let endpointsScraped = 0;
    for (const c of o.pool.scrapesPerEndpoint) if (c > 0) endpointsScraped++;
    const byName = new Map<string, number>();
    let total = 0;
    for (const [tid, t] of after) {
      const d = t.ms - (before.get(tid)?.ms ?? 0);
      total += d;
      byName.set(t.name, (byName.get(t.name) ?? 0) + d);
    }
    const perSec = (ms: number) => (ms * 1000) / windowMs;
    const effectiveIntervalMs = await pluginStat(envoy, "scrape_effective_interval_ms");
    const scrapeErrors = await pluginStat(envoy, "scrape_errors_total");
    const connectionOverflows = Number((await envoy.admin(`/stats?filter=^cluster\\.${STATE_CLUSTER}\\.upstream_cx_overflow$`)).body.split(":")[1] ?? NaN);
    return {
      windowMs,
      cpuMsPerSec: perSec(total),
      threads: [...byName].map(([name, ms]) => ({ name, msPerSec: perSec(ms) })).sort((a, b) => b.msPerSec - a.msPerSec),
      scrapesPerSec: (scrapes * 1000) / windowMs,
      filteredShare: scrapes ? filtered / scrapes : 0,
      endpointsScraped,
      ...(effectiveIntervalMs !== undefined ? { effectiveIntervalMs } : {}),
      ...(scrapeErrors !== undefined ? { scrapeErrors } : {}),
      ...(Number.isFinite(connectionOverflows) ? { connectionOverflows } : {}),
    };
  } finally {
    await envoy.stop();
  }
}

/** What {@link measureRequests} measured. */
export interface RequestCostSample {
  requests: number;
  /** Envoy's CPU (all threads) per request, ms. */
  cpuMsPerRequest: number;
  /** Plugin picks counted by Envoy's stats at the end. */
  picks?: number;
}

/**
 * Envoy (2 workers) with the plugin on `pool`, scraping off (load from ORCA reports and in-flight
 * counts): after `warm` requests, Envoy's CPU over `requests` more, sent `parallel` at a time.
 * The pool's `replyHeaders` decide whether each response carries an ORCA report.
 */
export async function measureRequests(o: {
  binary: EnvoyBinary;
  wasmPath: string;
  pool: MetricsPool;
  warm: number;
  requests: number;
  parallel: number;
}): Promise<RequestCostSample> {
  const bootstrap = statePlaneBootstrap(statePlaneConfig(o.pool.addresses, false), o.wasmPath);
  const envoy = await EnvoyProcess.start({ bootstrap, concurrency: 2, binary: o.binary });
  try {
    const url = `http://${envoy.listenerAddress()}/v1/chat/completions`;
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hello" }] });
    const send = async (n: number) => {
      let next = 0;
      const one = async () => {
        while (next < n) {
          next++;
          const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
          await r.text();
          if (r.status !== 200) throw new Error(`request answered ${r.status}`);
        }
      };
      await Promise.all(Array.from({ length: o.parallel }, one));
    };
    await send(o.warm);
    const before = threadCpuMs(envoy.pid);
    await send(o.requests);
    const after = threadCpuMs(envoy.pid);
    let total = 0;
    for (const [tid, t] of after) total += t.ms - (before.get(tid)?.ms ?? 0);
    const picks = await pluginStat(envoy, "picks_total");
    return { requests: o.requests, cpuMsPerRequest: total / o.requests, ...(picks !== undefined ? { picks } : {}) };
  } finally {
    await envoy.stop();
  }
}
