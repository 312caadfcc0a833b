/**
 * The endpoint picker in hold mode: `holdHeadersForBody: true` in the plugin config, on a host
 * that keeps a header StopIteration (Envoy 1.35+ `allow_on_headers_stop_iteration: true`,
 * harness option `allowOnHeadersStopIteration`). The request headers wait, writable, while the
 * body is read, so the picker decides once, after the body, with the prompt and the body's
 * model: prefix-cache and LoRA affinity actually steer. Runs the release wasm on several workers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProxyWasmHost, type ConfigInput, type RequestOptions } from "../../src/host/index.js";
import { ADDRS, FakePool, chat, metric, pickerHost, pluginModule, scrapeRound, steering } from "./helpers.js";

const H = "x-gateway-destination-endpoint";
const INFLIGHT = "wayroute.picker/wayroute/llm/inflight";

async function holdHost(pluginConfig: ConfigInput, pool: FakePool, workers = 3): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create({
    module: await pluginModule(),
    pluginConfig,
    workers,
    rootId: "wayroute",
    allowOnHeadersStopIteration: true,
    clusters: { pool: pool.handler },
  });
}

/** A hold-mode config: bodyRouting (unless `bodyRouting` is null) and one scraped pool. */
function holdConfig(pool: Record<string, unknown> = {}, bodyRouting: Record<string, unknown> | null = {}, addrs = ADDRS): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    holdHeadersForBody: true,
    pools: [{ name: "llm", endpoints: addrs.map((address) => ({ address })), scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 }, ...pool }],
  };
  if (bodyRouting) cfg.bodyRouting = bodyRouting;
  return cfg;
}

function post(body: string | string[], worker?: number, extra: Partial<RequestOptions> = {}): RequestOptions {
  return {
    worker,
    headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" },
    body,
    ...extra,
  };
}

function longPrompt(seed: string): string {
  let s = "";
  for (let i = 0; i < 40; i++) s += `${seed} block ${i} `.padEnd(64, ".");
  return s;
}

function primary(r: { request: { headers: { get(k: string): string | undefined } } | null }): string | undefined {
  return steering(r)?.split(",")[0];
}

function inFlightBytes(host: ProxyWasmHost): number {
  return host.sharedData.get("", INFLIGHT)?.value.length ?? 0;
}

