/**
 * The first plugin features through the real release wasm in the Envoy-faithful harness:
 * the `headers` section, the request counter, config refusal naming the JSON path, and
 * property-based fuzzing of configs and header maps (the VM must never trap).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MAIN_THREAD, ProxyWasmHost, type ConfigInput } from "../../src/host/index.js";
import { repoRoot, wasmBytes } from "../build/wasm-files.js";

let plugin: WebAssembly.Module;

beforeAll(async () => {
  plugin = await WebAssembly.compile(wasmBytes("plugin.wasm"));
});

function hostWith(pluginConfig: ConfigInput, logLevel: "trace" | "info" = "info"): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create({ module: plugin, pluginConfig, logLevel });
}

const HEADERS_CONFIG = {
  headers: {
    request: { set: { "x-a": "1", "x-model": "llama-3" }, remove: ["x-b", "x-gateway-destination-endpoint"] },
    response: { set: { "x-served-by": "wayroute" }, remove: ["server"] },
  },
};

describe("headers section", () => {
  it("sets and removes request headers before the request goes upstream", async () => {
    const host = await hostWith(HEADERS_CONFIG);
    expect(host.configured).toBe(true);
    const result = await host.request({
      headers: { "x-a": "client-value", "x-b": "strip me", "x-gateway-destination-endpoint": "10.0.0.1:80", "x-keep": "k" },
    });
    const forwarded = result.request!.headers;
    expect(forwarded.getAll("x-a")).toEqual(["1"]);
    expect(forwarded.get("x-model")).toBe("llama-3");
    expect(forwarded.has("x-b")).toBe(false);
    expect(forwarded.has("x-gateway-destination-endpoint")).toBe(false);
    expect(forwarded.get("x-keep")).toBe("k");
    expect(result.trap).toBeUndefined();
  });

  it("sets and removes response headers before the response reaches the client", async () => {
    const host = await hostWith(HEADERS_CONFIG);
    const result = await host.request({
      upstream: { status: 201, headers: { server: "envoy", "x-upstream": "u" }, body: "ok" },
    });
    expect(result.response.status).toBe(201);
    expect(result.response.headers.get("x-served-by")).toBe("wayroute");
    expect(result.response.headers.has("server")).toBe(false);
    expect(result.response.headers.get("x-upstream")).toBe("u");
    expect(result.response.bodyText).toBe("ok");
  });

  it("passes traffic unchanged with an empty config", async () => {
    const host = await hostWith(undefined);
    expect(host.configured).toBe(true);
    const result = await host.request({ headers: { "x-b": "stays" } });
    expect(result.request!.headers.get("x-b")).toBe("stays");
    expect(result.response.status).toBe(200);
  });
});

describe("wayroute_requests_total", () => {
  it("counts every request, across workers", async () => {
    const host = await ProxyWasmHost.create({ module: plugin, pluginConfig: HEADERS_CONFIG, workers: 2 });
    for (let i = 0; i < 5; i++) await host.request({ headers: { "x-i": String(i) } });
    expect(host.metrics.value("wayroute_requests_total")).toBe(5);
    expect(host.metrics.get("wayroute_requests_total")?.type).toBe("counter");
  });
});

describe("logging", () => {
  it("logs each stream at debug when logLevel is debug, nothing per request at info", async () => {
    const debugHost = await ProxyWasmHost.create({
      module: plugin,
      pluginConfig: { ...HEADERS_CONFIG, logLevel: "debug" },
      logLevel: "trace",
    });
    const debugRun = await debugHost.request({});
    expect(debugRun.logs.map((l) => `${l.level}: ${l.message}`)).toEqual([
      `debug: stream ${debugRun.streamId}: request headers (4)`,
      `debug: stream ${debugRun.streamId}: response headers (1)`,
    ]);
    const infoHost = await hostWith(HEADERS_CONFIG, "trace");
    const infoRun = await infoHost.request({});
    expect(infoRun.logs).toEqual([]);
    expect(infoHost.logs.messages("info")).toContain("plugin configured: sections [steering, headers]");
  });
});

describe("config refusal", () => {
  const cases: Array<[string, ConfigInput, string]> = [
    ["upper-case header name", { headers: { request: { set: { "X-A": "1" } } } }, '$.headers.request.set["X-A"]: header name must be a lower-case RFC 7230 token'],
    ["CR/LF in a value", { headers: { response: { set: { "x-a": "1\r\nx-evil: 2" } } } }, '$.headers.response.set["x-a"]: header value must not contain CR, LF or NUL'],
    ["wrong type", { headers: { request: { remove: "x-b" } } }, "$.headers.request.remove: expected array, got string"],
    ["unknown top-level field", { headerz: {} }, '$.headerz: unknown field "headerz"'],
    ["bad logLevel", { logLevel: "verbose" }, "$.logLevel: must be one of"],
    ["not an object", [1, 2], "$: expected object, got array"],
    ["invalid JSON", '{"headers": {', "$: invalid JSON: unexpected end of input at byte 13"],
  ];

  it.each(cases)("refuses %s and names the field in an error log", async (_name, config, expected) => {
    const host = await hostWith(config);
    expect(host.configured).toBe(false);
    expect(host.traps).toEqual([]);
    // The configuration canary refuses it, as in Envoy, and the main thread's VM is never made.
    expect(host.mainThread?.canaryConfigured).toBe(false);
    expect(host.mainThread?.vm).toBeUndefined();
    const errors = host.logEntries(MAIN_THREAD).filter((e) => e.level === "error").map((e) => e.message);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("plugin configuration refused: " + expected);
  });
});

// ---- Property-based fuzzing through the real wasm ------------------------------------------

const ajv = new Ajv2020({ strict: false });
const headersSchema = JSON.parse(readFileSync(path.join(repoRoot, "schemas", "headers.schema.json"), "utf8"));
const validateHeaders = ajv.compile(headersSchema);

const tokenChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&'*+^`|~".split(""));
const validName = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const anyName = fc.oneof(validName, fc.string({ maxLength: 8 }), fc.constantFrom("X-Upper", ":path", "a b", ""));
const anyValue = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("a\r\nb", "nul\0", "tab\tok", "é✓"),
);
// Mostly well-formed sections with occasional bad names, values and types, so that both
// acceptance and refusal are exercised often.
const plainValue = fc.string({ maxLength: 16 }).filter((v) => !/[\r\n\0]/.test(v));
const edits = fc.record(
  {
    set: fc.oneof(
      { arbitrary: fc.dictionary(validName, plainValue, { maxKeys: 4 }), weight: 6 },
      { arbitrary: fc.dictionary(anyName, anyValue, { maxKeys: 4 }), weight: 1 },
      { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 },
    ),
    remove: fc.oneof(
      { arbitrary: fc.array(validName, { maxLength: 4 }), weight: 6 },
      { arbitrary: fc.array(anyName, { maxLength: 4 }), weight: 1 },
      { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 },
    ),
  },
  { requiredKeys: [] },
);
const headersSection = fc.oneof(
  { arbitrary: fc.record({ request: edits, response: edits }, { requiredKeys: [] }), weight: 5 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
);

describe("fuzzing (fast-check)", () => {
  it("accepts a headers section exactly when its JSON Schema does, and never traps", async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(headersSection, async (section) => {
        const host = await hostWith({ headers: section });
        expect(host.traps).toEqual([]);
        expect(host.configured).toBe(validateHeaders(section));
        if (host.configured) accepted++;
        else refused++;
        if (!host.configured) {
          expect(host.logs.messages("error")[0]).toMatch(/^plugin configuration refused: \$\.headers/);
        }
      }),
      { numRuns: 150 },
    );
    // Both outcomes must be exercised for the comparison to mean anything.
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });

  it("never traps on arbitrary configuration bytes, and refusals always name a JSON path", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 64 }), fc.json({ maxDepth: 3 })),
        async (config) => {
          const host = await hostWith(config);
          expect(host.traps).toEqual([]);
          if (!host.configured) {
            expect(host.logs.messages("error")[0]).toMatch(/^plugin configuration refused: \$/);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("applies the edits to arbitrary header maps and leaves other headers alone", async () => {
    const host = await hostWith(HEADERS_CONFIG);
    const safeValue = fc.string({ maxLength: 24 }).filter((v) => !/[\r\n\0]/.test(v));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.oneof(validName, fc.constantFrom("x-a", "x-b", "server")), safeValue), { maxLength: 20 }),
        fc.array(fc.tuple(validName, safeValue), { maxLength: 10 }),
        async (requestHeaders, responseHeaders) => {
          const result = await host.request({
            headers: requestHeaders,
            upstream: { headers: [...responseHeaders, ["server", "s"]] },
          });
          expect(result.trap).toBeUndefined();
          const forwarded = result.request!.headers;
          expect(forwarded.getAll("x-a")).toEqual(["1"]);
          expect(forwarded.has("x-b")).toBe(false);
          for (const [name, value] of requestHeaders) {
            if (name === "x-a" || name === "x-b" || name === "x-model" || name === "x-gateway-destination-endpoint") continue;
            expect(forwarded.getAll(name)).toContain(value);
          }
          expect(result.response.headers.get("x-served-by")).toBe("wayroute");
          expect(result.response.headers.has("server")).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
    expect(host.traps).toEqual([]);
  });
});
