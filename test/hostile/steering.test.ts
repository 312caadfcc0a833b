/**
 * Client-sent steering headers through the real release plugin.wasm (docs/rewriting.md,
 * "Steering headers from clients"): with every shipped example config and an empty one, in
 * hold mode and headers-only mode, whatever section matches, no value a client wrote in
 * x-gateway-destination-endpoint, a route-mode header, a model header or an objective/priority
 * header reaches the upstream; callers named in `steering.trustedCallers` keep them; only
 * trusted callers choose their priority.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ProxyWasmHost, type RawHeaderWrite } from "../../src/host/index.js";
import { pluginConfigValidator } from "../../src/manifest/plugin-config.js";
import { repoRoot, wasmBytes } from "../build/wasm-files.js";
import { ADDRS, FakePool, pickerHost, poolConfig, scrapeRound } from "../picker/helpers.js";

let plugin: WebAssembly.Module;

beforeAll(async () => {
  plugin = await WebAssembly.compile(wasmBytes("plugin.wasm"));
}, 300_000);

const CONFIG_DIR = path.join(repoRoot, "examples/configs");
const EXAMPLES: Array<[string, Record<string, unknown>]> = [
  ["empty config", {}],
  ...readdirSync(CONFIG_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(path.join(CONFIG_DIR, f), "utf8"))] as [string, Record<string, unknown>]),
];

/** Every header a client may try to steer with (route-mode names from the examples included). */
const STEERING = [
  "x-gateway-destination-endpoint",
  "x-wayroute-backend",
  "x-gateway-model-name",
  "x-gateway-base-model-name",
  "x-gateway-model-name-rewrite",
  "x-gateway-inference-objective",
  "x-llm-d-inference-objective",
  "x-wayroute-priority",
  "x-gateway-destination-endpoint-subset",
];

const GATEWAY = "spiffe://cluster.local/ns/llm-gateway/sa/gateway";
const WORKLOAD = "spiffe://cluster.local/ns/team-a/sa/app";

function identity(id: string | null): Record<string, unknown> {
  return id === null ? {} : { filter_state: { "io.istio.peer_principal": id }, source: { principal: id } };
}

const PRIORITY = new Set(["x-gateway-inference-objective", "x-llm-d-inference-objective", "x-wayroute-priority", "x-gateway-destination-endpoint-subset"]);

/** A pool of `config` names `who` in its own trustedCallers (it may then send priority headers). */
function poolTrusts(config: Record<string, unknown>, who: string | null): boolean {
  if (who === null) return false;
  const pools = (config.pools ?? []) as Array<{ trustedCallers?: Array<{ property: string; equals?: string; prefix?: string }> }>;
  return pools.some((p) =>
    (p.trustedCallers ?? []).some((t) => t.property === "source.principal" && (t.equals !== undefined ? who === t.equals : who.startsWith(t.prefix ?? "\0"))),
  );
}

async function hostFor(config: Record<string, unknown>, hold: boolean, writes?: RawHeaderWrite[]): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create({
    module: plugin,
    pluginConfig: { ...config, holdHeadersForBody: hold },
    allowOnHeadersStopIteration: hold,
    onHeaderWrite: writes ? (w) => writes.push(w) : undefined,
    upstream: { status: 200 },
  });
}

const request = fc.record({
  sent: fc.subarray(STEERING, { minLength: 1 }),
  // Values a client might use; tagged so a value the plugin set itself never matches.
  value: fc.constantFrom("6.6.6.6:80", "169.254.169.254:80,6.6.6.6:80", "qwen-3", "premium", "interactive", "100", "llama-3"),
  path: fc.constantFrom("/v1/chat/completions", "/v1/completions", "/v1/models", "/healthz", "/"),
  authority: fc.constantFrom("qwen.llm.svc.cluster.local", "other.example", "llm.local"),
  method: fc.constantFrom("POST", "GET"),
  body: fc.constantFrom('{"model":"food-review","messages":[{"role":"user","content":"hi"}]}', '{"model":"a","prompt":"x"}', "not json"),
});

describe("client steering headers never reach the upstream unless the caller is trusted", () => {
  for (const [name, config] of EXAMPLES) {
    for (const hold of [false, true]) {
      it(`${name}, ${hold ? "hold" : "headers-only"} mode`, async () => {
        const { validate } = pluginConfigValidator(path.join(repoRoot, "schemas"));
        expect(validate({ ...config, holdHeadersForBody: hold }), JSON.stringify(validate.errors)).toBe(true);
        const host = await hostFor(config, hold);
        expect(host.configured).toBe(true);
        let removed = 0;
        await fc.assert(
          fc.asyncProperty(request, fc.constantFrom(null, WORKLOAD, GATEWAY), async (q, who) => {
            const tag = `client:${q.value}`;
            const headers: Record<string, string> = { ":method": q.method, ":path": q.path, ":authority": q.authority, "content-type": "application/json" };
            for (const h of q.sent) headers[h] = tag;
            const r = await host.request({ headers, body: q.method === "POST" ? q.body : undefined, properties: identity(who) });
            expect(r.trap).toBeUndefined();
            removed += q.sent.filter((h) => !(PRIORITY.has(h) && poolTrusts(config, who))).length;
            // A local reply (shed, no endpoint) sends nothing upstream: nothing to leak either.
            if (!r.request) return;
            for (const h of STEERING) {
              // A pool's own trusted callers keep the priority headers (that pool decides).
              if (PRIORITY.has(h) && poolTrusts(config, who)) continue;
              expect(r.request.headers.getAll(h), `${h} from ${who}`).not.toContain(tag);
            }
          }),
          { numRuns: 60 },
        );
        expect(host.traps).toEqual([]);
        expect(host.metrics.value("wayroute_steering_headers_removed_total")).toBe(removed);
      });
    }
  }
});

