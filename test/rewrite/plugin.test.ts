/**
 * Rules and body routing through the real release wasm in the Envoy-faithful harness:
 * a waypoint-like scenario (model routing with a weighted rewrite, a tenant header from the
 * caller's SPIFFE identity, response cleanup), the pass-through cases and their counters, the
 * body corpus through the plugin, property tests (no trap, byte-exact rewrite), and parity
 * between the JSON Schemas and the plugin's own config parser.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ProxyWasmHost, type ConfigInput, type RequestOptions } from "../../src/host/index.js";
import { pluginConfigValidator } from "../../src/manifest/plugin-config.js";
import { repoRoot, wasmBytes } from "../build/wasm-files.js";
import { fixtureBodies, golden, largeChatBody } from "../body/bodies.js";

let plugin: WebAssembly.Module;
const EXAMPLE = JSON.parse(readFileSync(path.join(repoRoot, "examples/configs/model-routing.json"), "utf8"));
const TEAM_A = "spiffe://cluster.local/ns/team-a/sa/chat-frontend";
const dec = new TextDecoder();

/** docs/rewriting.md: a model name with no control character and no lone surrogate. */
function headerSafeModel(m: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(m) && (m as unknown as { isWellFormed(): boolean }).isWellFormed();
}

beforeAll(async () => {
  plugin = await WebAssembly.compile(wasmBytes("plugin.wasm"));
}, 300_000);

function hostWith(pluginConfig: ConfigInput, extra: Partial<Parameters<typeof ProxyWasmHost.create>[0]> = {}): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create({
    module: plugin,
    pluginConfig,
    upstream: (req) => ({ status: 200, headers: { server: "envoy", "x-envoy-upstream-service-time": "7", "x-upstream": "u" }, body: req.bodyText.length.toString() }),
    ...extra,
  });
}

function chat(body: string, headers: Record<string, string> = {}, identity: string | null = TEAM_A): RequestOptions {
  return {
    headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers },
    body,
    // An Istio ambient waypoint keeps the caller's SPIFFE ID in this filter state object.
    properties: identity === null ? {} : { filter_state: { "io.istio.peer_principal": identity } },
  };
}

describe("example config examples/configs/model-routing.json", () => {
  it("validates against the schemas and configures the plugin", async () => {
    const { validate, missingSections } = pluginConfigValidator(path.join(repoRoot, "schemas"));
    expect(missingSections).not.toContain("rules.schema.json");
    expect(missingSections).not.toContain("body-routing.schema.json");
    expect(validate(EXAMPLE), JSON.stringify(validate.errors)).toBe(true);
    const host = await hostWith(EXAMPLE);
    expect(host.configured).toBe(true);
    expect(host.logEntries().map((e) => e.message)).toContain("plugin configured: sections [steering, rules, bodyRouting]");
  });
});

