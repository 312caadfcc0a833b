/**
 * The endpoint picker through the real plugin.wasm in the Envoy-faithful harness: scraping,
 * each scorer's effect, prefix affinity across workers, shedding, stale metrics, passive health,
 * LoRA affinity, locality spillover, header spoofing, failure modes, in-flight accounting and
 * scrape-lease takeover.
 */
import { describe, expect, it } from "vitest";
import { ADDRS, FakePool, chat, metric, pickerHost, poolConfig, scrapeRound, steering } from "./helpers.js";
import { MAIN_THREAD } from "../../src/index.js";

const H = "x-gateway-destination-endpoint";

describe("scrape → pick → served", () => {
  it("steers to the least loaded endpoint with fallbacks, from scraped vLLM metrics", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { waiting: 4, kv: 0.5 });
    pool.set(ADDRS[1], { waiting: 0, kv: 0.1 });
    pool.set(ADDRS[2], { waiting: 2, kv: 0.3 });
    const host = await pickerHost(poolConfig(), pool, 2);
    expect(host.configured).toBe(true);
    await scrapeRound(host);
    expect(pool.scrapes.length).toBeGreaterThanOrEqual(3);
    // vLLM serves /metrics with prometheus_client: only the wanted series are asked for.
    expect(pool.scrapes[0].path).toMatch(/^\/metrics\?name%5B%5D=vllm%3Anum_requests_waiting&/);
    for (const w of [0, 1]) {
      const r = await host.request({ worker: w, headers: { ":path": "/v1/models" } });
      expect(r.response.status).toBe(200);
      expect(steering(r)).toBe(`${ADDRS[1]},${ADDRS[2]},${ADDRS[0]}`);
    }
    // Only one worker scrapes (the lease holder).
    expect(new Set(pool.scrapes.map((s) => s.worker)).size).toBe(1);
    expect(metric(host, "wayroute_picker_llm_picks_total")).toBe(2);
    expect(metric(host, "wayroute_picker_llm_endpoint_10_0_0_2_8000_picks_total")).toBe(2);
    expect(host.traps).toEqual([]);
  });

  it("follows load changes on the next scrape", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { waiting: 0 });
    pool.set(ADDRS[1], { waiting: 3 });
    pool.set(ADDRS[2], { waiting: 3 });
    const host = await pickerHost(poolConfig({ steering: { maxEndpoints: 1 } }), pool);
    await scrapeRound(host);
    expect(steering(await host.request({}))).toBe(ADDRS[0]);
    pool.set(ADDRS[0], { waiting: 4 });
    pool.set(ADDRS[2], { waiting: 1 });
    await scrapeRound(host);
    expect(steering(await host.request({}))).toBe(ADDRS[2]);
  });
});

