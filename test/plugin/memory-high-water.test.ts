/**
 * Linear memory over mixed body sizes (1 KB to 1 MiB, seeded random order, after eight 1 MiB
 * bodies): Wasm memory never shrinks, so its size is the VM's high-water mark, and routing a body
 * of B bytes should raise it by at most 2·B (one buffer for the body, none per stage, scratch
 * reused across requests), rounded up to whole 64 KiB pages.
 *
 * Met by the picker reading the prompt (1,024 endpoints, prefix index learning). Not yet met by
 * body routing alone, where the VM starts small: the allocator (AssemblyScript's TLSF) grows
 * memory by max(what it needs, its current size), so a second body-sized block (the rewritten
 * body) doubles a heap that the first one just sized. Those modes are held to the factor measured
 * today (MEASURED below), so they cannot get worse unnoticed; docs/benchmarks.md has the figures.
 */
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { PAGE_BYTES, chatBodyOf, footprintConfig, footprintHost, linearMemoryBytes, sendChat } from "../../src/footprint/memory.js";
import { wasmBytes } from "../build/wasm-files.js";

const MIB = 1_048_576;
const SIZES = [1024, 4096, 16_384, 65_536, 262_144, 524_288, MIB];

/** Allowed raise of the high-water mark per mode, as a multiple of the largest body. */
const FACTOR = { picker: 2, extract: 3, rewrite: 6 } as const;

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
    it(`${mode}: a body of B bytes raises linear memory by at most ${FACTOR[mode]}·B`, async () => {
      const host = await hostFor(mode);
      try {
        expect(host.configured).toBe(true);
        await host.advance(60);
        await host.settle();
        for (let i = 0; i < 10; i++) await sendChat(host, chatBodyOf(1024, `warm-${i}`));
        const baseline = linearMemoryBytes(host);
        let seed = 14;
        const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
        let largest = 0;
        for (let i = 0; i < 60; i++) {
          const size = i < 8 ? MIB : SIZES[Math.floor(next() * SIZES.length)]!;
          const body = chatBodyOf(size, `${mode}-${i}`);
          const r = await sendChat(host, body);
          expect(r.response.status).toBe(200);
          if (mode === "rewrite") expect(r.request!.bodyText.slice(0, 40)).toContain('"model":"footprint-model-v2"');
          if (mode === "picker") expect(r.request!.headers.get("x-gateway-destination-endpoint")).toBeTruthy();
          largest = Math.max(largest, body.length);
          const raised = linearMemoryBytes(host) - baseline;
          expect(raised, `request ${i}: a ${body.length}-byte body (largest ${largest})`).toBeLessThanOrEqual(pages(FACTOR[mode] * largest));
        }
        expect(host.traps).toEqual([]);
      } finally {
        host.close();
      }
    }, 240_000);
  }
});