describe("waypoint scenario: model routing + tenant from identity + response cleanup", () => {
  it("rewrites food-review to v1/v2 about 90/10, changing only the model bytes", async () => {
    const host = await hostWith(EXAMPLE);
    const body = '{"model": "food-review", "messages": [{"role": "user", "content": "Rate this pizza"}], "stream": false}';
    const counts: Record<string, number> = {};
    const N = 400;
    for (let i = 0; i < N; i++) {
      const r = await host.request(chat(body, { "x-tenant": "spoofed" }));
      expect(r.trap).toBeUndefined();
      const fwd = r.request!;
      const model = JSON.parse(fwd.bodyText).model as string;
      counts[model] = (counts[model] ?? 0) + 1;
      expect(fwd.bodyText).toBe(body.replace('"food-review"', JSON.stringify(model)));
      // The body may change length: the framing header is dropped, Envoy re-frames it.
      expect(fwd.headers.has("content-length")).toBe(false);
      expect(fwd.headers.getAll("x-tenant")).toEqual(["team-a"]);
      expect(fwd.headers.get("x-caller-sa")).toBe("chat-frontend");
      expect(r.response.headers.has("server")).toBe(false);
      expect(r.response.headers.has("x-envoy-upstream-service-time")).toBe(false);
      expect(r.response.headers.get("x-upstream")).toBe("u");
      expect(r.response.headers.get("x-served-model")).toBe(model);
    }
    expect(Object.keys(counts).sort()).toEqual(["food-review-v1", "food-review-v2"]);
    // 90/10 over 400 draws: v2 has mean 40 and sd 6; these bounds are over 4 sd away.
    expect(counts["food-review-v2"]).toBeGreaterThan(15);
    expect(counts["food-review-v2"]).toBeLessThan(70);
    expect(host.metrics.value("wayroute_body_routing_routed_total")).toBe(N);
    expect(host.metrics.value("wayroute_body_routing_rewritten_total")).toBe(N);
  });

  it("leaves other models alone and strips client-supplied model headers", async () => {
    const host = await hostWith(EXAMPLE);
    const body = '{"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[{"role":"user","content":"hi"}]}';
    const r = await host.request(chat(body, { "x-gateway-model-name": "evil", "x-gateway-model-name-rewrite": "evil", "x-gateway-base-model-name": "evil" }));
    expect(r.request!.bodyText).toBe(body);
    expect(r.request!.headers.has("x-gateway-model-name")).toBe(false);
    expect(r.request!.headers.has("x-gateway-model-name-rewrite")).toBe(false);
    expect(r.request!.headers.has("x-gateway-base-model-name")).toBe(false);
    expect(r.response.headers.get("x-served-model")).toBe("meta-llama/Llama-3.1-8B-Instruct");
    expect(host.metrics.value("wayroute_body_routing_rewritten_total")).toBe(0);
  });

  it("drops a spoofed tenant when the caller has no identity", async () => {
    const host = await hostWith(EXAMPLE);
    const r = await host.request(chat('{"model":"m","prompt":"x"}', { "x-tenant": "team-b", "x-caller-sa": "admin" }, null));
    expect(r.request!.headers.has("x-tenant")).toBe(false);
    expect(r.request!.headers.has("x-caller-sa")).toBe(false);
  });

  it("cannot set request headers from the body on stock Envoy, and says so in a counter", async () => {
    // proxy-wasm ABI 0.2.1: a header StopIteration stops body delivery too, and continued
    // headers are read-only; the model headers are therefore refused by the host.
    const host = await hostWith(EXAMPLE);
    const r = await host.request(chat('{"model":"food-review","messages":[]}'));
    expect(r.request!.headers.has("x-gateway-model-name")).toBe(false);
    expect(host.metrics.value("wayroute_body_routing_headers_unavailable_total")).toBe(1);
    expect(JSON.parse(r.request!.bodyText).model).toMatch(/^food-review-v[12]$/);
  });
});

