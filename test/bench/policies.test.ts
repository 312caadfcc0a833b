/** The benchmark's plugin policies are valid plugin configs: by the JSON Schema and by the plugin. */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MAX_SCRAPE_BUDGET, parseScrapeBudget, POLICIES, withScrapeBudget } from "../../src/bench/policies.js";
import { pluginConfigProblems } from "../../src/manifest/plugin-config.js";
import { findSchemasDir } from "../../src/manifest/schemas-dir.js";
import { pluginRefusal } from "../../src/config/validate.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const pool = { endpoints: ["127.0.0.1:18001", "127.0.0.1:18002"], metricsCluster: "sim-pool", model: "sim-llm" };
const plugin = resolve(repoRoot, "build/plugin.wasm");

describe("benchmark policies", () => {
  it("proxy-only and plugin policies are named uniquely", () => {
    const names = POLICIES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["round-robin", "random", "least-request", "gie-default", "wayroute"]));
    for (const p of POLICIES) expect(Boolean(p.wasm) === Boolean(p.config), p.name).toBe(true);
  });

  for (const p of POLICIES.filter((x) => x.config)) {
    it(`${p.name}: the config names the simulators and passes the plugin-config schema`, () => {
      const cfg = p.config!(pool, repoRoot) as { pools: { endpoints: { address: string }[]; scrape: { cluster: string } }[] };
      expect(cfg.pools[0]!.endpoints.map((e) => e.address)).toEqual(pool.endpoints);
      expect(cfg.pools[0]!.scrape.cluster).toBe("sim-pool");
      expect(pluginConfigProblems(cfg, findSchemasDir())).toEqual([]);
    });

    it.skipIf(!existsSync(plugin))(`${p.name}: the plugin accepts the config`, async () => {
      expect(await pluginRefusal(p.config!(pool, repoRoot), plugin)).toBeUndefined();
    });
  }

  describe("--scrape-budget A/B variants", () => {
    type Cfg = { pools: { scrape: { budgetPerSecond?: number } }[] };
    it.each([
      ["unlimited", "unlimited"], ["default", "default"], ["1", 1], ["10000", 10_000],
      ["0", undefined], ["10001", undefined], ["1.5", undefined], ["", undefined], ["-3", undefined], ["lots", undefined],
    ] as const)("parses %j", (text, want) => {
      expect(parseScrapeBudget(text)).toBe(want);
    });

    for (const p of POLICIES.filter((x) => x.config)) {
      it(`${p.name}: unlimited, default and a number set the budget and pass the schema`, async () => {
        const unlimited = withScrapeBudget(p, "unlimited");
        const dflt = withScrapeBudget(p, "default");
        const one = withScrapeBudget(p, 1);
        expect([unlimited.name, dflt.name, one.name]).toEqual([`${p.name} budget=unlimited`, `${p.name} budget=default`, `${p.name} budget=1`]);
        const [u, d, o] = [unlimited, dflt, one].map((v) => v.config!(pool, repoRoot) as Cfg);
        expect(u!.pools[0]!.scrape.budgetPerSecond).toBe(MAX_SCRAPE_BUDGET);
        expect("budgetPerSecond" in d!.pools[0]!.scrape).toBe(false);
        expect(o!.pools[0]!.scrape.budgetPerSecond).toBe(1);
        for (const c of [u, d, o]) expect(pluginConfigProblems(c, findSchemasDir())).toEqual([]);
        if (existsSync(plugin)) expect(await pluginRefusal(u, plugin)).toBeUndefined();
        // The original policy is unchanged.
        expect(p.config!(pool, repoRoot)).toEqual(p.config!(pool, repoRoot));
      });
    }

    it("proxy-only policies are left as they are", () => {
      const rr = POLICIES.find((x) => x.name === "round-robin")!;
      expect(withScrapeBudget(rr, 1)).toBe(rr);
    });
  });
});
