/**
 * Admission and health in real Envoy 1.40: 429 for a sheddable request while the pool is
 * saturated, passive ejection after 5xx, 503 (FailClose) when no endpoint is left, FailOpen
 * handing the request to Envoy's own load balancer, ORCA response headers feeding the picker, and
 * the plugin's counters in Envoy's /stats/prometheus.
 */
import { afterEach, expect, it } from "vitest";
import { describeEnvoy } from "./helpers.js";
import { chat, eventually, promValues, type Stack, startStack } from "./stack.js";

function config(pool: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    logLevel: "info",
    pools: [
      {
        name: "pool",
        match: { pathPrefix: "/v1/" },
        endpoints: [],
        steering: { mode: "endpoint", maxEndpoints: 1 },
        failureMode: "FailClose",
        scrape: { engine: "vllm", path: "/metrics", intervalMs: 100, cluster: "pool" },
        profile: { filters: [{ type: "health-filter" }], scorers: [{ type: "queue-scorer", weight: 1 }], picker: { type: "max-score-picker" } },
        saturation: { queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8, metricsStalenessMs: 2000 },
        priority: { default: 0, objectives: { batch: -1 }, models: { "batch-model": -1 } },
        trustedCallers: [{ property: "source.address", prefix: "127.0.0.1" }],
        health: { failureThreshold: 2, baseEjectionMs: 30000, maxEjectionMs: 60000 },
        ...pool,
      },
    ],
  };
}

async function post(base: string, headers: Record<string, string> = {}, model = "m"): Promise<{ status: number; body: string; headers: Headers }> {
  const r = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: chat(model, "hi") });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

const metric = async (stack: Stack, name: string) => (await promValues(stack.envoy, `wayroute_picker_pool_${name}`)).get(`wayroute_picker_pool_${name}`) ?? 0;

describeEnvoy("admission and health in real Envoy", (binary) => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it("sheds a sheddable request with 429 while the pool is saturated; others still route", async () => {
    stack = await startStack({ binary, config: config() });
    for (const u of stack.upstreams) u.load = { waiting: 7, running: 4, kv: 0.5 };
    await eventually(() => stack!.upstreams.every((u) => u.scrapes > 2));
    const shed = await post(stack.base, { "x-gateway-inference-objective": "batch" });
    expect(shed.status).toBe(429);
    expect(shed.body).toBe("request shed: pool pool is saturated\n");
    expect((await post(stack.base)).status).toBe(200);
    // Sheddable by the body's model: decided after the headers left (headers-only mode).
    const byModel = await post(stack.base, {}, "batch-model");
    console.log(`[envoy] sheddable model (read from the body, headers already continued): status ${byModel.status}, upstream requests ${stack.upstreams.reduce((n, u) => n + u.requests.length, 0)}`);
    expect(byModel.status).toBe(429);
    expect(await metric(stack, "shed_total")).toBe(2);
    // The shed requests never reached a server.
    expect(stack.upstreams.reduce((n, u) => n + u.requests.length, 0)).toBe(1);
  });

  it("passive ejection after 5xx: the failing server gets no more picks", async () => {
    stack = await startStack({ binary, config: config() });
    const [bad, good] = stack.upstreams as [Stack["upstreams"][0], Stack["upstreams"][0]];
    bad.status = 500;
    for (let i = 0; i < 16; i++) await post(stack.base);
    expect(bad.requests.length).toBe(2); // failureThreshold
    expect(good.requests.length).toBe(14);
    expect(await metric(stack, "ejections_total")).toBe(1);
  });

  it("no endpoint left, FailClose: 503 from the plugin", async () => {
    stack = await startStack({ binary, config: config() });
    for (const u of stack.upstreams) u.status = 500;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(stack.base)).status);
    expect(statuses).toEqual([500, 500, 500, 500, 503, 503]);
    const r = await post(stack.base);
    expect(r.body).toBe("no eligible endpoint in pool pool\n");
    expect(r.headers.get("content-type")).toBe("text/plain");
    expect(await metric(stack, "unavailable_total")).toBe(3);
  });

  it("no endpoint left, FailOpen: Envoy's own load balancer takes the request", async () => {
    stack = await startStack({ binary, config: config({ failureMode: "FailOpen" }) });
    for (const u of stack.upstreams) u.status = 500;
    for (let i = 0; i < 4; i++) await post(stack.base);
    const before = stack.upstreams.reduce((n, u) => n + u.requests.length, 0);
    const r = await post(stack.base);
    expect(r.status).toBe(500); // from a server, not from the plugin
    expect(r.headers.get("x-upstream")).toMatch(/^up-/);
    expect(stack.upstreams.reduce((n, u) => n + u.requests.length, 0)).toBe(before + 1);
    expect(await metric(stack, "fail_open_total")).toBeGreaterThanOrEqual(1);
  });

  it("ORCA load in a response header steers the next picks (no scrapes)", async () => {
    stack = await startStack({ binary, config: config({ scrape: { enabled: false } }) });
    const [a, b] = stack.upstreams as [Stack["upstreams"][0], Stack["upstreams"][0]];
    // Only `a` reports load, and a queue of 4. Until it has served once, ties are random; after
    // that every pick (both workers share the report) avoids it.
    a.responseHeaders = { "endpoint-load-metrics": "TEXT named_metrics.num_requests_waiting=4, named_metrics.kv_cache_usage_perc=0.5" };
    for (let i = 0; i < 40 && a.requests.length === 0; i++) await post(stack.base, { connection: "close" });
    expect(a.requests.length).toBeGreaterThan(0);
    const aBefore = a.requests.length;
    for (let i = 0; i < 10; i++) await post(stack.base);
    expect(a.requests.length).toBe(aBefore);
  });

  it("the plugin's counters in /stats/prometheus match what happened", async () => {
    stack = await startStack({ binary, config: config() });
    for (let i = 0; i < 7; i++) expect((await post(stack.base)).status).toBe(200);
    const m = await promValues(stack.envoy, "wayroute_picker_pool_");
    expect(m.get("wayroute_picker_pool_picks_total")).toBe(7);
    const perEndpoint = [...m].filter(([k]) => /_endpoint_.*_picks_total$/.test(k)).map(([, v]) => v);
    expect(perEndpoint.reduce((a, b) => a + b, 0)).toBe(7);
    for (const name of ["shed_total", "unavailable_total", "fail_open_total", "ejections_total", "scrape_errors_total", "malformed_inputs_total"]) {
      expect(m.get(`wayroute_picker_pool_${name}`), name).toBe(0);
    }
  });
});