describe("hold mode: prefix affinity steers", () => {
  it("the same long prompt on another worker goes where the first went (equal load); a held request is decided after the body", async () => {
    const pool = new FakePool(ADDRS);
    const host = await holdHost(holdConfig({ steering: { maxEndpoints: 1 } }), pool);
    await scrapeRound(host);
    const firsts = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const prompt = longPrompt(`conversation ${i}`);
      const first = await host.request(post(chat(prompt), 0));
      expect(first.response.status).toBe(200);
      const ep = primary(first)!;
      expect(ADDRS).toContain(ep);
      firsts.add(ep);
      // All three servers report the same load: only the prefix index breaks the tie.
      for (const w of [1, 2]) {
        const again = await host.request(post(chat(prompt + ` and follow-up ${w}`), w));
        expect(primary(again), `prompt ${i}, worker ${w}`).toBe(ep);
      }
    }
    // Ties between equally loaded servers are broken at random: the prompts did not all land on one.
    expect(firsts.size).toBeGreaterThan(1);
    // One decision per request (no header-time pick that the body then overrides).
    expect(metric(host, "wayroute_picker_llm_picks_total")).toBe(18);
    // Step by step: nothing is steered while the headers wait for the body.
    const s = host.worker(1).newStream();
    const body = new TextEncoder().encode(chat(longPrompt("conversation 0") + " step"));
    s.requestHeaders({ ":method": "POST", ":path": "/v1/chat/completions", ":authority": "a", ":scheme": "http", "content-type": "application/json" }, false);
    expect(s.currentRequestHeaders.get(H)).toBeUndefined();
    s.requestBody(body.slice(0, 200), false);
    expect(s.currentRequestHeaders.get(H)).toBeUndefined();
    s.requestBody(body.slice(200), true);
    expect(s.forwardedRequest?.headers.get(H)).toBe(primary(await host.request(post(chat(longPrompt("conversation 0")), 2))));
    s.reset("done");
    await host.settle();
    expect(inFlightBytes(host)).toBe(0);
    expect(host.traps).toEqual([]);
  });

  it("prefix outweighs a slightly busier server; a different prompt goes to the least loaded one", async () => {
    const pool = new FakePool(ADDRS);
    const host = await holdHost(holdConfig({ steering: { maxEndpoints: 1 } }), pool);
    await scrapeRound(host);
    const prompt = longPrompt("shared system prompt");
    const first = primary(await host.request(post(chat(prompt), 0)))!;
    // The learned endpoint is busier now: prefix (weight 3) beats queue (weight 2).
    pool.set(first, { waiting: 1 });
    await scrapeRound(host);
    expect(primary(await host.request(post(chat(prompt + " follow-up"), 1)))).toBe(first);
    expect(primary(await host.request(post(chat(prompt + " another follow-up"), 2)))).toBe(first);
    const fresh = primary(await host.request(post(chat(longPrompt("unrelated")), 1)));
    expect(fresh).not.toBe(first);
    expect(host.traps).toEqual([]);
  });

  it("stock mode (flag off) picks at header time: the same situation goes to the least loaded server", async () => {
    const pool = new FakePool(ADDRS);
    const cfg = holdConfig({ steering: { maxEndpoints: 1 } });
    cfg.holdHeadersForBody = false;
    const host = await holdHost(cfg, pool);
    await scrapeRound(host);
    const prompt = longPrompt("shared system prompt");
    const first = primary(await host.request(post(chat(prompt), 0)))!;
    pool.set(first, { waiting: 1 });
    await scrapeRound(host);
    expect(primary(await host.request(post(chat(prompt + " follow-up"), 1)))).not.toBe(first);
  });

  it("chunked bodies are buffered to the end before the pick", async () => {
    const pool = new FakePool(ADDRS);
    const host = await holdHost(holdConfig({ steering: { maxEndpoints: 1 } }), pool);
    await scrapeRound(host);
    const prompt = longPrompt("chunked");
    const first = primary(await host.request(post(chat(prompt), 0)))!;
    pool.set(first, { waiting: 1 });
    await scrapeRound(host);
    const body = chat(prompt + " more");
    const chunks = [body.slice(0, 7), body.slice(7, 900), body.slice(900)];
    const r = await host.request(post(chunks, 1));
    expect(r.request!.bodyText).toBe(body);
    expect(primary(r)).toBe(first);
  });

  it("route mode: the backend header is set after the body and the route cache cleared", async () => {
    const pool = new FakePool([]);
    const host = await holdHost(
      { holdHeadersForBody: true, bodyRouting: { clearRouteCache: false }, pools: [{ name: "llm", steering: { mode: "route" }, endpoints: [{ backend: "qwen-0" }, { backend: "qwen-1" }] }] },
      pool,
    );
    const r = await host.request(post(chat(longPrompt("route")), 0, { headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json", "x-wayroute-backend": "spoofed" } }));
    const backend = r.request!.headers.get("x-wayroute-backend")!;
    expect(["qwen-0", "qwen-1"]).toContain(backend);
    expect(r.clearRouteCacheCount).toBe(1);
    // The same prompt on other workers: same backend (no load signal, prefix decides).
    for (const w of [1, 2]) {
      expect((await host.request(post(chat(longPrompt("route") + " x"), w))).request!.headers.get("x-wayroute-backend")).toBe(backend);
    }
  });
});

describe("hold mode: bodyRouting stops reading before the end", () => {
  it("a chunked body over bodyRouting's maxBodyBytes is picked (without its prompt) when bodyRouting lets go", async () => {
    const pool = new FakePool(ADDRS);
    const host = await holdHost(holdConfig({ steering: { maxEndpoints: 1 } }, { maxBodyBytes: 200 }), pool);
    await scrapeRound(host);
    const body = chat(longPrompt("big"));
    const s = host.worker(0).newStream();
    s.requestHeaders({ ":method": "POST", ":path": "/v1/chat/completions", ":authority": "a", ":scheme": "http", "content-type": "application/json" }, false);
    s.requestBody(body.slice(0, 150), false);
    expect(s.currentRequestHeaders.get(H)).toBeUndefined();
    // bodyRouting gives up (over 200 bytes, not the end): the picker decides in the same callback.
    s.requestBody(body.slice(150, 400), false);
    const picked = s.currentRequestHeaders.get(H);
    expect(ADDRS).toContain(picked);
    s.requestBody(body.slice(400), true);
    expect(s.forwardedRequest?.bodyText).toBe(body);
    expect(s.forwardedRequest?.headers.get(H)).toBe(picked);
    expect(metric(host, "wayroute_body_routing_skipped_too_large_total")).toBe(1);
    s.reset("done");
    await host.settle();
    expect(inFlightBytes(host)).toBe(0);
    expect(host.traps).toEqual([]);
  });
});

describe("hold mode: LoRA affinity by the body's model", () => {
  const loras = (pool: FakePool): void => {
    pool.set(ADDRS[0], { loras: { running: ["other"], waiting: [], max: 1 } });
    pool.set(ADDRS[1], { loras: { running: ["sql-lora"], waiting: [], max: 1 } });
    pool.set(ADDRS[2], { loras: { running: [], waiting: [], max: 2 } });
  };
  const profile = { steering: { maxEndpoints: 3 }, profile: { scorers: [{ type: "lora-affinity-scorer", weight: 1 }] } };

  it("steers by the model in the body (no model header from the client)", async () => {
    const pool = new FakePool(ADDRS);
    loras(pool);
    const host = await holdHost(holdConfig(profile), pool);
    await scrapeRound(host);
    const r = await host.request(post(chat("hello", "sql-lora"), 0));
    expect(steering(r)).toBe(`${ADDRS[1]},${ADDRS[2]},${ADDRS[0]}`);
    expect(r.request!.headers.get("x-gateway-model-name")).toBe("sql-lora");
    const fresh = await host.request(post(chat("hello", "new-lora"), 1));
    expect(primary(fresh)).toBe(ADDRS[2]);
    // A spoofed model header does not steer: bodyRouting replaces it with the body's model.
    const spoofed = await host.request(post(chat("hello", "sql-lora"), 2, {
      headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json", "x-gateway-model-name": "other" },
    }));
    expect(primary(spoofed)).toBe(ADDRS[1]);
  });

  it("steers by the rewritten model (bodyRouting's rewrite runs first)", async () => {
    const pool = new FakePool(ADDRS);
    loras(pool);
    const rewrite = { modelRewrites: [{ matches: [{ model: { value: "sql" } }], targets: [{ modelRewrite: "sql-lora", weight: 1 }] }] };
    const host = await holdHost(holdConfig(profile, rewrite), pool);
    await scrapeRound(host);
    const r = await host.request(post(chat("select 1", "sql"), 0));
    expect(JSON.parse(r.request!.bodyText).model).toBe("sql-lora");
    expect(primary(r)).toBe(ADDRS[1]);
  });
});

describe("hold mode: admission decided after the body", () => {
  it("sheds a sheddable body model with 429 while saturated; other models route; in-flight back to zero", async () => {
    const pool = new FakePool(ADDRS);
    for (const a of ADDRS) pool.set(a, { waiting: 9, kv: 0.95 });
    const host = await holdHost(holdConfig({ priority: { default: 0, models: { batch: -1 } } }), pool);
    await scrapeRound(host);
    const shed = await host.request(post(chat("x", "batch"), 0));
    expect(shed.response.status).toBe(429);
    expect(shed.upstreamCalled).toBe(false);
    const ok = await host.request(post(chat("x", "m"), 1));
    expect(ok.response.status).toBe(200);
    expect(steering(ok)).toBeDefined();
    expect(metric(host, "wayroute_picker_llm_shed_total")).toBe(1);
    // Mean saturation over the pool below 1 again (the EPP's rule): sheddable traffic flows.
    pool.set(ADDRS[0], { waiting: 4, kv: 0.5 });
    pool.set(ADDRS[1], { waiting: 4, kv: 0.5 });
    pool.set(ADDRS[2], { waiting: 0, kv: 0.1 });
    await scrapeRound(host);
    const again = await host.request(post(chat("x", "batch"), 2));
    expect(again.response.status).toBe(200);
    expect(primary(again)).toBe(ADDRS[2]);
    expect(inFlightBytes(host)).toBe(0);
    expect(host.traps).toEqual([]);
  });

  it("FailClose replies 503 from the body callback; FailOpen lets the proxy pick", async () => {
    for (const mode of ["FailClose", "FailOpen"] as const) {
      const one = ADDRS.slice(0, 1);
      const pool = new FakePool(one);
      const host = await holdHost(holdConfig({ failureMode: mode, health: { failureThreshold: 1 } }, {}, one), pool, 2);
      await scrapeRound(host);
      const failed = await host.request(post(chat("x"), 0, { upstream: () => ({ status: 500 }) }));
      expect(steering(failed)).toBe(one[0]);
      const r = await host.request(post(chat("x"), 1));
      if (mode === "FailClose") {
        expect(r.response.status).toBe(503);
        expect(r.upstreamCalled).toBe(false);
        expect(metric(host, "wayroute_picker_llm_unavailable_total")).toBe(1);
      } else {
        expect(r.response.status).toBe(200);
        expect(steering(r)).toBeUndefined();
        expect(r.request!.headers.get("x-gateway-model-name")).toBe("m");
        expect(metric(host, "wayroute_picker_llm_fail_open_total")).toBe(1);
      }
      expect(inFlightBytes(host)).toBe(0);
    }
  });

  it("in-flight counts: one per held, decided stream; none for a stream reset before its body ended", async () => {
    const pool = new FakePool(ADDRS);
    const host = await holdHost(holdConfig({ steering: { maxEndpoints: 1 } }), pool);
    await scrapeRound(host);
    const hdrs = { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "a", ":scheme": "http", "content-type": "application/json" };
    const body = new TextEncoder().encode(chat(longPrompt("reset")));
    // Reset while the headers are held: nothing was picked, nothing counted.
    const early = host.worker(0).newStream();
    early.requestHeaders(hdrs, false);
    early.requestBody(body.slice(0, 100), false);
    expect(early.forwardedRequest).toBeFalsy();
    expect(early.currentRequestHeaders.get(H)).toBeUndefined();
    expect(inFlightBytes(host)).toBe(0);
    early.reset("downstream reset");
    // Decided and still open: counted once.
    const open = host.worker(1).newStream();
    open.requestHeaders(hdrs, false);
    open.requestBody(body, true);
    expect(open.forwardedRequest?.headers.get(H)).toBeDefined();
    expect(inFlightBytes(host)).toBe(12);
    open.reset("downstream reset");
    await host.settle();
    expect(inFlightBytes(host)).toBe(0);
    expect(host.traps).toEqual([]);
  });
});

describe("hold mode without bodyRouting: the picker buffers the body itself", () => {
  it("prefix affinity and the body's model steer; requests without a JSON body are picked at header time", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { loras: { running: ["sql-lora"], waiting: [], max: 1 } });
    const host = await holdHost(
      holdConfig({ steering: { maxEndpoints: 1 }, profile: { scorers: [{ type: "queue-scorer", weight: 2 }, { type: "prefix-cache-scorer", weight: 3 }, { type: "lora-affinity-scorer", weight: 1 }] } }, null),
      pool,
    );
    await scrapeRound(host);
    const prompt = longPrompt("no body routing");
    const first = primary(await host.request(post([chat(prompt).slice(0, 50), chat(prompt).slice(50)], 0)))!;
    pool.set(first, { waiting: 1, loras: first === ADDRS[0] ? { running: ["sql-lora"], waiting: [], max: 1 } : undefined });
    await scrapeRound(host);
    expect(primary(await host.request(post(chat(prompt + " again"), 1)))).toBe(first);
    // The model is read from the body by the picker's own scan.
    pool.set(first, {});
    pool.set(ADDRS[0], { loras: { running: ["sql-lora"], waiting: [], max: 1 } });
    await scrapeRound(host);
    expect(primary(await host.request(post(chat("short", "sql-lora"), 2)))).toBe(ADDRS[0]);
    // Not worth holding: a GET, and a POST that is not JSON. Both are still steered.
    const get = await host.request({ worker: 1, headers: { ":path": "/v1/models" } });
    expect(steering(get)).toBeDefined();
    const text = await host.request({ worker: 2, headers: { ":method": "POST", "content-type": "text/plain" }, body: "hello" });
    expect(steering(text)).toBeDefined();
    expect(text.request!.bodyText).toBe("hello");
    expect(inFlightBytes(host)).toBe(0);
    expect(host.traps).toEqual([]);
  });

  it("a pool whose profile does not use the body is picked at header time", async () => {
    const pool = new FakePool(ADDRS);
    const host = await holdHost(holdConfig({ profile: { scorers: [{ type: "queue-scorer", weight: 1 }] } }, null), pool);
    await scrapeRound(host);
    const s = host.worker(0).newStream();
    s.requestHeaders({ ":method": "POST", ":path": "/v1/chat/completions", ":authority": "a", ":scheme": "http", "content-type": "application/json" }, false);
    // Not held: the pick is on the headers before any body.
    expect(s.currentRequestHeaders.get(H)).toBeDefined();
    s.requestBody(new TextEncoder().encode(chat("x")), true);
    expect(s.forwardedRequest?.headers.get(H)).toBeDefined();
  });
});

