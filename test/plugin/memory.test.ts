/**
 * Per-request allocations must be reclaimed: after warm-up, linear memory stays on a plateau.
 * (A leak of even a few bytes per request shows up as growth between 10k and 100k requests.)
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { repoRoot, wasmBytes } from "../build/wasm-files.js";

function memoryBytes(host: ProxyWasmHost): number {
  const memory = host.workers[0]!.vm.instance!.exports.memory as WebAssembly.Memory;
  return memory.buffer.byteLength;
}

describe("linear memory plateau", () => {
  it("plugin.wasm: 100,000 requests use no more memory than 10,000", async () => {
    const host = await ProxyWasmHost.create({
      module: wasmBytes("plugin.wasm"),
      pluginConfig: {
        headers: {
          request: { set: { "x-a": "1", "x-model": "m" }, remove: ["x-b"] },
          response: { set: { "x-served-by": "wayroute" }, remove: ["server"] },
        },
      },
    });
    const send = (i: number) =>
      host.request({
        headers: { "x-b": "strip", "x-request-id": `req-${i}`, "x-tenant": i % 2 ? "a" : "b" },
        body: i % 4 === 0 ? `{"model":"m","prompt":"request ${i}"}` : undefined,
        upstream: { headers: { server: "s", "x-i": String(i) }, body: "ok" },
      });
    for (let i = 0; i < 10_000; i++) await send(i);
    const after10k = memoryBytes(host);
    for (let i = 10_000; i < 100_000; i++) await send(i);
    const after100k = memoryBytes(host);

    expect(host.metrics.value("wayroute_requests_total")).toBe(100_000);
    expect(host.traps).toEqual([]);
    // Equal, or at most one extra 64 KiB page of allocator slack.
    expect(after100k - after10k).toBeLessThanOrEqual(65_536);
  }, 300_000);

  it("plugin.wasm with rules and bodyRouting (examples/configs/model-routing.json): body-routed requests plateau", async () => {
    const host = await ProxyWasmHost.create({
      module: wasmBytes("plugin.wasm"),
      pluginConfig: readFileSync(path.join(repoRoot, "examples", "configs", "model-routing.json"), "utf8"),
    });
    expect(host.configured).toBe(true);
    const send = (i: number) =>
      host.request({
        headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" },
        body: JSON.stringify({
          model: i % 2 ? "food-review" : "other-model",
          messages: [{ role: "user", content: `question ${i} ${"x".repeat(i % 700)}` }],
        }),
        upstream: { headers: { server: "s" }, body: "{}" },
      });
    for (let i = 0; i < 5_000; i++) await send(i);
    const after5k = memoryBytes(host);
    for (let i = 5_000; i < 30_000; i++) await send(i);
    const after30k = memoryBytes(host);

    expect(host.traps).toEqual([]);
    expect(after30k - after5k).toBeLessThanOrEqual(65_536);
  }, 300_000);

  it("body-reader.wasm: host-allocated body buffers are reclaimed", async () => {
    const host = await ProxyWasmHost.create({ module: wasmBytes("body-reader.wasm") });
    const chunk = "x".repeat(8_192);
    const send = (i: number) => host.request({ body: [chunk, chunk, `end ${i}`] });
    for (let i = 0; i < 2_000; i++) await send(i);
    const after2k = memoryBytes(host);
    for (let i = 2_000; i < 20_000; i++) await send(i);
    const after20k = memoryBytes(host);

    expect(host.traps).toEqual([]);
    // 20,000 x 16 KiB bodies went through malloc; a leak would need ~320 MiB.
    expect(after20k - after2k).toBeLessThanOrEqual(65_536);
  }, 120_000);
});
