/**
 * Untrusted inputs of the picker through the real plugin.wasm: scraped metrics text, ORCA
 * response headers, endpoint-feed JSON (fast-check fuzzing: never a trap, malformed input
 * ignored and counted), plus the pools config against its JSON Schema and the examples.
 */
import Ajv2020 from "ajv/dist/2020.js";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { repoRoot } from "../build/wasm-files.js";
import { ADDRS, FakePool, metric, pickerHost, pluginModule, poolConfig, scrapeRound, steering } from "./helpers.js";
import { sharedLoad } from "./load-state.js";

const FUZZ_RUNS = 60;

describe("scraped metrics text", () => {
  it("arbitrary bodies never trap; malformed lines are counted", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig(), pool);
    const body = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.array(
        fc.tuple(
          fc.constantFrom("vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:lora_requests_info", "x{", "#", ""),
          fc.string({ maxLength: 30 }),
          fc.oneof(fc.double().map(String), fc.string({ maxLength: 8 })),
        ).map(([n, l, v]) => `${n}${l} ${v}`),
        { maxLength: 20 },
      ).map((ls) => ls.join("\n")),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        for (const a of ADDRS) pool.set(a, { raw: text });
        await host.advance(60);
        await host.settle();
        const r = await host.request({});
        expect(r.trap).toBeUndefined();
        expect([200, 429, 503]).toContain(r.response.status);
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(host.traps).toEqual([]);
    expect(metric(host, "wayroute_picker_llm_malformed_inputs_total")).toBeGreaterThan(0);
  });

  it("reads every engine's sample fixture", async () => {
    const fixtures: Array<[string, string, string]> = [
      ["sglang", "sglang-metrics.txt", "10.0.0.1:8000"],
      ["triton-trtllm", "triton-trtllm-backend-metrics.txt", "10.0.0.1:8000"],
    ];
    for (const [engine, file] of fixtures) {
      const text = readFileSync(path.join(repoRoot, "test/fixtures/metrics", file), "utf8");
      const pool = new FakePool(ADDRS.slice(0, 1));
      pool.set(ADDRS[0], { raw: text });
      const host = await pickerHost(
        { pools: [{ name: "llm", endpoints: [{ address: ADDRS[0] }], scrape: { engine, cluster: "pool" }, debug: { explain: true } }] },
        pool,
      );
      await scrapeRound(host);
      const rec = sharedLoad(host, ADDRS[0])!;
      if (engine === "sglang") expect([rec.waiting, rec.running, rec.kv]).toEqual([2826, 162, 0.28]);
      else expect([rec.waiting, rec.running, rec.kv]).toEqual([1, 1, 0.4875]);
      expect(metric(host, "wayroute_picker_llm_scrape_errors_total")).toBe(0);
    }
  });
});

describe("ORCA endpoint-load-metrics", () => {
  it("a report from the serving endpoint updates its load for every worker", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig({ steering: { maxEndpoints: 1 } }), pool, 2);
    await scrapeRound(host);
    const r = await host.request({
      worker: 0,
      upstream: { status: 200, headers: { "endpoint-load-metrics": "TEXT named_metrics.kv_cache_usage_perc=0.9, named_metrics.num_requests_waiting=4" } },
    });
    const served = steering(r)!;
    const rec = sharedLoad(host, served)!;
    expect(rec.waiting).toBe(4);
    expect(rec.kv).toBe(0.9);
    // The other worker now avoids it.
    expect(steering(await host.request({ worker: 1 }))).not.toBe(served);
  });

  it("arbitrary header values never trap; malformed ones are counted", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost(poolConfig(), pool);
    await scrapeRound(host);
    const value = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.string({ maxLength: 80 }).map((s) => "TEXT " + s),
      fc.string({ maxLength: 80 }).map((s) => "JSON " + s),
      fc.dictionary(fc.string({ maxLength: 12 }), fc.double()).map((o) => "JSON " + JSON.stringify(o)),
    ).filter((v) => !/[\r\n\0]/.test(v));
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const r = await host.request({ upstream: { status: 200, headers: { "endpoint-load-metrics": v } } });
        expect(r.trap).toBeUndefined();
        expect(r.response.status).toBe(200);
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(host.traps).toEqual([]);
    expect(metric(host, "wayroute_picker_llm_malformed_inputs_total")).toBeGreaterThan(0);
  });
});

