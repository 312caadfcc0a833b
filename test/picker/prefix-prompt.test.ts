/**
 * Hostile bodies for the prefix-cache prompt bytes (assembly/body/prefix-prompt.ts) through the
 * real plugin.wasm in hold mode: arbitrary JSON (deep nesting, odd numbers, escapes, lone
 * surrogates, media parts with broken data URLs) on every request shape the EPP distinguishes
 * by path never traps the VM, every request is answered, and the subset hint and objective
 * headers take arbitrary values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { ADDRS, FakePool, pluginModule, scrapeRound } from "./helpers.js";

const PATHS = ["/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/responses", "/v1/conversations", "/v1/embeddings", "/other"];

const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("\ud800", "<&>", "\u2028", "\u0000\u001f", "data:image/png;base64,iVBORw0KGgo=", "data:image/jpeg;base64,/9j/4AAQ", "data:image/gif;base64,R0lGODlh"),
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e21, 1e-7, -0, 123456789012345680000, 0.1),
  fc.boolean(),
  fc.constant(null),
);

const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: "small", maxDepth: 6 }, scalar, fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), tie("v"), { maxKeys: 4 })),
})).v;

const part = fc.oneof(
  fc.record({ type: fc.constant("text"), text: fc.oneof(fc.string(), value) }),
  fc.record({ type: fc.constant("image_url"), image_url: fc.oneof(fc.record({ url: scalar }), value) }),
  fc.record({ type: fc.constant("video_url"), video_url: fc.record({ url: scalar }) }),
  fc.record({ type: fc.constant("input_audio"), input_audio: fc.oneof(fc.record({ data: scalar, format: scalar }), value) }),
  fc.record({ type: fc.constant("image"), source: fc.oneof(fc.record({ type: fc.constant("base64"), data: scalar }), fc.record({ url: scalar })) }),
  value,
);

const message = fc.record({ role: fc.oneof(fc.constantFrom("user", "assistant", "system"), scalar), content: fc.oneof(fc.string({ maxLength: 300 }), fc.array(part, { maxLength: 4 }), value) }, { requiredKeys: [] });

const body = fc.record(
  {
    model: fc.oneof(fc.constant("m"), scalar),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), value),
    prompt: fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.string({ maxLength: 50 }), { maxLength: 4 }), fc.array(fc.nat(), { maxLength: 20 }), value),
    input: fc.oneof(fc.string({ maxLength: 300 }), fc.array(message, { maxLength: 3 }), value),
    items: fc.oneof(fc.array(fc.record({ type: scalar, role: scalar, content: value }, { requiredKeys: [] }), { maxLength: 3 }), value),
    tools: value,
    system: fc.oneof(fc.string(), fc.array(part, { maxLength: 3 }), value),
    instructions: value,
    cache_salt: scalar,
  },
  { requiredKeys: [] },
);

function deep(n: number): string {
  return `{"model":"m","input":${"[".repeat(n)}1${"]".repeat(n)},"tools":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`;
}

describe("prefix-cache prompt bytes from hostile bodies", () => {
  it("never trap, on every request shape, with any subset hint or objective", async () => {
    const pool = new FakePool(ADDRS);
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      pluginConfig: {
        holdHeadersForBody: true,
        pools: [{ name: "llm", endpoints: ADDRS.map((address) => ({ address })), scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 }, priority: { objectives: { batch: -1 } } }],
      },
      workers: 1,
      rootId: "wayroute",
      allowOnHeadersStopIteration: true,
      clusters: { pool: pool.handler },
    });
    await scrapeRound(host);
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...PATHS), fc.option(fc.string({ maxLength: 60 })), fc.option(fc.string({ maxLength: 20 })), async (b, path, subset, objective) => {
        const headers: Record<string, string> = { ":method": "POST", ":path": path, "content-type": "application/json" };
        if (subset !== null) headers["x-gateway-destination-endpoint-subset"] = subset;
        if (objective !== null) headers["x-llm-d-inference-objective"] = objective;
        const r = await host.request({ headers, body: JSON.stringify(b) });
        expect([200, 429, 503]).toContain(r.response.status);
      }),
      { numRuns: 300 },
    );
    // Nesting at the scanner's limit and beyond.
    for (const n of [60, 63, 64, 200]) {
      for (const path of ["/v1/responses", "/v1/chat/completions", "/v1/embeddings"]) {
        const r = await host.request({ headers: { ":method": "POST", ":path": path, "content-type": "application/json" }, body: deep(n) });
        expect(r.response.status).toBe(200);
      }
    }
    expect(host.traps).toEqual([]);
  });
});