describe("scorers on a small pool", () => {
  it("kv-cache scorer: equal queues, the emptier cache wins", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { kv: 0.7 });
    pool.set(ADDRS[1], { kv: 0.2 });
    pool.set(ADDRS[2], { kv: 0.5 });
    const host = await pickerHost(poolConfig({ steering: { maxEndpoints: 1 }, profile: { scorers: [{ type: "kv-cache-utilization-scorer", weight: 1 }] } }), pool);
    await scrapeRound(host);
    expect(steering(await host.request({}))).toBe(ADDRS[1]);
  });

  it("queue scorer alone ignores KV use", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { waiting: 1, kv: 0.0 });
    pool.set(ADDRS[1], { waiting: 0, kv: 0.7 });
    pool.set(ADDRS[2], { waiting: 2, kv: 0.0 });
    const host = await pickerHost(poolConfig({ steering: { maxEndpoints: 1 }, profile: { scorers: [{ type: "queue-scorer", weight: 1 }] } }), pool);
    await scrapeRound(host);
    expect(steering(await host.request({}))).toBe(ADDRS[1]);
  });

  it("in-flight scorer spreads concurrent requests (counts shared by all workers)", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(
      { pools: [{ name: "llm", endpoints: ADDRS.map((address) => ({ address })), steering: { maxEndpoints: 1 }, profile: { scorers: [{ type: "in-flight-scorer", weight: 1 }] } }] },
      pool,
      3,
    );
    // Three streams held open on three workers: each must get a different endpoint.
    const picks: string[] = [];
    const streams = [0, 1, 2].map((w) => host.worker(w).newStream());
    for (const s of streams) {
      s.requestHeaders({ ":method": "GET", ":path": "/", ":authority": "a", ":scheme": "http" }, true);
      picks.push(s.forwardedRequest?.headers.get(H) ?? "");
    }
    expect(new Set(picks).size).toBe(3);
    expect(host.traps).toEqual([]);
  });

  it("session affinity: the same session key keeps its endpoint", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(
      {
        pools: [{
          name: "llm", endpoints: ADDRS.map((address) => ({ address })), steering: { maxEndpoints: 1 },
          sessionAffinity: { header: "x-session-id", cookie: "sid" },
          profile: { scorers: [{ type: "session-affinity-scorer", weight: 10 }, { type: "in-flight-scorer", weight: 1 }] },
        }],
      },
      pool,
      2,
    );
    const first = steering(await host.request({ headers: { "x-session-id": "alice" } }));
    for (let i = 0; i < 6; i++) {
      expect(steering(await host.request({ headers: { "x-session-id": "alice" } }))).toBe(first);
    }
    const viaCookie = steering(await host.request({ headers: { cookie: "a=b; sid=alice" } }));
    expect(viaCookie).toBe(first);
    const others = new Set<string | undefined>();
    for (let i = 0; i < 12; i++) others.add(steering(await host.request({ headers: { "x-session-id": `user-${i}` } })));
    expect(others.size).toBeGreaterThan(1);
  });

  it("LoRA affinity: the server with the adapter active wins, then one with a free slot", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { loras: { running: ["other"], waiting: [], max: 1 } });
    pool.set(ADDRS[1], { loras: { running: ["sql-lora"], waiting: [], max: 1 } });
    pool.set(ADDRS[2], { loras: { running: [], waiting: [], max: 2 } });
    const gateway = "spiffe://cluster.local/ns/gw/sa/gateway";
    const host = await pickerHost(
      {
        ...poolConfig({ steering: { maxEndpoints: 3 }, profile: { scorers: [{ type: "lora-affinity-scorer", weight: 1 }] } }),
        steering: { trustedCallers: [{ properties: [{ path: "source.principal", equals: gateway }] }] },
      },
      pool,
    );
    await scrapeRound(host);
    // The model is known at header time when a trusted gateway in front names it.
    const trusted = { properties: { source: { principal: gateway } } };
    const r = await host.request({ body: chat("hello", "sql-lora"), headers: { "x-gateway-model-name": "sql-lora", "content-type": "application/json" }, ...trusted });
    expect(steering(r)).toBe(`${ADDRS[1]},${ADDRS[2]},${ADDRS[0]}`);
    const base = await host.request({ body: chat("hello", "new-lora"), headers: { "x-gateway-model-name": "new-lora", "content-type": "application/json" }, ...trusted });
    expect(steering(base)?.split(",")[0]).toBe(ADDRS[2]);
  });
});

function longPrompt(seed: string): string {
  let s = "";
  for (let i = 0; i < 40; i++) s += `${seed} block ${i} `.padEnd(64, ".");
  return s;
}