describe("bodies that pass unchanged are counted", () => {
  const CONFIG = { bodyRouting: { maxBodyBytes: 4096, modelRewrites: [{ matches: [{ model: { value: "m" } }], targets: [{ modelRewrite: "catch-all" }] }] } };
  const BODY = '{"model":"m","messages":[]}';
  const cases: Array<[string, RequestOptions, string | null]> = [
    ["gzip content-encoding", chat(BODY, { "content-encoding": "gzip" }), "wayroute_body_routing_skipped_encoded_total"],
    ["non-JSON content type", chat(BODY, { "content-type": "text/plain" }), "wayroute_body_routing_skipped_not_json_total"],
    ["declared length above maxBodyBytes", chat(BODY, { "content-length": "5000" }), "wayroute_body_routing_skipped_too_large_total"],
    ["invalid JSON", chat('{"model":"m",}'), "wayroute_body_routing_skipped_invalid_json_total"],
    ["no model", chat('{"messages":[]}'), "wayroute_body_routing_skipped_no_model_total"],
    ["model with CR LF", chat('{"model":"a\\r\\nx-evil: 1"}'), "wayroute_body_routing_skipped_unsafe_model_total"],
    ["path not routed", { ...chat(BODY), headers: { ":method": "POST", ":path": "/v1/models", "content-type": "application/json" } }, null],
  ];
  for (const [name, req, metric] of cases) {
    it(name, async () => {
      const host = await hostWith(CONFIG);
      const r = await host.request(req);
      expect(r.trap).toBeUndefined();
      expect(Buffer.from(r.request!.body).equals(Buffer.from(req.body as string))).toBe(true);
      if (metric) expect(host.metrics.value(metric)).toBe(1);
      expect(host.metrics.value("wayroute_body_routing_routed_total")).toBe(0);
    });
  }

  it("a chunked body growing past maxBodyBytes is released unchanged", async () => {
    const host = await hostWith(CONFIG);
    const big = largeChatBody(10_000, "m");
    const chunks = [big.slice(0, 3000), big.slice(3000, 6000), big.slice(6000)];
    const r = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" }, body: chunks });
    expect(r.request!.bodyText).toBe(big);
    expect(host.metrics.value("wayroute_body_routing_skipped_too_large_total")).toBe(1);
  });

  it("a chunked body within the limit is routed", async () => {
    const host = await hostWith(CONFIG);
    const body = '{"model":"m","messages":[{"role":"user","content":"split across chunks"}]}';
    const r = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions" }, body: [body.slice(0, 10), body.slice(10, 20), body.slice(20)] });
    expect(r.request!.bodyText).toBe(body.replace('"m"', '"catch-all"'));
  });
});

describe("body corpus through the plugin", () => {
  it("rewrites every routable fixture exactly like the scanner and reports the model", async () => {
    const host = await hostWith({
      rules: [{ response: { set: { "x-model": "{{model|default:<none>}}" } } }],
      bodyRouting: { modelRewrites: [{ targets: [{ modelRewrite: "REWRITTEN" }] }] },
    });
    const expected = golden();
    let routed = 0;
    for (const [name, bytes] of fixtureBodies()) {
      const want = expected[name]!;
      const r = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" }, body: bytes });
      expect(r.trap, name).toBeUndefined();
      // A catch-all rewrite applies to every header-safe string model; an unsafe one (control
      // character, lone surrogate) passes unchanged.
      const routable = !want.error && typeof want.model === "string" && headerSafeModel(want.model);
      if (!routable) {
        expect(Buffer.from(r.request!.body).equals(Buffer.from(bytes)), name).toBe(true);
        expect(r.response.headers.get("x-model"), name).toBe("<none>");
        continue;
      }
      routed++;
      const text = dec.decode(bytes);
      const out = r.request!.bodyText;
      expect(JSON.parse(out).model, name).toBe("REWRITTEN");
      expect({ ...JSON.parse(out), model: 0 }, name).toEqual({ ...JSON.parse(text), model: 0 });
      expect(r.response.headers.get("x-model"), name).toBe("REWRITTEN");
    }
    expect(routed).toBeGreaterThanOrEqual(25);
  });

  it("handles a 1 MB body", async () => {
    const host = await hostWith({ bodyRouting: { maxBodyBytes: 2_000_000, modelRewrites: [{ targets: [{ modelRewrite: "x" }] }] } });
    const body = largeChatBody(1_000_000, "big", true);
    const r = await host.request(chat(body));
    expect(r.trap).toBeUndefined();
    expect(r.request!.bodyText).toBe(body.replace('"model":"big"', '"model":"x"'));
  });
});

