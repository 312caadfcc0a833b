/**
 * The cold-start measurement the footprint benchmark runs, in real Envoy 1.40 with 2 workers:
 * Envoy start to the first request served and an LDS file push to the first request served by the
 * new listener, with the plugin and without a Wasm filter. Checks that each phase ends on a request
 * served by the right listener version (the function waits for it) and that nothing is left
 * running; the timings are printed, never asserted (benchmarks measure, tests check).
 */
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { expect, it } from "vitest";
import { measureColdStart } from "../../src/footprint/cold-start.js";
import { describeEnvoy } from "./helpers.js";
import { PLUGIN } from "./stack.js";

const leftovers = () => readdirSync(tmpdir()).filter((d) => d.startsWith("wayroute-cold-start-"));

describeEnvoy("cold start in real Envoy", (binary) => {
  it("measures start and config push with and without the plugin, and cleans up", async () => {
    const before = new Set(leftovers());
    for (const plugin of [false, true]) {
      const r = await measureColdStart({ binary, wasmPath: PLUGIN, plugin, workers: 2 });
      expect(r.startMs).toBeGreaterThan(0);
      expect(r.pushMs).toBeGreaterThan(0);
      console.log(`[envoy] cold start ${plugin ? "with plugin.wasm" : "without a Wasm filter"}: start ${r.startMs.toFixed(0)} ms, LDS push ${r.pushMs.toFixed(0)} ms`);
    }
    expect(leftovers().filter((d) => !before.has(d))).toEqual([]);
  }, 120_000);

  it("refuses to wait forever when the listener never serves the pushed version", async () => {
    await expect(measureColdStart({ binary, wasmPath: PLUGIN, plugin: true, pluginConfig: { bogusField: 1 }, timeoutMs: 4_000 })).rejects.toThrow();
  }, 60_000);
});
