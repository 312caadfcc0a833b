/**
 * The bench's terminal tables: rate rows in the micro table, rows that carry a value and a unit
 * (the footprint suite's bytes, KiB and ms) in their own table, never mixed.
 */
import { describe, expect, it } from "vitest";
import { resultTables } from "../../src/cli/commands/bench.js";
import type { BenchResults } from "../../src/report/types.js";
import { median } from "../../src/bench/table.js";

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
    const k = (ok: number, rps: number) => ({ ok, sheds: 0, errors: 0, ttftP50Ms: 50, ttftP90Ms: 100, throughputRps: rps, outputTokensPerSec: rps * 24 });
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

  it("prints the median and range over repeated runs per policy and class, and nothing for single runs", () => {
    const k = (ok: number, sheds: number, p50: number, p90: number) => ({ ok, sheds, errors: 0, ttftP50Ms: p50, ttftP90Ms: p90, throughputRps: 1, outputTokensPerSec: 24 });
    const cell = (policy: string, seed: number | undefined, d: ReturnType<typeof k>, s: ReturnType<typeof k>) => ({
      workload: "overload + sheddable", policy, durationMs: 4000, prefixHitRate: 0, ttftSamples: [], ...(seed === undefined ? {} : { seed }),
      summary: { requests: 160, ok: 160, sheds: 0, errors: 0, ttftP50Ms: 1, ttftP90Ms: 2, ttftP99Ms: 3, e2eP50Ms: 4, e2eP90Ms: 5, throughputRps: 30, outputTokensPerSec: 720, perServer: {}, perClass: { default: d, sheddable: s } },
    });
    const text = resultTables({
      ...results([]),
      macro: [
        cell("gie-default", 42, k(77, 0, 500, 1200), k(20, 60, 400, 900)),
        cell("gie-default-flow", 42, k(77, 0, 520, 1300), k(83, 0, 900, 2900)),
        cell("gie-default", 43, k(80, 0, 450, 1000), k(30, 50, 300, 800)),
        cell("gie-default-flow", 43, k(80, 0, 600, 1500), k(80, 0, 1000, 3000)),
        cell("gie-default", 44, k(79, 0, 700, 1600), k(25, 55, 350, 950)),
        cell("gie-default-flow", 44, k(79, 0, 550, 1100), k(81, 0, 950, 2800)),
      ],
    });
    const [, repeats] = text.split("\nover the repeats");
    expect(repeats).toMatch(/gie-default\s+default\s+3\s+79 \(77–80\)\s+0 \(0–0\)\s+500 \(450–700\)\s+1200 \(1000–1600\)/);
    expect(repeats).toMatch(/gie-default-flow\s+sheddable\s+3\s+81 \(80–83\)\s+0 \(0–0\)\s+950 \(900–1000\)\s+2900 \(2800–3000\)/);
    const once = resultTables({ ...results([]), macro: [cell("gie-default", undefined, k(77, 0, 500, 1200), k(20, 60, 400, 900))] });
    expect(once).not.toContain("over the repeats");
  });

  it("takes the mean of the middle two as the median of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, NaN, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });
});
