/**
 * The scrape budget in real Envoy 1.40 (two workers, loopback): a pool of 1,024 model-server
 * stand-ins (one process, one port each) counts the scrapes it receives, and those never exceed
 * the default budget of 100 per second in any one-second window (give or take the batches of calls
 * the plugin sends per tick, at a window boundary), while every endpoint is still
 * scraped and the plugin keeps routing. In Envoy the lease (and so every scrape) may be held by
 * the main thread's VM; the count is server side, so it does not matter which VM scrapes.
 */
import { afterEach, expect, it } from "vitest";
import { EnvoyProcess } from "../../src/envoy/index.js";
import { MetricsPool } from "../../src/bench/real/metrics-pool.js";
import { STATE_POOL, statePlaneBootstrap, statePlaneConfig } from "../../src/bench/real/state-plane.js";
import { describeEnvoy } from "./helpers.js";
import { PLUGIN, eventually, promValues } from "./stack.js";

const ENDPOINTS = 1024;
const BUDGET = 100;
/** Default scrape interval (ms). */
const INTERVAL_MS = 50;
/**
 * The lease holder's tick at this size (ms), which starts a batch of due scrapes: a quarter of the
 * 10,240 ms effective interval, at most four intervals (assembly/plugin/picker-scrape.ts tickMs).
 */
const HOLDER_TICK_MS = Math.min(Math.max((ENDPOINTS * 1000) / BUDGET / 4, INTERVAL_MS), 4 * INTERVAL_MS);

const PAGE =
  "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"m\"} 1\n" +
  "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} 2\n" +
  "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{model_name=\"m\"} 0.3\n";

/** Most arrivals in any window of `ms` (times sorted ascending). */
function maxInWindow(times: number[], ms: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= ms) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describeEnvoy("state plane in Envoy 1.40: the scrape budget at 1,024 endpoints", (binary) => {
  let envoy: EnvoyProcess | undefined;
  let pool: MetricsPool | undefined;
  afterEach(async () => {
    await envoy?.stop();
    await pool?.stop();
    envoy = undefined;
    pool = undefined;
  });

  it("servers count at most the budget per second; every endpoint is scraped; requests are still routed", async () => {
    pool = await MetricsPool.start({ count: ENDPOINTS, page: PAGE, filteredPage: PAGE, recordTimes: true, keepAliveMs: 60_000 });
    const config = statePlaneConfig(pool.addresses, true);
    envoy = await EnvoyProcess.start({ bootstrap: statePlaneBootstrap(config, PLUGIN), concurrency: 2, binary });
    const p = pool;
    const e = envoy;

    // Requests while the first round runs: each one is picked by the plugin and served by a pool server.
    const sent = 40;
    for (let i = 0; i < sent; i++) {
      const r = await fetch(`http://${e.listenerAddress()}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: `hi ${i}` }] }),
      });
      expect(r.status).toBe(200);
      expect(Number(r.headers.get("x-upstream"))).toBeGreaterThanOrEqual(0);
      await r.text();
    }

    // One round at 100/s takes 10.24 s; allow a slow machine three times that.
    const all = await eventually(() => p.scrapesPerEndpoint.every((c) => c > 0), 31_000);
    const scraped = p.scrapesPerEndpoint.filter((c) => c > 0).length;
    expect(all, `${scraped} of ${ENDPOINTS} endpoints scraped`).toBe(true);

    // The second round: every connection is open by now (the servers keep them 60 s), so arrival
    // times follow the plugin's sends without a connection setup in between.
    p.scrapeTimes.length = 0;
    const filteredBefore = p.filteredScrapes;
    await new Promise((r) => setTimeout(r, 4000));
    const times = [...p.scrapeTimes].sort((a, b) => a - b);
    const spanS = (times.at(-1)! - times[0]!) / 1000;
    const worst = maxInWindow(times, 1000);
    // The plugin holds the budget in its own clock (test/picker/state-plane.test.ts checks that
    // on a virtual clock) and sends a batch of calls per tick (budget x tick / 1 s = 20). Here
    // arrivals are timed by the servers: a tick that fires late, or a batch whose calls leave a
    // few ms apart, shifts arrivals across a window boundary. Seen at budget 200: 207-222 in the busiest
    // second with 50 ms ticks (batches of 10), up to 290 with 200 ms ticks. Allowed: three
    // batches over; and over the whole round, at most the budget per second it spans.
    const batch = (BUDGET * HOLDER_TICK_MS) / 1000;
    expect(times.length, "scrapes in the second round").toBeGreaterThan(0);
    expect(worst, `busiest second: ${worst} scrapes (${times.length} over ${spanS.toFixed(1)} s)`).toBeLessThanOrEqual(BUDGET + 3 * batch);
    // A sliding one-second window admits at most the budget in each second the span starts
    // (a plugin catching up after the first round's connection setup sends at that rate).
    expect(times.length, `scrapes over the round (${spanS.toFixed(2)} s)`).toBeLessThanOrEqual(BUDGET * Math.ceil(spanS) + batch);
    // The filter was asked for (vLLM's default).
    expect(p.filteredScrapes - filteredBefore).toBe(times.length);

    const stats = await promValues(e, `wayroute_picker_${STATE_POOL}_`);
    expect(stats.get(`wayroute_picker_${STATE_POOL}_scrape_effective_interval_ms`)).toBe((ENDPOINTS * 1000) / BUDGET);
    expect(stats.get(`wayroute_picker_${STATE_POOL}_picks_total`)).toBe(sent);
    expect(stats.get(`wayroute_picker_${STATE_POOL}_fail_open_total`) ?? 0).toBe(0);
    expect(p.requests).toBe(sent);

    // And after the scrapes, the plugin still routes.
    const r = await fetch(`http://${e.listenerAddress()}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "after" }] }),
    });
    expect(r.status).toBe(200);
    await r.text();
    expect(p.requests).toBe(sent + 1);
  }, 90_000);
});