describe("prefix affinity", () => {
  it("a prompt learned on one worker is known to the index of another worker", async () => {
    // Stock Envoy (ABI 0.2.x) does not let a plugin change request headers once the body can be
    // read, so the body-time (prefix-aware) pick can only re-steer on hosts that allow it. What
    // must hold everywhere: the prompt is learned for the endpoint it went to, on every worker,
    // and the body-time decision (shown by the explanation) prefers that endpoint.
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig({ steering: { maxEndpoints: 1 }, debug: { explain: true } }), pool, 2);
    await scrapeRound(host);
    const prompt = longPrompt("shared system prompt");
    const json = { "content-type": "application/json" };
    const first = steering(await host.request({ worker: 0, body: chat(prompt), headers: json }));
    expect(ADDRS).toContain(first);
    const journal = host.sharedData.get("", "wayroute.picker/wayroute/llm/pj/seq");
    expect(journal).toBeDefined();
    // The learned endpoint is now a little busier: prefix (weight 3) still outweighs queue (weight 2).
    pool.set(first!, { waiting: 1, kv: 0.1 });
    await scrapeRound(host);
    const second = await host.request({ worker: 1, body: chat(prompt + " and a follow-up question"), headers: json });
    const explain = second.response.headers.get("x-wayroute-explain") ?? "";
    expect(explain.startsWith(`pick=${first} | ${first} `)).toBe(true);
    // 2,564 prompt bytes: 10 full 256-byte blocks and a partial one, which the follow-up changes.
    expect(explain).toMatch(new RegExp(`${first!.replace(/\./g, "\\.")} t=[0-9.]+ queue=0 kv-cache-utilization=0\\.9 prefix-cache=0\\.909`));
    // An unrelated prompt has no prefix anywhere.
    const fresh = await host.request({ worker: 1, body: chat(longPrompt("unrelated")), headers: json });
    expect(fresh.response.headers.get("x-wayroute-explain")).not.toContain("prefix-cache=1");
    expect(host.traps).toEqual([]);
  });
});

describe("saturation and shedding", () => {
  const cfg = poolConfig({ priority: { default: 0, models: { batch: -1 } } });

  it("sheds sheddable requests with 429 while the pool's mean saturation is >= 1; others get 200", async () => {
    const pool = new FakePool(ADDRS);
    for (const a of ADDRS) pool.set(a, { waiting: 9, kv: 0.95 });
    const host = await pickerHost(cfg, pool);
    await scrapeRound(host);
    const shed = await host.request({ body: chat("x", "batch"), headers: { "content-type": "application/json" } });
    expect(shed.response.status).toBe(429);
    expect(shed.upstreamCalled).toBe(false);
    const ok = await host.request({ body: chat("x", "m"), headers: { "content-type": "application/json" } });
    expect(ok.response.status).toBe(200);
    expect(steering(ok)).toBeDefined();
    expect(metric(host, "wayroute_picker_llm_shed_total")).toBe(1);
    // One endpoint frees up but the mean is still (1.8 + 1.8 + 0.125) / 3 >= 1: still shed (the
    // EPP's rule). The others drop below their thresholds: traffic flows again, to the free one.
    pool.set(ADDRS[2], { waiting: 0, kv: 0.1 });
    await scrapeRound(host);
    expect((await host.request({ body: chat("x", "batch"), headers: { "content-type": "application/json" } })).response.status).toBe(429);
    pool.set(ADDRS[0], { waiting: 4, kv: 0.5 });
    pool.set(ADDRS[1], { waiting: 4, kv: 0.5 });
    await scrapeRound(host);
    const again = await host.request({ body: chat("x", "batch"), headers: { "content-type": "application/json" } });
    expect(again.response.status).toBe(200);
    expect(steering(again)?.split(",")[0]).toBe(ADDRS[2]);
  });

  it("stale metrics count as saturated", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(cfg, pool);
    await scrapeRound(host);
    expect((await host.request({ body: chat("x", "batch"), headers: { "content-type": "application/json" } })).response.status).toBe(200);
    for (const a of ADDRS) pool.set(a, { fail: 500 });
    await host.advance(400);
    await host.settle();
    const r = await host.request({ body: chat("x", "batch"), headers: { "content-type": "application/json" } });
    expect(r.response.status).toBe(429);
    expect(metric(host, "wayroute_picker_llm_stale_endpoints")).toBe(3);
    expect(metric(host, "wayroute_picker_llm_scrape_errors_total")).toBeGreaterThan(0);
  });

  it("only trusted callers may lower or raise priority by header", async () => {
    const pool = new FakePool(ADDRS);
    for (const a of ADDRS) pool.set(a, { waiting: 9 });
    const host = await pickerHost(
      poolConfig({ trustedCallers: [{ property: "source.address", prefix: "10.1." }] }),
      pool,
    );
    await scrapeRound(host);
    const untrusted = await host.request({ headers: { "x-wayroute-priority": "-1" }, sourceAddress: "192.168.0.9:5000" });
    expect(untrusted.response.status).toBe(200);
    const trusted = await host.request({ headers: { "x-wayroute-priority": "-1" }, sourceAddress: "10.1.0.7:5000" });
    expect(trusted.response.status).toBe(429);
  });
});

