/**
 * Steering in real Envoy 1.40 (two workers, two VMs, V8, loopback): the request lands on the
 * server the plugin picked, checked by the servers' own request counts against the plugin's
 * per-endpoint pick counters in Envoy's /stats/prometheus. Endpoint mode with override_host
 * (fallbacks included) and with ORIGINAL_DST + use_http_header; route mode with one cluster per
 * endpoint; spoofed client steering headers; scrapes through an Envoy cluster by one worker,
 * with both workers' picks using the results.
 */
import { afterEach, expect, it } from "vitest";
import { describeEnvoy } from "./helpers.js";
import { chat, eventually, promValues, type Stack, startStack } from "./stack.js";

/** An endpoint-mode pool scraped through its own (override_host) cluster. */
function endpointConfig(extra: Record<string, unknown> = {}, steering: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    logLevel: "info",
    pools: [
      {
        name: "pool",
        match: { pathPrefix: "/v1/" },
        endpoints: [],
        steering: { mode: "endpoint", maxEndpoints: 2, ...steering },
        scrape: { engine: "vllm", path: "/metrics", intervalMs: 100, cluster: "pool" },
        profile: { filters: [{ type: "health-filter" }], scorers: [{ type: "queue-scorer", weight: 1 }], picker: { type: "max-score-picker" } },
        ...extra,
      },
    ],
  };
}

function routeConfig(): Record<string, unknown> {
  return {
    logLevel: "info",
    pools: [
      {
        name: "pool",
        match: { pathPrefix: "/v1/" },
        endpoints: [{ backend: "model-0" }, { backend: "model-1" }],
        steering: { mode: "route", header: "x-wayroute-backend" },
        scrape: { engine: "vllm", path: "/metrics", intervalMs: 100 },
        profile: { filters: [{ type: "health-filter" }], scorers: [{ type: "queue-scorer", weight: 1 }], picker: { type: "max-score-picker" } },
      },
    ],
  };
}

async function post(base: string, headers: Record<string, string> = {}, body = chat("m", "hello")): Promise<Response> {
  return fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

/** Sends `n` requests, `parallel` at a time (separate connections spread over both workers). */
async function sendMany(base: string, n: number, parallel = 4, headers: Record<string, string> = {}): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => post(base, headers)));
    for (const r of batch) {
      statuses.push(r.status);
      await r.arrayBuffer();
    }
  }
  return statuses;
}

/** The plugin's per-endpoint pick counters, keyed by `ip:port`. */
async function picksByEndpoint(stack: Stack): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [name, v] of await promValues(stack.envoy, "wayroute_picker_pool_endpoint_")) {
    const m = /endpoint_(\d+)_(\d+)_(\d+)_(\d+)_(\d+)_picks_total$/.exec(name);
    if (m) out.set(`${m[1]}.${m[2]}.${m[3]}.${m[4]}:${m[5]}`, v);
  }
  return out;
}

