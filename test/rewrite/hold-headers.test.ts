/**
 * Hold mode: `holdHeadersForBody: true` in the plugin config, on a host with Envoy 1.35+'s
 * `allow_on_headers_stop_iteration: true` (harness option `allowOnHeadersStopIteration`).
 * bodyRouting returns StopIteration from the request headers, reads the whole body while Envoy
 * holds the headers, and then sets the model headers, fixes content-length, runs the model rules
 * on the request and clears the route cache before releasing everything with Continue.
 * Everything here runs the release wasm through the Envoy-faithful harness.
 */
import path from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ProxyWasmHost, type ConfigInput, type RequestOptions } from "../../src/host/index.js";
import { pluginConfigValidator } from "../../src/manifest/plugin-config.js";
import { repoRoot, wasmBytes } from "../build/wasm-files.js";
import { largeChatBody } from "../body/bodies.js";

let plugin: WebAssembly.Module;

beforeAll(async () => {
  plugin = await WebAssembly.compile(wasmBytes("plugin.wasm"));
}, 300_000);

const ADAPTERS = { "food-review-v1": "llama-base", "food-review-v2": "llama-base" };
const REWRITE = { matches: [{ model: { value: "food-review" } }], targets: [{ modelRewrite: "food-review-v1", weight: 1 }, { modelRewrite: "food-review-v2", weight: 1 }] };
const HOLD = { holdHeadersForBody: true, bodyRouting: { maxBodyBytes: 8192, adapters: ADAPTERS, modelRewrites: [REWRITE] } };

function hostWith(pluginConfig: ConfigInput, allowOnHeadersStopIteration = true): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create({
    module: plugin,
    pluginConfig,
    allowOnHeadersStopIteration,
    upstream: (req) => ({ status: 200, headers: { "x-upstream": "u" }, body: String(req.bodyText.length) }),
  });
}

function chat(body: string | string[], headers: Record<string, string> = {}): RequestOptions {
  const whole = Array.isArray(body) ? body.join("") : body;
  return {
    headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json", "content-length": String(Buffer.byteLength(whole)), ...headers },
    body,
  };
}