describe("passive health", () => {
  it("ejects an endpoint after consecutive 5xx and brings it back after the backoff", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { waiting: 0 });
    pool.set(ADDRS[1], { waiting: 3 });
    pool.set(ADDRS[2], { waiting: 3 });
    const host = await pickerHost(poolConfig({ steering: { maxEndpoints: 1 }, health: { failureThreshold: 3, baseEjectionMs: 1000 } }), pool, 2);
    await scrapeRound(host);
    for (let i = 0; i < 3; i++) {
      const r = await host.request({ upstream: { status: 503 } });
      expect(steering(r)).toBe(ADDRS[0]);
    }
    expect(metric(host, "wayroute_picker_llm_ejections_total")).toBe(1);
    // Both workers now avoid it.
    for (const w of [0, 1]) expect(steering(await host.request({ worker: w }))).not.toBe(ADDRS[0]);
    await host.advance(1100);
    await host.settle();
    expect(steering(await host.request({}))).toBe(ADDRS[0]);
  });

  it("FailClose replies 503 when every endpoint is ejected; FailOpen hands over to the proxy", async () => {
    for (const mode of ["FailClose", "FailOpen"] as const) {
      const pool = new FakePool(ADDRS.slice(0, 1));
      const host = await pickerHost(poolConfig({ failureMode: mode, health: { failureThreshold: 1 } }, ADDRS.slice(0, 1)), pool);
      await scrapeRound(host);
      await host.request({ upstream: { status: 500 } });
      const r = await host.request({});
      if (mode === "FailClose") {
        expect(r.response.status).toBe(503);
        expect(r.upstreamCalled).toBe(false);
        expect(metric(host, "wayroute_picker_llm_unavailable_total")).toBe(1);
      } else {
        expect(r.response.status).toBe(200);
        expect(steering(r)).toBeUndefined();
        expect(metric(host, "wayroute_picker_llm_fail_open_total")).toBe(1);
      }
    }
  });
});

describe("locality", () => {
  it("prefers the local zone and spills over when it is saturated", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(
      {
        pools: [{
          name: "llm",
          endpoints: [
            { address: ADDRS[0], zone: "a" },
            { address: ADDRS[1], zone: "b" },
            { address: ADDRS[2], zone: "b" },
          ],
          scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 },
          steering: { maxEndpoints: 1 },
          locality: { zone: "a" },
          profile: { filters: [{ type: "health-filter" }, { type: "locality-filter" }] },
        }],
      },
      pool,
    );
    pool.set(ADDRS[0], { waiting: 3 });
    await scrapeRound(host);
    expect(steering(await host.request({}))).toBe(ADDRS[0]);
    pool.set(ADDRS[0], { waiting: 6 });
    await scrapeRound(host);
    expect(steering(await host.request({}))).not.toBe(ADDRS[0]);
  });
});