describe("hold mode: requests with trailers", () => {
  it("are released by the trailers callback unsteered (documented limit), and complete", async () => {
    const pool = new FakePool(ADDRS);
    const host = await holdHost(holdConfig({ steering: { maxEndpoints: 1 } }), pool);
    await scrapeRound(host);
    const body = chat(longPrompt("trailers"));
    const r = await host.request(post(body, 0, { trailers: { "x-checksum": "1" } }));
    expect(r.response.status).toBe(200);
    expect(r.trap).toBeUndefined();
    // The stages have no trailers hook: the trailers callback's Continue releases the held
    // headers as they are, so the proxy's own load balancer picks.
    expect(steering(r)).toBeUndefined();
    expect(r.request!.bodyText).toBe(body);
    expect(r.request!.headers.get("x-checksum")).toBeUndefined();
    expect(r.request!.trailers.get("x-checksum")).toBe("1");
    expect(inFlightBytes(host)).toBe(0);
    // Without trailers the same request is steered.
    expect(steering(await host.request(post(body, 1)))).toBeDefined();
  });
});

describe("hold mode: fuzzed bodies", () => {
  it("never trap, every request completes, in-flight returns to zero (with and without bodyRouting)", async () => {
    const pool = new FakePool(ADDRS);
    const hosts = [
      await holdHost(holdConfig({ priority: { models: { batch: -1 } }, profile: { scorers: [{ type: "prefix-cache-scorer", weight: 3 }, { type: "lora-affinity-scorer", weight: 1 }, { type: "queue-scorer", weight: 1 }] } }), pool),
      await holdHost(holdConfig({ priority: { models: { batch: -1 } } }, null), pool),
    ];
    for (const h of hosts) await scrapeRound(h);
    const jsonish = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 3 }),
      fc.record({ model: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("m", "batch", "sql-lora"), fc.integer()), messages: fc.array(fc.record({ role: fc.constantFrom("user", "system"), content: fc.string({ maxLength: 400 }) }), { maxLength: 3 }), prompt: fc.option(fc.string({ maxLength: 400 })) }).map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(
        jsonish,
        fc.array(fc.nat({ max: 500 }), { maxLength: 3 }),
        fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", ""),
        fc.constantFrom("POST", "PUT"),
        fc.nat({ max: 2 }),
        fc.nat({ max: 1 }),
        async (body, cuts, ct, method, worker, hi) => {
          const host = hosts[hi];
          const points = [...new Set(cuts.map((c) => Math.min(c, body.length)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(body.slice(prev, p));
            prev = p;
          }
          chunks.push(body.slice(prev));
          const headers: Record<string, string> = { ":method": method, ":path": "/v1/chat/completions" };
          if (ct) headers["content-type"] = ct;
          const r = await host.request({ worker, headers, body: chunks.length > 1 ? chunks : body });
          expect(r.trap).toBeUndefined();
          expect([200, 429, 503]).toContain(r.response.status);
          if (r.response.status === 200) expect(r.request!.bodyText.length).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 150 },
    );
    for (const h of hosts) {
      expect(h.traps).toEqual([]);
      expect(inFlightBytes(h)).toBe(0);
    }
  });
});

