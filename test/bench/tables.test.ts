/**
 * The bench's terminal tables: rate rows in the micro table, rows that carry a value and a unit
 * (the footprint suite's bytes, KiB and ms) in their own table, never mixed.
 */
import { describe, expect, it } from "vitest";
import { resultTables } from "../../src/cli/commands/bench.js";
import type { BenchResults } from "../../src/report/types.js";

const results = (micro: BenchResults["micro"]): BenchResults => ({
  startedAt: "2026-12-04T00:00:00Z",
  environment: {},
  micro,
  microSkipped: [],
  macro: [],
  notes: [],
} as unknown as BenchResults);

describe("bench terminal tables", () => {
  it("prints figure rows in a footprint table with their unit, and rates in the micro table", () => {
    const text = resultTables(results([
      { suite: "harness", case: "plugin.wasm: GET", baseline: "passthrough.wasm", opsPerSec: 1000, baselineOpsPerSec: 1000, ratio: 1, usPerOp: 1000 },
      { suite: "footprint", case: "plugin.wasm size", baseline: "", opsPerSec: 0, value: 268872, unit: "bytes" },
      { suite: "footprint", case: "Envoy start to first request, plugin.wasm", baseline: "", opsPerSec: 0, value: 3656.4, unit: "ms" },
    ]));
    const [micro, footprint] = text.split("\nfootprint\n");
    expect(micro).toContain("plugin.wasm: GET");
    expect(micro).not.toContain("plugin.wasm size");
    expect(footprint).toMatch(/plugin\.wasm size\s+268872\s+bytes/);
    expect(footprint).toMatch(/Envoy start to first request, plugin\.wasm\s+3656\s+ms/);
  });

  it("prints no footprint table without figure rows", () => {
    const text = resultTables(results([{ suite: "harness", case: "x", baseline: "", opsPerSec: 1 }]));
    expect(text).not.toContain("footprint");
  });
});
