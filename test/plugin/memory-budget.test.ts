/**
 * The per-VM memory target: one plugin VM with a 1,024-endpoint pool and the default (full) prefix
 * index stays within 8 MiB of linear memory after configure and after a scrape round and chat
 * bodies of 1 KB to 1 MiB, the sequence `npm run bench -- --suite footprint` measures. Envoy runs
 * one VM per worker, so this is what every worker pays. Page counts are deterministic for a given
 * module and input, so this holds exactly, with no timing involved.
 *
 * Configure-time garbage counts here: the collector cannot run inside `proxy_on_configure`, so
 * whatever the config readers allocate per endpoint stays in the high-water mark.
 */
import { describe, expect, it } from "vitest";
import { chatBodyOf, footprintHost, linearMemoryBytes, sendChat } from "../../src/footprint/memory.js";
import { wasmBytes } from "../build/wasm-files.js";

const MIB = 1_048_576;
const BUDGET = 8 * MIB;
const BODIES = [1024, 16_384, 65_536, 262_144, MIB, 4096, 524_288, MIB];

describe("linear memory per VM, 1,024 endpoints and a full prefix index", () => {
  it("stays within 8 MiB after configure and after bodies of 1 KB to 1 MiB", async () => {
    const host = await footprintHost(wasmBytes("plugin.wasm"), 1024);
    try {
      expect(host.configured).toBe(true);
      const afterConfigure = linearMemoryBytes(host);
      // About 5.6 MiB today: the 4 MiB default index, 1,024 endpoints' state, the parsed config.
      expect(afterConfigure, "after configure").toBeLessThanOrEqual(6 * MIB);
      await host.advance(60);
      await host.settle();
      for (let i = 0; i < BODIES.length; i++) {
        const r = await sendChat(host, chatBodyOf(BODIES[i]!, `budget-${i}`));
        expect(r.response.status).toBe(200);
        expect(linearMemoryBytes(host), `after body ${i} (${BODIES[i]} bytes)`).toBeLessThanOrEqual(BUDGET);
      }
      expect(host.traps).toEqual([]);
    } finally {
      host.close();
    }
  }, 240_000);
});
