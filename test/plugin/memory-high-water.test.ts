/**
 * Linear memory over mixed body sizes (1 KB to 1 MiB, seeded random order, after eight 1 MiB
 * bodies): Wasm memory never shrinks, so its size is the VM's high-water mark, and routing a body
 * of B bytes raises it by at most 2·B (rounded up to whole 64 KiB pages) in every mode: one
 * buffer for the body (reused by the next body as the spare host block), a rewrite that hands
 * the host the rewritten prefix and the unchanged tail from that buffer, the prompt text in a
 * scratch buffer reused across requests, a heap that grows by need (runtime/heap.ts) and a
 * collection at callback entry. Once the largest body has been seen the mark may move only by
 * the collector's slack: it collects once an eighth of memory was allocated since the last
 * collection (proxy-wasm/collector.ts), so up to that much garbage (plus a page) can sit in the
 * heap; it never creeps past that.
 */
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { PAGE_BYTES, chatBodyOf, footprintConfig, footprintHost, linearMemoryBytes, sendChat } from "../../src/footprint/memory.js";
import { wasmBytes } from "../build/wasm-files.js";

const MIB = 1_048_576;
const SIZES = [1024, 4096, 16_384, 65_536, 262_144, 524_288, MIB];

/** Allowed raise of the high-water mark per mode, as a multiple of the largest body. */
const FACTOR = { picker: 2, extract: 2, rewrite: 2 } as const;
/** Requests of the largest size first; after them the mark must not move. */
const PRIMING = 8;

const pages = (bytes: number) => Math.ceil(bytes / PAGE_BYTES) * PAGE_BYTES;

async function hostFor(mode: keyof typeof FACTOR): Promise<ProxyWasmHost> {
  if (mode === "picker") return footprintHost(wasmBytes("plugin.wasm"), 1024);
  const bodyRouting = mode === "rewrite" ? footprintConfig(1)["bodyRouting"] : { maxBodyBytes: 2 * MIB };
  return ProxyWasmHost.create({
    module: wasmBytes("plugin.wasm"),
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: { holdHeadersForBody: true, bodyRouting } as Record<string, unknown>,
    allowOnHeadersStopIteration: true,
    upstream: { status: 200, body: "{}" },
  });
}

describe("memory high-water mark over mixed body sizes", () => {
  for (const mode of ["picker", "extract", "rewrite"] as const) {
    const rule = `${FACTOR[mode]}·B`;
    it(`${mode}: a body of B bytes raises linear memory by at most ${rule}; after the largest body only the collector's slack`, async () => {
      const host = await hostFor(mode);
      try {
        expect(host.configured).toBe(true);
        await host.advance(60);
        await host.settle();
        for (let i = 0; i < 10; i++) await sendChat(host, chatBodyOf(1024, `warm-${i}`));
        const baseline = linearMemoryBytes(host);
        const allowed = (largest: number) => pages(FACTOR[mode] * largest);
        let primed = 0;
        let seed = 14;
        const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
        let largest = 0;
        for (let i = 0; i < 60; i++) {
          const size = i < PRIMING ? MIB : SIZES[Math.floor(next() * SIZES.length)]!;
          const body = chatBodyOf(size, `${mode}-${i}`);
          const r = await sendChat(host, body);
          expect(r.response.status).toBe(200);
          if (mode === "rewrite") expect(r.request!.bodyText.slice(0, 40)).toContain('"model":"footprint-model-v2"');
          if (mode === "picker") expect(r.request!.headers.get("x-gateway-destination-endpoint")).toBeTruthy();
          largest = Math.max(largest, body.length);
          const raised = linearMemoryBytes(host) - baseline;
          expect(raised, `request ${i}: a ${body.length}-byte body (largest ${largest})`).toBeLessThanOrEqual(allowed(largest));
          if (i === PRIMING - 1) primed = linearMemoryBytes(host);
          if (i >= PRIMING) expect(linearMemoryBytes(host), `request ${i}: rose after the largest body`).toBeLessThanOrEqual(primed + pages(primed / 8) + PAGE_BYTES);
        }
        expect(host.traps).toEqual([]);
      } finally {
        host.close();
      }
    }, 240_000);
  }
});