describe("stock hosts are unaffected", () => {
  it("holdHeadersForBody false: picked at header time, headers not held", async () => {
    const pool = new FakePool(ADDRS);
    const host = await pickerHost({ bodyRouting: {}, pools: [{ name: "llm", endpoints: ADDRS.map((address) => ({ address })) }] }, pool);
    const s = host.worker(0).newStream();
    s.requestHeaders({ ":method": "POST", ":path": "/v1/chat/completions", ":authority": "a", ":scheme": "http", "content-type": "application/json" }, false);
    expect(s.currentRequestHeaders.get(H)).toBeDefined();
    s.requestBody(new TextEncoder().encode(chat("x")), true);
    expect(s.forwardedRequest?.headers.get(H)).toBeDefined();
  });
});

describe("example examples/configs/envoy-prefix-affinity.json", () => {
  it("GIE default profile in hold mode: a shared prompt prefix steers to the same server on every worker", async () => {
    const { readFileSync } = await import("node:fs");
    const { repoRoot } = await import("../build/wasm-files.js");
    const cfg = JSON.parse(readFileSync(`${repoRoot}/examples/configs/envoy-prefix-affinity.json`, "utf8"));
    const addrs = ["10.0.1.10:8000", "10.0.1.11:8000", "10.0.1.12:8000"];
    const pool = new FakePool(addrs);
    const host = await ProxyWasmHost.create({
      module: await pluginModule(), rootId: "wayroute", pluginConfig: cfg, workers: 2,
      allowOnHeadersStopIteration: true, clusters: { "llama-3-8b-pool": pool.handler },
    });
    await scrapeRound(host);
    const prompt = longPrompt("you are a helpful assistant");
    const first = await host.request(post(chat(prompt, "sql-lora"), 0));
    const ep = primary(first)!;
    expect(addrs).toContain(ep);
    expect(first.request!.headers.get("x-gateway-base-model-name")).toBe("meta-llama/Llama-3.1-8B-Instruct");
    pool.set(ep, { waiting: 1 });
    await scrapeRound(host);
    const second = await host.request(post(chat(prompt + " next turn", "sql-lora"), 1));
    expect(primary(second)).toBe(ep);
    // Primary then one fallback (maxEndpoints 2).
    expect(steering(second)!.split(",")).toHaveLength(2);
    expect(host.traps).toEqual([]);
  });
});