describe("hold mode: request headers set from the body", () => {
  it("sets x-gateway-model-name and the base model upstream, keeps content-length, counts no unavailable headers", async () => {
    const host = await hostWith(HOLD);
    const body = '{"model":"llama-base","messages":[{"role":"user","content":"hi"}]}';
    const r = await host.request(chat(body, { "x-gateway-model-name": "spoofed", "x-gateway-model-name-rewrite": "spoofed" }));
    expect(r.trap).toBeUndefined();
    const fwd = r.request!;
    expect(fwd.bodyText).toBe(body);
    expect(fwd.headers.getAll("x-gateway-model-name")).toEqual(["llama-base"]);
    expect(fwd.headers.get("x-gateway-base-model-name")).toBe("llama-base");
    // No rewrite rule applied: the client's rewrite header is stripped and none is set.
    expect(fwd.headers.has("x-gateway-model-name-rewrite")).toBe(false);
    expect(fwd.headers.get("content-length")).toBe(String(Buffer.byteLength(body)));
    expect(host.metrics.value("wayroute_body_routing_routed_total")).toBe(1);
    expect(host.metrics.value("wayroute_body_routing_headers_unavailable_total")).toBe(0);
  });

  it("a weighted rewrite updates the body, content-length and x-gateway-model-name-rewrite together", async () => {
    const host = await hostWith(HOLD);
    const body = '{"model": "food-review", "messages": [{"role": "user", "content": "Rate this pizza"}]}';
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const r = await host.request(chat(body));
      const fwd = r.request!;
      const model = JSON.parse(fwd.bodyText).model as string;
      seen.add(model);
      expect(fwd.bodyText).toBe(body.replace('"food-review"', JSON.stringify(model)));
      expect(fwd.headers.get("content-length")).toBe(String(Buffer.byteLength(fwd.bodyText)));
      expect(fwd.headers.get("x-gateway-model-name")).toBe(model);
      expect(fwd.headers.get("x-gateway-model-name-rewrite")).toBe(model);
      expect(fwd.headers.get("x-gateway-base-model-name")).toBe("llama-base");
    }
    // 50/50 over 60 draws: both targets show up (each missing has probability 2^-60).
    expect([...seen].sort()).toEqual(["food-review-v1", "food-review-v2"]);
    expect(host.metrics.value("wayroute_body_routing_rewritten_total")).toBe(60);
    expect(host.metrics.value("wayroute_body_routing_headers_unavailable_total")).toBe(0);
  });

  it("calls clear_route_cache after setting the model headers (route mode), and not when told not to", async () => {
    const on = await hostWith(HOLD);
    const r = await on.request(chat('{"model":"food-review"}'));
    expect(r.clearRouteCacheCount).toBe(1);
    const off = await hostWith({ ...HOLD, bodyRouting: { ...HOLD.bodyRouting, clearRouteCache: false } });
    const r2 = await off.request(chat('{"model":"food-review"}'));
    expect(r2.request!.headers.get("x-gateway-model-name")).toMatch(/^food-review-v[12]$/);
    expect(r2.clearRouteCacheCount).toBe(0);
  });

  it("runs the model rules on the request headers, seeing the model headers and not the client's", async () => {
    const host = await hostWith({
      ...HOLD,
      rules: [
        { name: "family", match: { models: ["food-review-v1", "food-review-v2"] }, request: { set: { "x-model-family": "food-review" } } },
        { name: "copy", request: { set: { "x-seen-model": "{{model}}", "x-seen-header": "{{header:x-gateway-model-name|default:none}}" } } },
        { name: "report", response: { set: { "x-served-model": "{{model|default:unknown}}" } } },
      ],
    });
    const r = await host.request(chat('{"model":"food-review","prompt":"x"}', { "x-gateway-model-name": "spoofed" }));
    const fwd = r.request!;
    const model = fwd.headers.get("x-gateway-model-name")!;
    expect(model).toMatch(/^food-review-v[12]$/);
    expect(fwd.headers.get("x-model-family")).toBe("food-review");
    expect(fwd.headers.get("x-seen-model")).toBe(model);
    expect(fwd.headers.get("x-seen-header")).toBe(model);
    expect(r.response.headers.get("x-served-model")).toBe(model);
    // Once for the rules' request change, once for the model headers.
    expect(r.clearRouteCacheCount).toBe(2);
    const other = await host.request(chat('{"model":"qwen","prompt":"x"}'));
    expect(other.request!.headers.has("x-model-family")).toBe(false);
    expect(other.request!.headers.get("x-seen-model")).toBe("qwen");
  });

  it("chunked bodies: headers wait for the last chunk; content-length is fixed when declared, never added", async () => {
    const host = await hostWith(HOLD);
    const body = '{"model":"food-review","messages":[{"role":"user","content":"split across chunks"}]}';
    const chunks = [body.slice(0, 7), body.slice(7, 30), body.slice(30)];
    const declared = await host.request(chat(chunks));
    expect(declared.request!.headers.get("x-gateway-model-name")).toMatch(/^food-review-v[12]$/);
    expect(declared.request!.headers.get("content-length")).toBe(String(Buffer.byteLength(declared.request!.bodyText)));
    const undeclared = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", "transfer-encoding": "chunked" }, body: chunks });
    const fwd = undeclared.request!;
    expect(fwd.headers.has("content-length")).toBe(false);
    expect(JSON.parse(fwd.bodyText).model).toBe(fwd.headers.get("x-gateway-model-name"));
    expect(host.metrics.value("wayroute_body_routing_headers_unavailable_total")).toBe(0);
  });
});

describe("hold mode: pass-through releases the headers and forwards the request unchanged", () => {
  const BODY = '{"model":"food-review","messages":[]}';
  const cases: Array<[string, RequestOptions, string | null]> = [
    ["gzip content-encoding", chat(BODY, { "content-encoding": "gzip" }), "wayroute_body_routing_skipped_encoded_total"],
    ["non-JSON content type", chat(BODY, { "content-type": "text/plain" }), "wayroute_body_routing_skipped_not_json_total"],
    ["declared length above maxBodyBytes", chat(BODY, { "content-length": "9000" }), "wayroute_body_routing_skipped_too_large_total"],
    ["invalid JSON", chat('{"model":"food-review",}'), "wayroute_body_routing_skipped_invalid_json_total"],
    ["no model", chat('{"messages":[]}'), "wayroute_body_routing_skipped_no_model_total"],
    ["chunked body growing past maxBodyBytes", { headers: { ":method": "POST", ":path": "/v1/chat/completions" }, body: (() => { const b = largeChatBody(20_000, "food-review"); return [b.slice(0, 5000), b.slice(5000, 10_000), b.slice(10_000)]; })() }, "wayroute_body_routing_skipped_too_large_total"],
    ["path not routed", { ...chat(BODY), headers: { ":method": "POST", ":path": "/v1/models", "content-type": "application/json" } }, null],
    ["no body", { headers: { ":method": "GET", ":path": "/v1/chat/completions" } }, null],
  ];
  for (const [name, req, metric] of cases) {
    it(name, async () => {
      const host = await hostWith(HOLD);
      const r = await host.request(req);
      expect(r.trap).toBeUndefined();
      expect(r.upstreamCalled).toBe(true);
      const sent = Array.isArray(req.body) ? req.body.join("") : (req.body ?? "");
      expect(r.request!.bodyText).toBe(sent);
      expect(r.request!.headers.get("content-length")).toBe(req.headers?.["content-length"]);
      expect(r.request!.headers.has("x-gateway-model-name")).toBe(false);
      if (metric) expect(host.metrics.value(metric)).toBe(1);
      expect(host.metrics.value("wayroute_body_routing_routed_total")).toBe(0);
      expect(host.metrics.value("wayroute_body_routing_headers_unavailable_total")).toBe(0);
    });
  }

  it("model rules still run on the request when the body is not routed", async () => {
    const host = await hostWith({ ...HOLD, rules: [{ request: { set: { "x-model": "{{model|default:none}}" } } }] });
    const r = await host.request(chat('{"model":"food-review",}'));
    expect(r.request!.headers.get("x-model")).toBe("none");
  });
});