describe("properties through the plugin", () => {
  it("no body traps the VM and only the model bytes change", async () => {
    const host = await hostWith({ bodyRouting: { modelRewrites: [{ targets: [{ modelRewrite: "Z" }] }] } });
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }).map((s) => new TextEncoder().encode(s)),
      fc.tuple(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), fc.string({ unit: "binary" })).map(([o, m]) => new TextEncoder().encode(JSON.stringify({ ...o, model: m }))),
    );
    await fc.assert(
      fc.asyncProperty(body, async (bytes) => {
        const r = await host.request({ headers: { ":method": "POST", ":path": "/v1/completions", "content-type": "application/json" }, body: bytes.length ? bytes : undefined });
        expect(r.trap).toBeUndefined();
        if (!bytes.length) return;
        const out = r.request!.body;
        let doc: { model?: unknown } | null = null;
        try {
          const parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) doc = parsed;
        } catch {
          doc = null;
        }
        if (doc && typeof doc.model === "string" && headerSafeModel(doc.model)) {
          const after = JSON.parse(dec.decode(out));
          expect(after.model).toBe("Z");
          expect({ ...after, model: 0 }).toEqual({ ...doc, model: 0 });
        } else {
          expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    expect(host.traps).toEqual([]);
  });
});

describe("rules through the plugin", () => {
  it("rewrites path and authority, matches globs, methods and CIDRs, and clears the route cache", async () => {
    const host = await hostWith({
      rules: [
        {
          name: "internal-callers",
          match: { path: { glob: "/v1/*/completions" }, methods: ["POST"], properties: [{ path: "source.address", cidr: ["10.0.0.0/8", "fd00::/8"] }] },
          request: { rewritePathPrefix: { prefix: "/v1/", replacement: "/openai/v1/" }, authority: "llm.internal", append: { "x-route": "internal" } },
        },
      ],
    });
    const hit = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions?x=1" }, body: "{}", sourceAddress: "10.1.2.3:4567" });
    expect(hit.request!.headers.get(":path")).toBe("/openai/v1/chat/completions?x=1");
    expect(hit.request!.headers.get(":authority")).toBe("llm.internal");
    expect(hit.request!.headers.get("x-route")).toBe("internal");
    expect(hit.clearRouteCacheCount).toBe(1);
    const v6 = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions" }, body: "{}", sourceAddress: "[fd00::9]:80" });
    expect(v6.request!.headers.get(":path")).toBe("/openai/v1/chat/completions");
    const outside = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions" }, body: "{}", sourceAddress: "192.168.1.1:5" });
    expect(outside.request!.headers.get(":path")).toBe("/v1/chat/completions");
    expect(outside.clearRouteCacheCount).toBe(0);
    const get = await host.request({ headers: { ":method": "GET", ":path": "/v1/chat/completions" }, sourceAddress: "10.1.2.3:4567" });
    expect(get.request!.headers.get(":path")).toBe("/v1/chat/completions");
  });

  it("never emits a header value with CR or LF taken from the request", async () => {
    const host = await hostWith({ rules: [{ request: { set: { "x-copy": "{{header:x-src}}" } } }] });
    const r = await host.request({ headers: { "x-src": "safe" } });
    expect(r.request!.headers.get("x-copy")).toBe("safe");
    const p = await host.request({ headers: {}, properties: {} });
    expect(p.request!.headers.has("x-copy")).toBe(false);
  });
});