describe("steering header hygiene and route mode", () => {
  it("removes a client-supplied steering header", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig({ match: { pathPrefix: "/v1/" } }), pool);
    await scrapeRound(host);
    const outside = await host.request({ headers: { ":path": "/other", [H]: "6.6.6.6:80" } });
    expect(steering(outside)).toBeUndefined();
    const inside = await host.request({ headers: { ":path": "/v1/x", [H]: "6.6.6.6:80" } });
    expect(steering(inside)).not.toContain("6.6.6.6");
    expect(metric(host, "wayroute_picker_llm_spoofed_headers_removed_total")).toBe(2);
  });

  it("route mode sets the backend header and clears the route cache", async () => {
    const pool = new FakePool([]);
    const host = await pickerHost(
      { pools: [{ name: "llm", steering: { mode: "route" }, endpoints: [{ backend: "qwen-0" }, { backend: "qwen-1" }] }] },
      pool,
    );
    const r = await host.request({ headers: { "x-wayroute-backend": "spoofed" } });
    expect(["qwen-0", "qwen-1"]).toContain(r.request!.headers.get("x-wayroute-backend"));
    expect(r.clearRouteCacheCount).toBe(1);
  });

  it("scrapes each endpoint through the cluster its clusterTemplate names", async () => {
    const { ProxyWasmHost } = await import("../../src/host/index.js");
    const { pluginModule, vllmMetrics } = await import("./helpers.js");
    const endpoints = [
      { backend: "m-0", address: "10.0.0.1:8000" },
      { backend: "m-1", address: "[fd00::2]:8001" },
      { backend: "m-2" },
    ];
    // Every placeholder once; {ip} twice (only the first is replaced, as String#replace does).
    const template = "outbound|{port}||{backend}.llm.svc.cluster.local|{ip}|{address}|{ip}";
    const expected = [
      "outbound|8000||m-0.llm.svc.cluster.local|10.0.0.1|10.0.0.1:8000|{ip}",
      "outbound|8001||m-1.llm.svc.cluster.local|fd00::2|[fd00::2]:8001|{ip}",
      "outbound|||m-2.llm.svc.cluster.local|||{ip}",
    ];
    const scraped = new Set<string>();
    const clusters: Record<string, (r: { cluster: string }) => { status: number; body: string }> = {};
    for (const name of expected) {
      clusters[name] = (r) => {
        scraped.add(r.cluster);
        return { status: 200, body: vllmMetrics({}) };
      };
    }
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      rootId: "wayroute",
      pluginConfig: { pools: [{ name: "llm", steering: { mode: "route" }, endpoints, scrape: { engine: "vllm", intervalMs: 50, clusterTemplate: template } }] },
      clusters,
    });
    expect(host.configured).toBe(true);
    await scrapeRound(host);
    expect([...scraped].sort()).toEqual([...expected].sort());
    expect(metric(host, "wayroute_picker_llm_scrape_errors_total")).toBe(0);
    host.close();
  });

  it("explains the decision in a debug header", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig({ debug: { explain: true } }), pool);
    await scrapeRound(host);
    const r = await host.request({});
    const e = r.response.headers.get("x-wayroute-explain") ?? "";
    expect(e).toMatch(/^pick=10\.0\.0\.\d:8000/);
    expect(e).toContain("queue=");
    expect(e).toContain("prefix-cache=");
  });
});

describe("in-flight accounting", () => {
  it("returns to zero after every stream ends: upstream reply, error, local reply, reset", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig({ priority: { models: { batch: -1 } } }), pool, 2);
    await scrapeRound(host);
    await host.request({ worker: 0 });
    await host.request({ worker: 1, upstream: { status: 502 } });
    // A reset stream: request sent, then the downstream goes away.
    const s = host.worker(0).newStream();
    s.requestHeaders({ ":method": "GET", ":path": "/", ":authority": "a", ":scheme": "http" }, true);
    expect(s.forwardedRequest?.headers.get(H)).toBeDefined();
    const mid = host.sharedData.get("", "wayroute.picker/wayroute/llm/inflight");
    expect(mid?.value.length).toBe(12);
    s.reset("downstream reset");
    await host.settle();
    for (const a of ADDRS) pool.set(a, { waiting: 9 });
    await scrapeRound(host);
    const shed = await host.request({ body: chat("x", "batch"), headers: { "content-type": "application/json" } });
    expect(shed.response.status).toBe(429);
    const end = host.sharedData.get("", "wayroute.picker/wayroute/llm/inflight");
    expect(end?.value.length ?? 0).toBe(0);
  });
});

