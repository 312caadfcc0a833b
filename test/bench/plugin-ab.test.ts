/**
 * `npm run bench -- --baseline-plugin <old.wasm>`: the plugin-ab suite run --quick with the same
 * module on both sides. It must print one row per request-path workload with its new/old ratio
 * and spread, find both sides answering alike, and write the comparison into micro.json. Timing
 * is not asserted (benchmarks measure, tests check shape).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { medianInterval, quantile, verdict } from "../../src/bench/cpu-ab.js";
import { PLUGIN_AB_CASES } from "../../src/bench/micro/plugin-ab.js";
import type { MicroRow } from "../../src/report/types.js";
import { main } from "../../src/cli/main.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const plugin = join(repoRoot, "build/plugin.wasm");
const out = mkdtempSync(join(tmpdir(), "wayroute-plugin-ab-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Runs `wayroute bench` in-process; returns its exit code and what it wrote to stdout and stderr. */
async function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
  const code = await main(["bench", ...args]);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

describe("plugin-ab statistics", () => {
  it("quantiles interpolate", () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
  });

  it("the median's interval is the sign test's order statistics: 3rd and 10th of 12, 7th and 18th of 24", () => {
    const twelve = [12, 1, 11, 2, 10, 3, 9, 4, 8, 5, 7, 6];
    expect(medianInterval(twelve)).toEqual({ low: 3, high: 10, level: 1 - 2 * (1 + 12 + 66) / 4096 });
    const i24 = medianInterval(Array.from({ length: 24 }, (_, i) => 24 - i))!;
    expect([i24.low, i24.high]).toEqual([7, 18]);
    expect(i24.level).toBeGreaterThan(0.95);
    expect(medianInterval([1, 2, 3, 4, 5])).toBeNull();
    expect(medianInterval([1, 2, 3, 4, 5, 6])).toMatchObject({ low: 1, high: 6 });
  });

  it("an interval that holds 1 is noise", () => {
    expect(verdict({ ciLow: 0.97, ciHigh: 1.04 })).toBe("noise");
    expect(verdict({ ciLow: 1.02, ciHigh: 1.09 })).toBe("slower");
    expect(verdict({ ciLow: 0.88, ciHigh: 0.95 })).toBe("faster");
    expect(verdict({ ciLow: NaN, ciHigh: NaN })).toBe("few rounds");
  });
});

describe.skipIf(!existsSync(plugin))("bench --baseline-plugin: one build against itself, --quick", () => {
  it("prints new/old with its spread for every request-path workload, and nothing else runs", async () => {
    const r = await bench("--quick", "--no-progress", "--out", out, "--baseline-plugin", plugin, "--plugin", plugin);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("CPU per request, new/old (process user+system µs; 2 interleaved rounds, alternating order; baseline plugin.wasm)");
    const ratio = "\\d+\\.\\d\\d";
    for (const c of PLUGIN_AB_CASES) {
      // case, verdict, new µs, old µs, new/old, 95% interval (none in 2 rounds), range, cheapest, same answer
      expect(r.stdout).toMatch(new RegExp(`${c}\\s+few rounds\\s+[\\d.]+\\s+[\\d.]+\\s+${ratio}\\s+–\\s+${ratio}-${ratio}\\s+${ratio}\\s+yes\\n`));
    }
    expect(r.stdout).not.toContain("micro benchmarks"); // no other suite
    expect(r.stdout).not.toContain("routing (macro)");

    const rows = JSON.parse(readFileSync(join(out, "micro.json"), "utf8")) as MicroRow[];
    expect(rows.every((row) => row.suite === "plugin-ab")).toBe(true);
    const sizes = rows.filter((row) => row.unit === "bytes").map((row) => row.value);
    expect(sizes).toEqual([statSync(plugin).size, statSync(plugin).size]);
    const ab = rows.filter((row) => row.cpuAb);
    expect(ab.map((row) => row.case)).toEqual([...PLUGIN_AB_CASES]);
    for (const row of ab) {
      const m = row.cpuAb!;
      expect(m.rounds, row.case).toBe(2);
      expect(m.ratios, row.case).toHaveLength(2);
      expect(m.sameAnswer, row.case).toBe(true);
      for (const x of [m.newUs, m.oldUs, m.ratio, m.q1, m.q3, m.min, m.max, m.minRatio]) expect(x, row.case).toBeGreaterThan(0);
      expect(m.min).toBeLessThanOrEqual(m.q1);
      expect(m.q1).toBeLessThanOrEqual(m.ratio);
      expect(m.ratio).toBeLessThanOrEqual(m.q3);
      expect(m.q3).toBeLessThanOrEqual(m.max);
      expect(row.notes).toMatch(/^CPU new\/old \d+\.\d\d \(95% interval none, middle half/);
    }
  }, 120_000);

  it("runs only the cases asked for with --case", async () => {
    const r = await bench("--quick", "--no-progress", "--out", out, "--baseline-plugin", plugin, "--case", "empty config: GET", "--rounds", "1");
    expect(r.code).toBe(0);
    const rows = (JSON.parse(readFileSync(join(out, "micro.json"), "utf8")) as MicroRow[]).filter((row) => row.cpuAb);
    expect(rows.map((row) => [row.case, row.cpuAb!.rounds])).toEqual([["empty config: GET", 1]]);
  }, 60_000);
});

describe("bench --baseline-plugin: usage", () => {
  it("refuses --plugin, --rounds and --case without --baseline-plugin", async () => {
    for (const args of [["--rounds", "3"], ["--plugin", "x.wasm"], ["--case", "picker"]]) {
      const r = await bench(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(`${args[0]} goes with --baseline-plugin`);
    }
  });

  it("fails naming a missing module", async () => {
    const r = await bench("--quick", "--no-progress", "--out", out, "--baseline-plugin", join(out, "missing.wasm"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(out, "missing.wasm")} does not exist`);
  });
});
