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
import { quantile, verdict } from "../../src/bench/cpu-ab.js";
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
  it("quantiles interpolate, and a middle half that straddles 1 is noise", () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(verdict({ q1: 0.97, q3: 1.04, rounds: 12 })).toBe("noise");
    expect(verdict({ q1: 1.02, q3: 1.09, rounds: 12 })).toBe("slower");
    expect(verdict({ q1: 0.88, q3: 0.95, rounds: 12 })).toBe("faster");
    expect(verdict({ q1: 1.5, q3: 1.6, rounds: 2 })).toBe("few rounds");
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
      // case, verdict, new µs, old µs, new/old, middle half, range, cheapest, same answer
      expect(r.stdout).toMatch(new RegExp(`${c}\\s+few rounds\\s+[\\d.]+\\s+[\\d.]+\\s+${ratio}\\s+${ratio}-${ratio}\\s+${ratio}-${ratio}\\s+${ratio}\\s+yes\\n`));
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
      expect(row.notes).toMatch(/^CPU new\/old \d+\.\d\d \(middle half/);
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