describe("scrape lease", () => {
  it("a worker takes over scraping when the holder's VM dies", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig({ scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, leaseMs: 200 } }), pool, 3);
    await scrapeRound(host);
    const holder = pool.scrapes[0].worker;
    // As in Envoy, the main thread's VM ticks first and holds the lease.
    expect(holder).toBe(MAIN_THREAD);
    expect(new Set(pool.scrapes.map((s) => s.worker))).toEqual(new Set([holder]));
    host.mainThread!.vm!.failed = true; // as after a trap in its tick
    pool.scrapes = [];
    await host.advance(300);
    await host.settle();
    await host.advance(100);
    await host.settle();
    const after = new Set(pool.scrapes.map((s) => s.worker));
    expect(after.size).toBe(1);
    expect(after.has(holder)).toBe(false);
    // Fresh metrics keep flowing to the surviving workers.
    pool.set(ADDRS[2], { waiting: 0 });
    pool.set(ADDRS[0], { waiting: 4 });
    pool.set(ADDRS[1], { waiting: 4 });
    await scrapeRound(host);
    const w = [0, 1, 2].find((i) => i !== holder)!;
    expect(steering(await host.request({ worker: w }))?.split(",")[0]).toBe(ADDRS[2]);
  });
});

describe("pickers through the plugin", () => {
  it("weighted-random and power-of-two pickers spread load in score order", async () => {
    for (const type of ["weighted-random-picker", "power-of-two-picker"]) {
      const pool = new FakePool(ADDRS);
      pool.set(ADDRS[0], { waiting: 0, kv: 0 });
      pool.set(ADDRS[1], { waiting: 3, kv: 0.5 }); // total 0.25 + 0.5 = 0.75
      pool.set(ADDRS[2], { waiting: 4, kv: 0.9 }); // total 0 + 0.1 = 0.1 (endpoint 0: 2)
      const host = await pickerHost(
        poolConfig({ steering: { maxEndpoints: 1 }, profile: { scorers: [{ type: "queue-scorer", weight: 1 }, { type: "kv-cache-utilization-scorer", weight: 1 }], picker: { type } } }),
        pool,
      );
      await scrapeRound(host);
      const counts = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const s = steering(await host.request({}))!;
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      const [c0, c1, c2] = ADDRS.map((a) => counts.get(a) ?? 0);
      expect(c0, type).toBeGreaterThan(c1);
      expect(c1, type).toBeGreaterThan(0);
      // Power of two never picks the worst (it loses every pairing); weighted random rarely does.
      if (type === "power-of-two-picker") expect(c2, type).toBe(0);
      else expect(c2, type).toBeLessThan(c1);
    }
  });

  it("the locality defaults to the proxy's node locality", async () => {
    const pool = new FakePool(ADDRS);
    const host = await (await import("../../src/host/index.js")).ProxyWasmHost.create({
      module: await (await import("./helpers.js")).pluginModule(),
      rootId: "wayroute",
      properties: { node: { id: "n", cluster: "c", metadata: {}, locality: { zone: "b" } } },
      pluginConfig: {
        pools: [{
          name: "llm",
          endpoints: [{ address: ADDRS[0], zone: "a" }, { address: ADDRS[1], zone: "b" }, { address: ADDRS[2], zone: "a" }],
          scrape: { engine: "vllm", cluster: "pool" },
          steering: { maxEndpoints: 1 },
          profile: { filters: [{ type: "locality-filter" }] },
        }],
      },
      clusters: { pool: pool.handler },
    });
    pool.set(ADDRS[1], { waiting: 4 });
    await scrapeRound(host);
    expect(steering(await host.request({}))).toBe(ADDRS[1]);
  });
});

