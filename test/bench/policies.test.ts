/** The benchmark's plugin policies are valid plugin configs: by the JSON Schema and by the plugin. */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { POLICIES } from "../../src/bench/policies.js";
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
});