describe("endpoint feed", () => {
  it("installs fed endpoints on every worker, skipping bad rows", async () => {
    const pool = new FakePool(["10.0.0.7:8000", "10.0.0.8:8000"]);
    let feedBody = JSON.stringify({ endpoints: [{ address: "10.0.0.7:8000" }, { address: "not-an-address" }, { address: "10.0.0.8:8000" }] });
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      workers: 2,
      rootId: "wayroute",
      pluginConfig: { pools: [{ name: "llm", endpointFeed: { cluster: "feed", intervalMs: 100 }, scrape: { cluster: "pool", engine: "vllm" }, steering: { maxEndpoints: 2 } }] },
      clusters: { pool: pool.handler, feed: () => ({ status: 200, body: feedBody }) },
    });
    expect(host.configured).toBe(true);
    await host.advance(150);
    await host.settle();
    await scrapeRound(host);
    for (const w of [0, 1]) {
      const r = await host.request({ worker: w });
      expect(steering(r)?.split(",").sort()).toEqual(["10.0.0.7:8000", "10.0.0.8:8000"]);
    }
    expect(metric(host, "wayroute_picker_llm_malformed_inputs_total")).toBeGreaterThan(0);
    // A malformed body keeps the previous list.
    feedBody = "{not json";
    await host.advance(150);
    await host.settle();
    expect(steering(await host.request({}))).toBeDefined();
    expect(metric(host, "wayroute_picker_llm_feed_errors_total")).toBeGreaterThan(0);
  });

  it("arbitrary feed bodies never trap", async () => {
    let body = "[]";
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      rootId: "wayroute",
      pluginConfig: { pools: [{ name: "llm", endpoints: [{ address: ADDRS[0] }], endpointFeed: { cluster: "feed", intervalMs: 100 } }] },
      clusters: { feed: () => ({ status: 200, body }) },
    });
    const jsonish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc.array(fc.record({ address: fc.oneof(fc.ipV4().map((ip) => `${ip}:80`), fc.string({ maxLength: 20 })), zone: fc.string({ maxLength: 5 }) }), { maxLength: 8 }).map((a) => JSON.stringify(a)),
    );
    await fc.assert(
      fc.asyncProperty(jsonish, async (b) => {
        body = b;
        await host.advance(110);
        await host.settle();
        const r = await host.request({});
        expect(r.trap).toBeUndefined();
        expect(steering(r)).toBeDefined(); // the static endpoint always remains
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(host.traps).toEqual([]);
    expect(metric(host, "wayroute_picker_llm_feed_errors_total") + metric(host, "wayroute_picker_llm_malformed_inputs_total")).toBeGreaterThan(0);
  });
});

describe("served endpoint", () => {
  it("health follows upstream.address (the endpoint that actually served), not the pick", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { waiting: 0 });
    pool.set(ADDRS[1], { waiting: 2 });
    pool.set(ADDRS[2], { waiting: 2 });
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      rootId: "wayroute",
      pluginConfig: poolConfig({ steering: { maxEndpoints: 1 }, health: { failureThreshold: 2 } }),
      clusters: { pool: pool.handler },
      upstreamAddress: ADDRS[2], // the proxy retried onto a fallback that failed
    });
    await scrapeRound(host);
    for (let i = 0; i < 2; i++) expect(steering(await host.request({ upstream: { status: 503 } }))).toBe(ADDRS[0]);
    const health = Buffer.from(host.sharedData.get("", "wayroute.picker/wayroute/llm/health")!.value).toString("utf8");
    expect(health.startsWith(ADDRS[2] + "\t")).toBe(true);
    expect(steering(await host.request({}))).toBe(ADDRS[0]);
    expect(metric(host, "wayroute_picker_llm_fallback_served_total")).toBe(3);
  });
});

