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

  it("prints each request class's throughput for cells with more than one class", () => {
    const k = (ok: number, rps: number) => ({ ok, sheds: 0, errors: 0, ttftP90Ms: 100, throughputRps: rps, outputTokensPerSec: rps * 24 });
    const summary = (perClass: Record<string, ReturnType<typeof k>>) => ({
      requests: 180, ok: 180, sheds: 0, errors: 0, ttftP50Ms: 1, ttftP90Ms: 2, ttftP99Ms: 3, e2eP50Ms: 4, e2eP90Ms: 5,
      throughputRps: 30, outputTokensPerSec: 720, perServer: {}, perClass,
    });
    const text = resultTables({
      ...results([]),
      macro: [
        { workload: "bursty two tenants", policy: "gie-default-flow", durationMs: 4000, prefixHitRate: 0, ttftSamples: [], summary: summary({ "tenant-a": k(60, 14.3), "tenant-b": k(120, 26.7) }) },
        { workload: "unique prompts", policy: "round-robin", durationMs: 4000, prefixHitRate: 0, ttftSamples: [], summary: summary({ default: k(64, 16) }) },
      ],
    });
    const [, classes] = text.split("\nby request class");
    expect(classes).toMatch(/gie-default-flow\s+tenant-a\s+60\s+0\s+0\s+100\s+14\.3\s+343/);
    expect(classes).toMatch(/gie-default-flow\s+tenant-b\s+120\s+0\s+0\s+100\s+26\.7\s+641/);
    expect(classes).not.toContain("unique prompts");
    // With a contention window: served (offered; open at its start -> end), its rate, fairness.
    const share = (served: number, rps: number) => ({ ...k(60, 14.3), contention: { served, offered: 40, rps, openAtStart: 20, openAtEnd: 30 } });
    const windowed = resultTables({
      ...results([]),
      macro: [{ workload: "bursty two tenants", policy: "gie-default-flow", durationMs: 4000, prefixHitRate: 0, ttftSamples: [], summary: { ...summary({ "tenant-a": share(46, 15.3), "tenant-b": share(47, 15.7) }), fairness: 15.3 / 15.7 } }],
    });
    expect(windowed).toMatch(/tenant-a\s+60\s+0\s+0\s+100\s+14\.3\s+343\s+46 \(40; 20→30\)\s+15\.3\s+0\.97/);
  });
});
