/**
 * A small macro run end to end (simulators + proxy + load generator + report), in seconds, and the
 * report opened in headless Chromium with its charts drawn and no console errors.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { filtersFactory } from "../../src/bench/filters.js";
import { POLICIES } from "../../src/bench/policies.js";
import { runBench, type BenchOutput } from "../../src/bench/run.js";
import type { Workload } from "../../src/load/index.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const out = mkdtempSync(join(tmpdir(), "wayroute-bench-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const tiny: Workload[] = [
  { kind: "shared-prefix", name: "shared-prefix chat", groups: 3, usersPerGroup: 2, turns: 2, systemPromptTokens: 300, questionTokens: 20, outputTokens: 6, thinkMs: 0 },
  { kind: "overload", name: "overload + sheddable", rate: 200, requests: 16, promptTokens: 100, outputTokens: 4, classes: [{ name: "sheddable", share: 0.5, headers: { "x-gateway-inference-objective": "batch" } }] },
];

let run: BenchOutput;

describe("bench: a small macro run end to end", () => {
  it("runs every workload under the proxy-only policies and writes JSON and HTML", async () => {
    run = await runBench({
      repoRoot, outDir: out, micro: false, macro: true, quick: true, progress: false,
      workloads: tiny, policies: POLICIES.filter((p) => p.name === "round-robin" || p.name === "random"),
      servers: 2, workers: 1, sim: { speedup: 50 },
      filtersFor: filtersFactory(repoRoot, 1),
    });
    const cells = run.results.macro;
    expect(cells.map((c) => `${c.workload}/${c.policy}`)).toEqual([
      "shared-prefix chat/round-robin", "shared-prefix chat/random", "overload + sheddable/round-robin", "overload + sheddable/random",
    ]);
    const chat = cells[0]!;
    expect(chat.summary.requests).toBe(12);
    expect(chat.summary.ok).toBe(12);
    expect(chat.summary.errors).toBe(0);
    expect(Object.values(chat.summary.perServer).reduce((a, b) => a + b, 0)).toBe(12);
    expect(Object.keys(chat.summary.perServer).sort()).toEqual(["sim-0", "sim-1"]); // round-robin used both
    expect(chat.summary.ttftP50Ms).toBeGreaterThan(0);
    expect(chat.summary.ttftP90Ms).toBeGreaterThanOrEqual(chat.summary.ttftP50Ms);
    expect(chat.prefixHitRate).toBeGreaterThan(0); // shared system prompts and second turns hit
    expect(chat.prefixHitRate).toBeLessThan(1);
    expect(chat.ttftSamples).toHaveLength(12);
    const overload = cells[2]!;
    expect(overload.summary.perClass.sheddable).toBeDefined();
    expect(overload.summary.perClass.sheddable!.ok + overload.summary.perClass.default!.ok).toBe(overload.summary.ok);
    const json = JSON.parse(readFileSync(run.jsonPath, "utf8"));
    expect(json.macro).toHaveLength(4);
    expect(existsSync(join(out, "macro.json"))).toBe(true);
    const html = readFileSync(run.reportPath, "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // self-contained
  });

  it("skips a plugin policy whose plugin cannot run, with the reason in the report", async () => {
    const broken = { name: "broken", description: "a plugin that is not there", lb: "round-robin" as const, wasm: "build/does-not-exist.wasm" };
    // The skip notice is this test's expected output: capture it instead of printing it into a
    // passing run, where it would read like an error.
    const stderr: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
    let r: Awaited<ReturnType<typeof runBench>>;
    try {
      r = await runBench({
        repoRoot, outDir: join(out, "skip"), micro: false, macro: true, quick: true, progress: false,
        workloads: [tiny[0]!], policies: [POLICIES[0]!, broken], servers: 1, workers: 1, sim: { speedup: 50 },
        filtersFor: filtersFactory(repoRoot, 1),
      });
    } finally {
      spy.mockRestore();
    }
    expect(stderr.join("")).toMatch(/^bench: policy broken skipped: .*does-not-exist\.wasm/m);
    expect(r.results.macro.map((c) => c.policy)).toEqual(["round-robin"]);
    expect(r.results.notes.join("\n")).toContain("broken");
    expect(readFileSync(r.reportPath, "utf8")).toContain("does-not-exist.wasm");
  });
});

const chromiumPath = "/usr/bin/chromium";
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  if (process.env.CI === "true") throw new Error(`Chromium not found at ${chromiumPath}: install the Debian 'chromium' package`);
  console.warn(`notice: ${chromiumPath} not found; skipping the report-in-a-browser test (install the Debian 'chromium' package)`);
}

describe.skipIf(!haveChromium)("bench: the HTML report in headless Chromium", () => {
  it("opens with charts drawn and no console errors", async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(run.reportPath).href);
      expect(await page.title()).toBe("wayroute benchmark report");
      const charts = await page.locator("svg.chart").count();
      expect(charts).toBeGreaterThanOrEqual(6);
      // Bars and lines are really drawn with a size.
      expect(await page.locator("svg.chart rect[height]").count()).toBeGreaterThan(8);
      expect(await page.locator("svg.chart path").count()).toBeGreaterThanOrEqual(2);
      const box = await page.locator("svg.chart").first().boundingBox();
      expect(box!.width).toBeGreaterThan(100);
      expect(await page.locator("table.macro tbody tr").count()).toBe(4);
      expect(errors).toEqual([]);
      expect(requests.filter((u) => !u.startsWith("file:"))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe.skipIf(!existsSync(resolve(repoRoot, "build/plugin.wasm")))("bench: a plugin policy end to end", () => {
  it("runs the tuned wayroute policy through the plugin with no errors", async () => {
    const r = await runBench({
      repoRoot, outDir: join(out, "plugin"), micro: false, macro: true, quick: true, progress: false,
      workloads: [{ ...(tiny[0] as Extract<Workload, { kind: "shared-prefix" }>), sessionHeader: "x-session-id" }],
      policies: POLICIES.filter((p) => p.name === "wayroute"), servers: 2, workers: 2, sim: { speedup: 20 },
      filtersFor: filtersFactory(repoRoot, 2),
    });
    expect(r.results.notes).toEqual([]);
    const cell = r.results.macro[0]!;
    expect(cell.policy).toBe("wayroute");
    expect(cell.summary.ok).toBe(12);
    expect(cell.summary.errors).toBe(0);
    expect(cell.prefixHitRate).toBeGreaterThan(0);
    expect(Object.values(cell.summary.perServer).reduce((a, b) => a + b, 0)).toBe(12);
  });
});