describe("pools config", () => {
  const schemaDir = path.join(repoRoot, "schemas");
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(schemaDir, "pools.schema.json"), "utf8")));

  const cases: Array<[string, unknown[]]> = [
    ["minimal", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }] }]],
    ["ipv6", [{ name: "a", endpoints: [{ address: "[::1]:8000" }] }]],
    ["route", [{ name: "a", steering: { mode: "route" }, endpoints: [{ backend: "b" }] }]],
    ["feed only", [{ name: "a", endpointFeed: { cluster: "c" } }]],
    ["bad address", [{ name: "a", endpoints: [{ address: "10.0.0.256:80" }] }]],
    ["bad port", [{ name: "a", endpoints: [{ address: "10.0.0.1:0" }] }]],
    ["no name", [{ endpoints: [{ address: "10.0.0.1:80" }] }]],
    ["no endpoints", [{ name: "a" }]],
    ["unknown scorer", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], profile: { scorers: [{ type: "x" }] } }]],
    ["weight high", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], profile: { scorers: [{ type: "queue-scorer", weight: 101 }] } }]],
    ["weight ok", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], profile: { scorers: [{ type: "queue-scorer", weight: 100 }] } }]],
    ["route w/o backend", [{ name: "a", steering: { mode: "route" }, endpoints: [{ address: "10.0.0.1:80" }] }]],
    ["filter params", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], profile: { filters: [{ type: "low-queue-filter", params: { threshold: 3 } }] } }]],
    ["filter bad params", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], profile: { filters: [{ type: "low-queue-filter", params: { nope: 3 } }] } }]],
    ["trusted both", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], trustedCallers: [{ property: "source.address", equals: "x", prefix: "y" }] }]],
    ["failure mode", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], failureMode: "FailOpen" }]],
    ["bad failure mode", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], failureMode: "open" }]],
    ["uppercase header", [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }], steering: { header: "X-A" } }]],
  ];

  it("the plugin accepts exactly what the schema accepts, and names the JSON path when refusing", async () => {
    for (const [name, pools] of cases) {
      const host = await ProxyWasmHost.create({ module: await pluginModule(), pluginConfig: { pools } });
      const schemaOk = validate(pools) as boolean;
      expect(host.configured, name).toBe(schemaOk);
      if (!schemaOk) {
        const err = host.logEntries().find((e) => e.message.startsWith("plugin configuration refused"));
        expect(err?.message, name).toMatch(/refused: \$\.pools\[0\]/);
      }
    }
  });

  it("the examples are valid and load", async () => {
    for (const f of ["gie-default.json", "waypoint-route-mode.json", "envoy-prefix-affinity.json"]) {
      const cfg = JSON.parse(readFileSync(path.join(repoRoot, "examples/configs", f), "utf8"));
      expect(validate(cfg.pools), f).toBe(true);
      const host = await ProxyWasmHost.create({ module: await pluginModule(), pluginConfig: cfg });
      expect(host.configured, f).toBe(true);
    }
  });

  it("random pool configs never trap the VM; accepted ones are schema-valid", async () => {
    const module = await pluginModule();
    const endpoint = fc.record(
      {
        address: fc.oneof(fc.ipV4().map((ip) => `${ip}:${8000}`), fc.ipV6().map((ip) => `[${ip}]:80`), fc.string({ maxLength: 12 })),
        zone: fc.string({ maxLength: 4 }),
        weight: fc.oneof(fc.double({ noNaN: true }), fc.integer()),
        backend: fc.string({ maxLength: 6 }),
        engine: fc.constantFrom("vllm", "sglang", "tgi", "auto"),
      },
      { requiredKeys: [] },
    );
    const pool = fc.record(
      {
        name: fc.string({ maxLength: 6 }),
        endpoints: fc.array(endpoint, { maxLength: 4 }),
        steering: fc.record({ mode: fc.constantFrom("endpoint", "route", "x"), maxEndpoints: fc.integer({ min: -1, max: 10 }) }, { requiredKeys: [] }),
        failureMode: fc.constantFrom("FailOpen", "FailClose", "open"),
        profile: fc.record(
          {
            scorers: fc.array(fc.record({ type: fc.constantFrom("queue-scorer", "prefix-cache-scorer", "nope"), weight: fc.double({ noNaN: true, min: -5, max: 200 }) }, { requiredKeys: ["type"] }), { maxLength: 3 }),
            picker: fc.record({ type: fc.constantFrom("max-score-picker", "power-of-two-picker", "x") }),
          },
          { requiredKeys: [] },
        ),
        saturation: fc.record({ kvCacheUtilThreshold: fc.double({ noNaN: true, min: -1, max: 2 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(pool, { maxLength: 2 }), async (pools) => {
        const host = await ProxyWasmHost.create({ module, pluginConfig: { pools } });
        if (host.configured) accepted++;
        expect(host.traps).toEqual([]);
        const valid = validate(pools) as boolean;
        if (host.configured) expect(valid, JSON.stringify(pools)).toBe(true);
        // The other direction, minus the plugin-only uniqueness checks.
        const names = pools.map((p) => p.name);
        const unique = new Set(names).size === names.length &&
          pools.every((p) => {
            const keys = (p.endpoints ?? []).map((e) => (p.steering?.mode === "route" ? e.address || e.backend : e.address));
            return new Set(keys).size === keys.length;
          });
        if (valid && unique) expect(host.configured, JSON.stringify(pools)).toBe(true);
        host.close();
      }),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(10);
  });

  it("refuses an invalid address naming its path", async () => {
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      pluginConfig: { pools: [{ name: "a", endpoints: [{ address: "10.0.0.1:80" }, { address: "10.0.0.2:80" }, { address: "10.0.0.2" }] }] },
    });
    expect(host.configured).toBe(false);
    expect(host.logEntries().map((e) => e.message).join("\n")).toContain("$.pools[0].endpoints[2].address: missing ':port'");
  });
});

describe("fixtures", () => {
  it("the as-pect test data mirrors the metrics fixtures byte for byte", () => {
    const ts = readFileSync(path.join(repoRoot, "assembly/metrics/testdata.ts"), "utf8");
    for (const [name, file] of [["SGLANG", "sglang-metrics.txt"], ["TRITON_TRTLLM", "triton-trtllm-backend-metrics.txt"], ["VLLM_SIM_LORA", "vllm-sim-lora-requests-info-lines.txt"], ["VLLM_V1_DOCS", "vllm-v1-docs-design-excerpt.txt"]]) {
      const m = ts.match(new RegExp(`export const ${name}: string = (".*");`));
      expect(m, name).not.toBeNull();
      expect(JSON.parse(m![1]), name).toBe(readFileSync(path.join(repoRoot, "test/fixtures/metrics", file), "utf8"));
    }
  });
});