describe("schemas and the plugin parser agree", () => {
  const configs: Array<[string, unknown]> = [
    ["empty rules", { rules: [] }],
    ["full rule", EXAMPLE],
    ["unknown rule key", { rules: [{ mtch: {} }] }],
    ["glob without slash", { rules: [{ match: { path: { glob: "v1/*" } } }] }],
    ["two path kinds", { rules: [{ match: { path: { exact: "/a", prefix: "/a" } } }] }],
    ["lowercase method", { rules: [{ match: { methods: ["post"] } }] }],
    ["uppercase header", { rules: [{ match: { headers: [{ name: "X-A", present: true }] } }] }],
    ["header without operator", { rules: [{ match: { headers: [{ name: "x-a" }] } }] }],
    ["two header operators", { rules: [{ match: { headers: [{ name: "x-a", equals: "1", prefix: "1" }] } }] }],
    ["cidr", { rules: [{ match: { properties: [{ path: "source.address", cidr: ["10.0.0.0/8", "::1"] }] } }] }],
    ["empty cidr list", { rules: [{ match: { properties: [{ path: "source.address", cidr: [] }] } }] }],
    ["bad property path", { rules: [{ match: { properties: [{ path: "a..b", present: true }] } }] }],
    ["CRLF value", { rules: [{ request: { set: { "x-a": "a\r\nb" } } }] }],
    ["reserved header", { rules: [{ request: { set: { "content-length": "1" } } }] }],
    ["rename", { rules: [{ request: { rename: { "x-old": "x-new" } } }] }],
    ["response rename", { rules: [{ response: { rename: { "x-old": "x-new" } } }] }],
    ["path rewrite", { rules: [{ request: { rewritePathPrefix: { prefix: "/a", replacement: "/b" } } }] }],
    ["path rewrite with query", { rules: [{ request: { rewritePathPrefix: { prefix: "/a", replacement: "/b?x" } } }] }],
    ["empty authority", { rules: [{ request: { authority: "" } }] }],
    ["empty models", { rules: [{ match: { models: [] } }] }],
    ["body routing defaults", { bodyRouting: {} }],
    ["body routing full", { bodyRouting: EXAMPLE.bodyRouting }],
    ["maxBodyBytes 0", { bodyRouting: { maxBodyBytes: 0 } }],
    ["maxBodyBytes fraction", { bodyRouting: { maxBodyBytes: 1.5 } }],
    ["empty paths", { bodyRouting: { paths: [] } }],
    ["path with query", { bodyRouting: { paths: ["/v1?x"] } }],
    ["weight 0", { bodyRouting: { modelRewrites: [{ targets: [{ modelRewrite: "a", weight: 0 }] }] } }],
    ["weight too big", { bodyRouting: { modelRewrites: [{ targets: [{ modelRewrite: "a", weight: 1000001 }] }] } }],
    ["mixed weights", { bodyRouting: { modelRewrites: [{ targets: [{ modelRewrite: "a", weight: 1 }, { modelRewrite: "b" }] }] } }],
    ["no targets", { bodyRouting: { modelRewrites: [{ targets: [] }] } }],
    ["prefix match type", { bodyRouting: { modelRewrites: [{ matches: [{ model: { type: "Prefix", value: "a" } }], targets: [{ modelRewrite: "b" }] }] } }],
    ["reserved model header", { bodyRouting: { modelHeader: "content-length" } }],
    ["empty adapter base", { bodyRouting: { adapters: { a: "" } } }],
    ["unknown bodyRouting key", { bodyRouting: { clearRouteCash: true } }],
  ];
  it("accept and refuse the same configs", async () => {
    const { validate } = pluginConfigValidator(path.join(repoRoot, "schemas"));
    for (const [name, config] of configs) {
      const host = await hostWith(config as ConfigInput);
      const schemaOk = validate(config) === true;
      expect(host.configured, `${name}: plugin ${host.configured}, schema ${schemaOk} ${JSON.stringify(validate.errors?.[0] ?? host.logEntries().map((e) => e.message))}`).toBe(schemaOk);
      host.close();
    }
  });
});