describe("examples end to end", () => {
  it("waypoint route mode: per-backend scrape clusters, locality, backend header + route cache", async () => {
    const { readFileSync } = await import("node:fs");
    const { ProxyWasmHost } = await import("../../src/host/index.js");
    const { pluginModule, vllmMetrics } = await import("./helpers.js");
    const { repoRoot } = await import("../build/wasm-files.js");
    const cfg = JSON.parse(readFileSync(`${repoRoot}/examples/configs/waypoint-route-mode.json`, "utf8"));
    const loads: Record<string, number> = { "qwen-0": 4, "qwen-1": 1, "qwen-2": 0, "qwen-3": 0 };
    const clusters: Record<string, (r: { cluster: string }) => { status: number; body: string }> = {};
    const scraped: string[] = [];
    for (const b of Object.keys(loads)) {
      clusters[`inbound-vip|8000|http|${b}.llm.svc.cluster.local`] = (r) => {
        scraped.push(r.cluster);
        return { status: 200, body: vllmMetrics({ waiting: loads[b] }) };
      };
    }
    const host = await ProxyWasmHost.create({ module: await pluginModule(), rootId: "wayroute", pluginConfig: cfg, clusters, workers: 2 });
    expect(host.configured).toBe(true);
    await host.advance(120);
    await host.settle();
    await host.advance(120);
    await host.settle();
    expect(new Set(scraped).size).toBe(4);
    const r = await host.request({ headers: { ":authority": "qwen.llm.svc.cluster.local", "x-wayroute-backend": "qwen-3" } });
    // Local zone eu-west1-b holds qwen-0 and qwen-1; qwen-1 is less loaded. The spoofed value is gone.
    expect(r.request!.headers.get("x-wayroute-backend")).toBe("qwen-1");
    expect(r.clearRouteCacheCount).toBe(1);
    // Local zone saturated (queue >= 5): spill over to the other zones.
    loads["qwen-0"] = 6;
    loads["qwen-1"] = 7;
    await host.advance(120);
    await host.settle();
    await host.advance(120);
    await host.settle();
    const s = await host.request({ headers: { ":authority": "qwen.llm.svc.cluster.local" } });
    expect(["qwen-2", "qwen-3"]).toContain(s.request!.headers.get("x-wayroute-backend"));
    expect(host.traps).toEqual([]);
  });
});

describe("gie-default example", () => {
  it("endpoint mode with the GIE default profile over three scraped vLLM servers", async () => {
    const { readFileSync } = await import("node:fs");
    const { ProxyWasmHost } = await import("../../src/host/index.js");
    const { pluginModule } = await import("./helpers.js");
    const { repoRoot } = await import("../build/wasm-files.js");
    const cfg = JSON.parse(readFileSync(`${repoRoot}/examples/configs/gie-default.json`, "utf8"));
    const addrs = ["10.0.1.10:8000", "10.0.1.11:8000", "10.0.1.12:8000"];
    const pool = new FakePool(addrs);
    pool.set(addrs[0], { waiting: 3, kv: 0.6 });
    pool.set(addrs[1], { waiting: 1, kv: 0.2 });
    pool.set(addrs[2], { waiting: 2, kv: 0.1 });
    const host = await ProxyWasmHost.create({ module: await pluginModule(), rootId: "wayroute", pluginConfig: cfg, clusters: { "llama-3-8b-pool": pool.handler } });
    await scrapeRound(host);
    const r = await host.request({ headers: { ":path": "/v1/chat/completions" } });
    // queue: 0, 1, 0.5; kv: 0.4, 0.8, 0.9 → totals 0.8, 3.6, 2.8 (weights 2 and 2).
    expect(steering(r)).toBe(`${addrs[1]},${addrs[2]}`);
    const other = await host.request({ headers: { ":path": "/healthz" } });
    expect(steering(other)).toBeUndefined();
  });
});

describe("reconfigure", () => {
  it("a reconfigured VM keeps the scrape lease (no stale gap)", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig({ scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, leaseMs: 5000 } }), pool);
    await scrapeRound(host);
    const vm = host.worker(0).vm as unknown as { call(name: string, ...args: number[]): unknown; rootContextId: number; configuring: boolean };
    const len = Buffer.byteLength(JSON.stringify(poolConfig({ scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, leaseMs: 5000 } })));
    // Envoy calls proxy_on_configure again on the same root context when the config changes.
    vm.configuring = true;
    expect(vm.call("proxy_on_configure", vm.rootContextId, vm.rootContextId, len)).toBe(1);
    vm.configuring = false;
    pool.scrapes = [];
    await host.advance(120);
    await host.settle();
    expect(pool.scrapes.length).toBeGreaterThanOrEqual(3);
  });
});