describe("hold mode: fuzzed bodies", () => {
  it("never trap; every request completes; body, content-length and model header agree", async () => {
    const host = await hostWith({ ...HOLD, bodyRouting: { ...HOLD.bodyRouting, modelRewrites: [REWRITE, { targets: [{ modelRewrite: "Z" }] }] } });
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }).map((s) => new TextEncoder().encode(s)),
      fc.tuple(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), fc.constantFrom("food-review", "m", "a\r\nb", ""))
        .map(([o, m]) => new TextEncoder().encode(JSON.stringify({ ...o, model: m }))),
      fc.integer({ min: 8000, max: 9000 }).map((n) => new TextEncoder().encode(largeChatBody(n, "food-review"))),
    );
    const split = fc.array(fc.nat(), { maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(body, split, fc.boolean(), async (bytes, cuts, declare) => {
        const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const p of [...points, bytes.length]) {
          if (p > at) chunks.push(bytes.slice(at, p));
          at = Math.max(at, p);
        }
        const headers: Record<string, string> = { ":method": "POST", ":path": "/v1/completions", "content-type": "application/json" };
        if (declare) headers["content-length"] = String(bytes.length);
        const r = await host.request({ headers, body: chunks.length ? chunks : undefined });
        expect(r.trap).toBeUndefined();
        expect(r.upstreamCalled).toBe(true);
        const fwd = r.request!;
        if (declare) expect(fwd.headers.get("content-length")).toBe(String(fwd.body.length));
        else expect(fwd.headers.has("content-length")).toBe(false);
        const model = fwd.headers.get("x-gateway-model-name");
        if (model !== undefined) expect(JSON.parse(fwd.bodyText).model).toBe(model);
        else expect(Buffer.from(fwd.body).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 250 },
    );
    expect(host.traps).toEqual([]);
    expect(host.metrics.value("wayroute_body_routing_headers_unavailable_total")).toBe(0);
  }, 120_000);
});

describe("the plugin flag and the Envoy knob must be set together", () => {
  it("flag on, knob off: a body-routed request waits for a continue that never comes (Envoy would hang it)", async () => {
    // Nothing in the ABI tells the plugin how the host treats StopIteration, so it cannot
    // detect this; the schema description and docs/rewriting.md say to set both.
    const host = await hostWith(HOLD, false);
    expect(host.configured).toBe(true);
    const pending = host.request(chat('{"model":"food-review"}'));
    let done = false;
    void pending.then(() => (done = true));
    await host.settle();
    await host.advance(60_000);
    expect(done).toBe(false);
    // Requests that do not need the body are not held and still go through.
    const get = await host.request({ headers: { ":method": "GET", ":path": "/v1/models" } });
    expect(get.upstreamCalled).toBe(true);
    host.close();
  });

  it("knob on, flag off: today's behaviour (headers continue at once, model headers refused and counted)", async () => {
    const host = await hostWith({ bodyRouting: HOLD.bodyRouting });
    const r = await host.request(chat('{"model":"food-review"}'));
    expect(r.request!.headers.has("x-gateway-model-name")).toBe(false);
    expect(r.request!.headers.has("content-length")).toBe(false);
    expect(JSON.parse(r.request!.bodyText).model).toMatch(/^food-review-v[12]$/);
    expect(host.metrics.value("wayroute_body_routing_headers_unavailable_total")).toBe(1);
    expect(r.clearRouteCacheCount).toBe(0);
  });
});

describe("config: holdHeadersForBody", () => {
  it("schema and plugin accept booleans and refuse anything else, naming $.holdHeadersForBody", async () => {
    const { validate } = pluginConfigValidator(path.join(repoRoot, "schemas"));
    for (const value of [true, false, "true", 1, null]) {
      const config = { holdHeadersForBody: value };
      const host = await hostWith(config as ConfigInput);
      const schemaOk = validate(config) === true;
      expect(host.configured, String(value)).toBe(schemaOk);
      expect(schemaOk).toBe(typeof value === "boolean");
      if (!schemaOk) {
        expect(host.logEntries().map((e) => e.message).join("\n")).toContain("plugin configuration refused: $.holdHeadersForBody");
      }
      host.close();
    }
  });
});