describe("generated configs", () => {
  // Rule and bodyRouting fragments, valid and invalid, combined at random: the plugin never
  // traps on them and accepts exactly the configs the schemas accept.
  const headerName = fc.constantFrom("x-a", "x-tenant", "X-Bad", "content-length", "", "x a");
  const text = fc.constantFrom("v", "", "{{header:x-a}}", "{{model}}", "{{property:source.address|spiffe:ns}}", "{{nope}}", "a\nb", "{{header:x", "{{property:filter_state[io.istio.peer_principal]|default:x}}");
  const pathMatch = fc.constantFrom<unknown>({ exact: "/a" }, { prefix: "/v1" }, { glob: "/v1/*/x" }, { glob: "v1" }, { glob: "/***" }, {}, { exact: "/a", prefix: "/b" }, "nope");
  const headerCond = fc.record({ name: headerName, equals: fc.option(fc.string(), { nil: undefined }), present: fc.option(fc.boolean(), { nil: undefined }) }, { requiredKeys: ["name"] });
  const propCond = fc.record(
    { path: fc.constantFrom("source.address", "a..b", "filter_state[x.y]", "x[", ""), cidr: fc.option(fc.array(fc.constantFrom("10.0.0.0/8", "::/0", "1.2.3.4/33", "zz"), { maxLength: 2 }), { nil: undefined }), prefix: fc.option(fc.string(), { nil: undefined }) },
    { requiredKeys: ["path"] },
  );
  const rule = fc.record(
    {
      name: fc.constantFrom("r", ""),
      match: fc.record({ path: pathMatch, methods: fc.array(fc.constantFrom("GET", "POST", "post"), { maxLength: 2 }), headers: fc.array(headerCond, { maxLength: 2 }), properties: fc.array(propCond, { maxLength: 2 }), models: fc.array(fc.constantFrom("m", ""), { maxLength: 2 }) }, { requiredKeys: [] }),
      request: fc.record({ set: fc.dictionary(headerName, text, { maxKeys: 2 }), remove: fc.array(headerName, { maxLength: 2 }), rewritePathPrefix: fc.record({ prefix: fc.constantFrom("/v1/", "v1"), replacement: fc.constantFrom("/x/", "/y?z") }), authority: text }, { requiredKeys: [] }),
      response: fc.record({ remove: fc.array(headerName, { maxLength: 2 }), append: fc.dictionary(headerName, text, { maxKeys: 1 }) }, { requiredKeys: [] }),
      extra: fc.constant(1),
    },
    { requiredKeys: [] },
  );
  const bodyRouting = fc.record(
    {
      maxBodyBytes: fc.constantFrom(1, 0, 1024, 1.5, 70_000_000),
      paths: fc.array(fc.constantFrom("/v1/x", "v1", "/a?b"), { maxLength: 2 }),
      modelRewrites: fc.array(
        fc.record({ matches: fc.array(fc.record({ model: fc.record({ value: fc.constantFrom("a", ""), type: fc.constantFrom("Exact", "Prefix") }, { requiredKeys: ["value"] }) }), { maxLength: 2 }), targets: fc.array(fc.record({ modelRewrite: fc.constantFrom("t", ""), weight: fc.constantFrom(1, 0, 1_000_000, 1_000_001, 2.5) }, { requiredKeys: ["modelRewrite"] }), { maxLength: 3 }) }, { requiredKeys: ["targets"] }),
        { maxLength: 2 },
      ),
      adapters: fc.dictionary(fc.constantFrom("a", "b"), fc.constantFrom("base", "")),
    },
    { requiredKeys: [] },
  );
  it("never trap and match the schemas", async () => {
    const { validate } = pluginConfigValidator(path.join(repoRoot, "schemas"));
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.record({ rules: fc.array(rule, { maxLength: 3 }), bodyRouting }, { requiredKeys: [] }), async (config) => {
        const host = await hostWith(config as ConfigInput);
        expect(host.traps).toEqual([]);
        const schemaOk = validate(config) === true;
        if (schemaOk) accepted++;
        else refused++;
        expect(host.configured, JSON.stringify({ config, schema: validate.errors?.[0], plugin: host.logEntries().map((e) => e.message) })).toBe(schemaOk);
        host.close();
      }),
      { numRuns: 300 },
    );
    // Both verdicts must be exercised for the comparison to mean anything.
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  }, 300_000);
});

