/** The HTML benchmark report through the package's public API (`renderReport`). */
import { describe, expect, it } from "vitest";
import { type BenchResults, type MacroCell, renderReport } from "../../src/index.js";

function cell(policy: string, s: { ttft: number; rps: number; hit: number; sheds?: number; errors?: number }): MacroCell {
  return {
    workload: "shared-prefix chat",
    policy,
    durationMs: 5000,
    prefixHitRate: s.hit,
    ttftSamples: [s.ttft / 2, s.ttft, s.ttft * 3],
    summary: {
      requests: 128, ok: 128 - (s.sheds ?? 0) - (s.errors ?? 0), sheds: s.sheds ?? 0, errors: s.errors ?? 0,
      ttftP50Ms: s.ttft, ttftP90Ms: s.ttft * 2, ttftP99Ms: s.ttft * 3, e2eP50Ms: s.ttft * 4, e2eP90Ms: s.ttft * 5,
      throughputRps: s.rps, outputTokensPerSec: s.rps * 24, perServer: { "sim-0": 64, "sim-1": 64 }, perClass: {},
    },
  };
}

function results(macro: MacroCell[]): BenchResults {
  return { startedAt: "2026-01-01T00:00:00.000Z", environment: { node: "v20" }, micro: [], microSkipped: [], macro, notes: [] };
}

/** Each chart's title and its y-axis labels (right-aligned tick texts). */
function charts(html: string): Array<{ title: string; body: string; yLabels: string[] }> {
  return [...html.matchAll(/<svg [^>]*aria-label="([^"]*)"[^>]*>(.*?)<\/svg>/gs)].map((m) => ({
    title: m[1]!,
    body: m[2]!,
    yLabels: [...m[2]!.matchAll(/text-anchor="end" class="tick">([^<]*)</g)].map((x) => x[1]!),
  }));
}

describe("benchmark report", () => {
  it("writes every axis's labels in one format", () => {
    const html = renderReport(results([cell("round-robin", { ttft: 386, rps: 23.3, hit: 0.266 }), cell("wayroute", { ttft: 19.2, rps: 46.7, hit: 0.839 })]));
    const all = charts(html);
    expect(all.length).toBeGreaterThan(5);
    for (const c of all) {
      if (!c.yLabels.length) continue;
      expect(c.yLabels, c.title).toHaveLength(5);
      const decimals = new Set(c.yLabels.map((l) => (l.split(".")[1] ?? "").length));
      expect(decimals.size, `${c.title}: ${c.yLabels.join(" ")}`).toBe(1);
    }
    expect(all.find((c) => c.title.startsWith("TTFT p50"))!.yLabels).toEqual(["0", "125", "250", "375", "500"]);
    expect(all.find((c) => c.title.startsWith("Throughput"))!.yLabels).toEqual(["0.0", "12.5", "25.0", "37.5", "50.0"]);
    expect(all.find((c) => c.title.startsWith("TTFT distribution"))!.yLabels).toEqual(["0.00", "0.25", "0.50", "0.75", "1.00"]);
  });

  it('says "none" when nothing was shed or failed, instead of an empty chart', () => {
    const html = renderReport(results([cell("round-robin", { ttft: 386, rps: 23.3, hit: 0.3 }), cell("wayroute", { ttft: 19, rps: 46, hit: 0.8 })]));
    const shed = charts(html).find((c) => c.title === "Shed and failed requests")!;
    expect(shed.body).toContain(">none: every request was served<");
    expect(shed.body).not.toContain("<rect");
    expect(shed.yLabels).toEqual([]);
  });

  it("draws the shed chart when something was shed", () => {
    const html = renderReport(results([cell("round-robin", { ttft: 386, rps: 23.3, hit: 0.3, errors: 2 }), cell("wayroute", { ttft: 19, rps: 46, hit: 0.8, sheds: 5 })]));
    const shed = charts(html).find((c) => c.title === "Shed and failed requests")!;
    expect(shed.body).not.toContain("none");
    expect([...shed.body.matchAll(/<rect [^>]*><title>/g)]).toHaveLength(2);
  });
});