describeEnvoy("steering in real Envoy", (binary) => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it("endpoint mode (override_host): each request lands on the server the plugin picked", async () => {
    stack = await startStack({ binary, config: endpointConfig() });
    const statuses = await sendMany(stack.base, 20);
    expect(statuses).toEqual(Array(20).fill(200));
    const picks = await picksByEndpoint(stack);
    for (const u of stack.upstreams) {
      expect(u.requests.length, `${u.name} served vs picked`).toBe(picks.get(u.address) ?? 0);
      // The header the server got names it first: override_host followed the plugin.
      for (const r of u.requests) expect(u.header(r, "x-gateway-destination-endpoint")?.split(",")[0]).toBe(u.address);
    }
    expect([...picks.values()].reduce((a, b) => a + b, 0)).toBe(20);
  });

  it("endpoint mode (ORIGINAL_DST + use_http_header): lands on the picked server", async () => {
    stack = await startStack({ binary, config: endpointConfig({}, { maxEndpoints: 1 }), endpointCluster: "original_dst" });
    expect(await sendMany(stack.base, 12)).toEqual(Array(12).fill(200));
    const picks = await picksByEndpoint(stack);
    for (const u of stack.upstreams) expect(u.requests.length, u.name).toBe(picks.get(u.address) ?? 0);
  });

  it("endpoint mode: a dead primary is retried on the header's fallback address", async () => {
    // No scrapes: both endpoints look the same, so ties put the dead one first about half the time.
    stack = await startStack({ binary, config: endpointConfig({ scrape: { enabled: false } }) });
    const dead = stack.upstreams[0]!;
    await dead.stop();
    expect(await sendMany(stack.base, 16)).toEqual(Array(16).fill(200));
    expect(stack.upstreams[1]!.requests.length).toBe(16);
    const retries = await stack.envoy.stat("cluster.pool.upstream_rq_retry");
    const deadFirst = stack.upstreams[1]!.requests.filter((r) => stack!.upstreams[1]!.header(r, "x-gateway-destination-endpoint")?.startsWith(dead.address)).length;
    expect(deadFirst).toBeGreaterThan(0);
    expect(retries).toBe(deadFirst);
  });

  it("route mode: header match → one cluster per endpoint; lands on the picked server", async () => {
    stack = await startStack({ binary, config: routeConfig() });
    expect(await sendMany(stack.base, 20)).toEqual(Array(20).fill(200));
    const picks = await picksByEndpoint(stack);
    const backends = (stack.config.pools as { endpoints: { backend: string; address: string }[] }[])[0]!.endpoints;
    for (const u of stack.upstreams) {
      expect(u.requests.length, `${u.name} served vs picked`).toBe(picks.get(u.address) ?? 0);
      const backend = backends.find((b) => b.address === u.address)!.backend;
      for (const r of u.requests) expect(u.header(r, "x-wayroute-backend")).toBe(backend);
    }
    // Scrapes go through the per-endpoint clusters (named like the backends here). The first
    // round is paced over the interval, so it may still be out when the requests are done.
    const s = stack;
    expect(await eventually(() => s.upstreams.every((u) => u.scrapes > 0)), `scrapes: ${s.upstreams.map((u) => u.scrapes)}`).toBe(true);
  });

  it("spoofed client steering headers never reach the upstream (endpoint mode)", async () => {
    stack = await startStack({ binary, config: endpointConfig() });
    expect(await sendMany(stack.base, 6, 2, { "x-gateway-destination-endpoint": "10.9.9.9:80" })).toEqual(Array(6).fill(200));
    for (const u of stack.upstreams) for (const r of u.requests) expect(u.header(r, "x-gateway-destination-endpoint")?.split(",")[0]).toBe(u.address);
    const m = await promValues(stack.envoy, "wayroute_picker_pool_spoofed_headers_removed_total");
    expect(m.get("wayroute_picker_pool_spoofed_headers_removed_total")).toBe(6);
  });

  it("spoofed client steering headers never reach the upstream (route mode)", async () => {
    stack = await startStack({ binary, config: routeConfig() });
    // The client names model-1; the plugin's pick (and only it) decides the route.
    expect(await sendMany(stack.base, 12, 2, { "x-wayroute-backend": "model-1" })).toEqual(Array(12).fill(200));
    const picks = await picksByEndpoint(stack);
    for (const u of stack.upstreams) expect(u.requests.length, u.name).toBe(picks.get(u.address) ?? 0);
    expect(stack.upstreams[0]!.requests.length).toBeGreaterThan(0);
    for (const r of stack.upstreams[0]!.requests) expect(stack.upstreams[0]!.header(r, "x-wayroute-backend")).toBe("model-0");
  });

  it("scrapes go through an Envoy cluster from one worker (the lease); both workers' picks use them", async () => {
    stack = await startStack({ binary, config: endpointConfig() });
    const [idle, busy] = stack.upstreams as [typeof stack.upstreams[0], typeof stack.upstreams[0]];
    busy.load = { waiting: 3, running: 2, kv: 0.2 };
    // Wait until the plugin has scraped both.
    expect(await eventually(() => idle.scrapes > 2 && busy.scrapes > 2)).toBe(true);
    const scrapesBefore = busy.scrapes;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const rounds = busy.scrapes - scrapesBefore;
    const elapsed = Date.now() - t0;
    // One scraper at 100 ms: at most one round per interval (two workers scraping would double it).
    expect(rounds).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    expect(rounds).toBeGreaterThan(0);
    // Many connections so both workers take requests; every pick must avoid the queued server.
    expect(await sendMany(stack.base, 24, 8)).toEqual(Array(24).fill(200));
    expect(busy.requests.length).toBe(0);
    expect(idle.requests.length).toBe(24);
    // Both workers (each its own VM and picker) took connections.
    const perWorker = (await stack.envoy.admin("/stats?filter=worker_[01]\\.downstream_cx_total")).body;
    const counts = [...perWorker.matchAll(/worker_(\d)\.downstream_cx_total: (\d+)/g)].map((m) => Number(m[2]));
    expect(counts, perWorker).toHaveLength(2);
    for (const c of counts) expect(c, perWorker).toBeGreaterThan(0);
  });
});
