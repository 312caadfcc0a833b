/**
 * Reading the body before routing in real Envoy 1.40: hold mode (`holdHeadersForBody` with
 * `allow_on_headers_stop_iteration: true`) for 1 KB, 220 KB and chunked bodies; the model header,
 * prefix affinity and LoRA affinity steer; model rewrites reach the upstream byte for byte with a
 * matching content-length; and what Envoy does when the flag is off.
 */
import { request } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { describeEnvoy } from "./helpers.js";
import { chat, eventually, repoRoot, type Stack, startStack } from "./stack.js";

const example = (f: string) => JSON.parse(readFileSync(join(repoRoot, "examples/configs", f), "utf8")) as Record<string, unknown>;

/** The prefix-affinity example with the scrape interval kept and both upstreams idle. */
function holdConfig(scorers: unknown[] = [{ type: "prefix-cache-scorer", weight: 3 }, { type: "queue-scorer", weight: 1 }]): Record<string, unknown> {
  const cfg = example("envoy-prefix-affinity.json") as { pools: Record<string, unknown>[] };
  cfg.pools[0]!.profile = { filters: [{ type: "health-filter" }], scorers, picker: { type: "max-score-picker" } };
  cfg.pools[0]!.scrape = { engine: "vllm", path: "/metrics", intervalMs: 100, cluster: "llama-3-8b-pool" };
  return cfg;
}

/** POST with an explicit framing: `content-length`, or chunked in `chunks` pieces. */
function send(base: string, body: Buffer, opts: { chunks?: number; timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
    if (!opts.chunks) headers["content-length"] = String(body.length);
    const req = request({ host: url.hostname, port: url.port, method: "POST", path: "/v1/chat/completions", headers, timeout: opts.timeoutMs ?? 15_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    if (opts.chunks) {
      const size = Math.ceil(body.length / opts.chunks);
      let i = 0;
      const next = () => {
        if (i >= body.length) return void req.end();
        req.write(body.subarray(i, i + size));
        i += size;
        setTimeout(next, 5);
      };
      next();
    } else req.end(body);
  });
}

function bodyOfSize(model: string, bytes: number, prefix = ""): Buffer {
  const base = Buffer.byteLength(chat(model, prefix));
  return Buffer.from(chat(model, prefix + "x".repeat(Math.max(0, bytes - base))));
}

describeEnvoy("body routing in real Envoy (hold mode)", (binary) => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it("1 KB, 220 KB and chunked bodies: the model header is set and the body arrives unchanged", async () => {
    stack = await startStack({ binary, config: holdConfig() });
    const cases: [string, Buffer, number | undefined][] = [
      ["1 KB", bodyOfSize("llama-3-8b", 1024), undefined],
      ["220 KB", bodyOfSize("llama-3-8b", 220 * 1024), undefined],
      ["chunked 64 KB in 8 pieces", bodyOfSize("llama-3-8b", 64 * 1024), 8],
    ];
    for (const [name, body, chunks] of cases) {
      const r = await send(stack.base, body, { chunks });
      expect(r.status, `${name}: ${r.body}`).toBe(200);
      const got = stack.last()!;
      expect(got.body.equals(body), name).toBe(true);
      const h = new Map(got.headers);
      expect(h.get("x-gateway-model-name"), name).toBe("llama-3-8b");
      // The destination the upstream saw was set before the headers left (hold mode).
      expect(h.get("x-gateway-destination-endpoint"), name).toBeDefined();
      if (h.has("content-length")) expect(Number(h.get("content-length")), name).toBe(body.length);
      else expect(h.get("transfer-encoding"), name).toBe("chunked");
    }
  });

  it("prefix affinity: a repeated long prompt goes back to the server that served it", async () => {
    stack = await startStack({ binary, config: holdConfig() });
    await eventually(() => stack!.upstreams.every((u) => u.scrapes > 0));
    for (let i = 0; i < 4; i++) {
      const prefix = `tenant ${i} system prompt `.repeat(60);
      // Separate connections: the two requests may be served by different workers (VMs).
      await send(stack.base, bodyOfSize("llama-3-8b", 3000, prefix), { headers: { connection: "close" } });
      const first = stack.upstreams.find((u) => u.requests.some((r) => r.body.includes(prefix.slice(0, 40)) && r.body.includes(`tenant ${i} `)))!;
      const before = first.requests.length;
      await send(stack.base, bodyOfSize("llama-3-8b", 3200, prefix), { headers: { connection: "close" } });
      expect(first.requests.length, `prompt ${i} followed its prefix`).toBe(before + 1);
    }
  });

  it("LoRA affinity: a request for an adapter goes to the server running it", async () => {
    stack = await startStack({ binary, config: holdConfig([{ type: "lora-affinity-scorer", weight: 1 }]) });
    const [plain, lora] = stack.upstreams as [Stack["upstreams"][0], Stack["upstreams"][0]];
    lora.load = { waiting: 0, running: 1, kv: 0.1, loras: ["sql-lora"] };
    plain.load = { waiting: 0, running: 1, kv: 0.1, loras: [] };
    await eventually(() => lora.scrapes > 2 && plain.scrapes > 2);
    for (let i = 0; i < 6; i++) expect((await send(stack.base, Buffer.from(chat("sql-lora", `q${i}`)), { headers: { connection: "close" } })).status).toBe(200);
    expect(lora.requests.length).toBe(6);
    for (const r of lora.requests) expect(new Map(r.headers).get("x-gateway-model-name")).toBe("sql-lora");
  });

  it("model rewrite: the upstream gets the rewritten body byte for byte, with its content-length", async () => {
    const cfg = example("envoy-body-routing.json") as { bodyRouting: { modelRewrites: { targets: { weight: number }[] }[] } };
    // Deterministic: all weight on the first target.
    cfg.bodyRouting.modelRewrites[0]!.targets = [{ modelRewrite: "food-review-v1", weight: 100 } as never];
    stack = await startStack({ binary, config: cfg as unknown as Record<string, unknown> });
    const sent = `{"model": "food-review", "messages":[{"role":"user","content":"caf\\u00e9 ☕ review"}],"stream":false}`;
    const r = await send(stack.base, Buffer.from(sent));
    expect(r.status, r.body).toBe(200);
    const got = stack.last()!;
    const expected = sent.replace(`"model": "food-review"`, `"model": "food-review-v1"`);
    expect(got.body.toString()).toBe(expected);
    const h = new Map(got.headers);
    expect(Number(h.get("content-length"))).toBe(Buffer.byteLength(expected));
    expect(h.get("x-model-family")).toBe("food-review");
    expect(r.headers["x-served-model"]).toBe("food-review-v1");
  });

  it("hold mode with allow_on_headers_stop_iteration off: recorded behaviour", async () => {
    stack = await startStack({
      binary,
      config: holdConfig(),
      editBootstrap: (b) => {
        const cfg = (b as any).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
        delete cfg.allow_on_headers_stop_iteration;
      },
    });
    const outcome = await send(stack.base, bodyOfSize("llama-3-8b", 1024), { timeoutMs: 3000 }).then((r) => `status ${r.status}`, (e: Error) => e.message);
    console.log(`[envoy] hold mode without allow_on_headers_stop_iteration: ${outcome}; upstream requests: ${stack.upstreams.map((u) => u.requests.length).join("+")}`);
    expect(outcome).toBe("timeout");
  });
});