describe("steering.trustedCallers", () => {
  const CONFIG = {
    steering: { trustedCallers: [{ properties: [{ path: "filter_state[io.istio.peer_principal]", equals: GATEWAY }] }] },
    bodyRouting: {},
  };

  for (const hold of [false, true]) {
    it(`keeps a trusted caller's headers and only theirs (${hold ? "hold" : "headers-only"} mode)`, async () => {
      const host = await hostFor(CONFIG, hold);
      await fc.assert(
        fc.asyncProperty(fc.subarray(STEERING, { minLength: 1 }), fc.constantFrom(null, WORKLOAD, GATEWAY, GATEWAY + "x", "spiffe://cluster.local/ns/llm-gateway"), async (sent, who) => {
          const headers: Record<string, string> = { ":method": "GET", ":path": "/v1/models" };
          for (const h of sent) headers[h] = "trusted-value";
          const r = await host.request({ headers, properties: identity(who) });
          for (const h of sent) expect(r.request!.headers.get(h), `${h} from ${who}`).toBe(who === GATEWAY ? "trusted-value" : undefined);
        }),
        { numRuns: 80 },
      );
    });
  }

  it("decides whether a client's x-gateway-model-name is believed by the picker", async () => {
    const pool = new FakePool(ADDRS);
    pool.set(ADDRS[0], { loras: { running: ["other"], waiting: [], max: 1 } });
    pool.set(ADDRS[1], { loras: { running: ["sql-lora"], waiting: [], max: 1 } });
    pool.set(ADDRS[2], { loras: { running: [], waiting: [], max: 1 } });
    const host = await pickerHost(
      { ...poolConfig({ steering: { maxEndpoints: 1 }, profile: { scorers: [{ type: "lora-affinity-scorer", weight: 1 }] } }), steering: CONFIG.steering },
      pool,
    );
    await scrapeRound(host);
    const ask = (who: string | null) =>
      host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", "x-gateway-model-name": "sql-lora" }, body: '{"model":"sql-lora"}', properties: identity(who) });
    // Believed: the header-time pick goes to the server with the adapter.
    expect((await ask(GATEWAY)).request!.headers.get("x-gateway-destination-endpoint")).toBe(ADDRS[1]);
    // Not believed: removed, so the picker does not know the model at header time.
    const untrusted = await ask(WORKLOAD);
    expect(untrusted.request!.headers.has("x-gateway-model-name")).toBe(false);
  });

  it("refuses a trusted caller named by anything but peer identity, naming the field", async () => {
    for (const [bad, why] of [
      [{ trustedCallers: [{ headers: [{ name: "x-caller", equals: "gw" }] }] }, "$.steering.trustedCallers[0].headers: unknown field \"headers\" (allowed: properties)"],
      [{ trustedCallers: [{ properties: [] }] }, "$.steering.trustedCallers[0].properties: must list at least one property condition"],
      [{ trustedCallers: [{}] }, "$.steering.trustedCallers[0]"],
      [{ trusted: [] }, "$.steering.trusted: unknown field"],
    ] as Array<[Record<string, unknown>, string]>) {
      const host = await ProxyWasmHost.create({ module: plugin, pluginConfig: { steering: bad } });
      expect(host.configured).toBe(false);
      expect(host.logs.messages("error").join("\n")).toContain(why);
      const { validate } = pluginConfigValidator(path.join(repoRoot, "schemas"));
      expect(validate({ steering: bad })).toBe(false);
    }
  });
});

describe("priority: a client cannot choose its objective by header", () => {
  // Every endpoint is saturated: a sheddable request (priority < 0) is answered 429, so the
  // status shows whether the plugin believed the objective header.
  async function saturated(extra: Record<string, unknown>, top: Record<string, unknown> = {}) {
    const pool = new FakePool(ADDRS);
    for (const a of ADDRS) pool.set(a, { waiting: 9 });
    const host = await pickerHost({ ...poolConfig({ priority: { default: 0, objectives: { batch: -1, interactive: 10 } }, ...extra }), ...top }, pool);
    await scrapeRound(host);
    return host;
  }
  const ask = (host: ProxyWasmHost, header: string, who: string | null) =>
    host.request({ headers: { ":method": "GET", ":path": "/v1/models", [header]: "batch" }, properties: identity(who) });

  it("ignores (and removes) the objective from an untrusted caller, under both names", async () => {
    const host = await saturated({});
    for (const header of ["x-gateway-inference-objective", "x-llm-d-inference-objective"]) {
      const r = await ask(host, header, WORKLOAD);
      expect(r.response.status).toBe(200);
      expect(r.request!.headers.has(header)).toBe(false);
    }
  });

  it("believes a caller trusted by steering.trustedCallers, under both names", async () => {
    const host = await saturated({}, { steering: { trustedCallers: [{ properties: [{ path: "source.principal", prefix: "spiffe://cluster.local/ns/llm-gateway/" }] }] } });
    for (const header of ["x-gateway-inference-objective", "x-llm-d-inference-objective"]) {
      expect((await ask(host, header, GATEWAY)).response.status).toBe(429);
      expect((await ask(host, header, WORKLOAD)).response.status).toBe(200);
    }
  });

  it("still believes a pool's own trustedCallers for its priority headers", async () => {
    const host = await saturated({ trustedCallers: [{ property: "source.principal", prefix: "spiffe://cluster.local/ns/llm-gateway/" }] });
    expect((await ask(host, "x-gateway-inference-objective", GATEWAY)).response.status).toBe(429);
    const r = await ask(host, "x-gateway-inference-objective", WORKLOAD);
    expect(r.response.status).toBe(200);
    expect(r.request!.headers.has("x-gateway-inference-objective")).toBe(false);
  });
});
