/**
 * The simulator's /metrics as the wayroute plugin reads it: the plugin (through the local proxy
 * and the harness) scrapes a simulator and publishes what it parsed in its load snapshot.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPolicy } from "../../src/bench/policies.js";
import { ProxyServer } from "../../src/serve/index.js";
import { createWasmFilters, type WasmFilterFactory } from "../../src/serve/wasm-filter.js";
import { SimCluster } from "../../src/sim/index.js";
import { decodeLoadRecord } from "../picker/load-state.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const pluginPath = resolve(repoRoot, "build/plugin.wasm");

let sims: SimCluster;
let filters: WasmFilterFactory | undefined;
let proxy: ProxyServer | undefined;
let loadError: string | undefined;

beforeAll(async () => {
  sims = await SimCluster.start({ servers: 2, params: { speedup: 1 } });
  if (!existsSync(pluginPath)) return;
  const config = findPolicy("wayroute")!.config!({ endpoints: sims.addresses, metricsCluster: "sim-pool", model: "sim-llm" }, repoRoot);
  try {
    filters = await createWasmFilters({ wasm: pluginPath, config, rootId: "wayroute" }, { workers: 1, clusters: { "sim-pool": sims.addresses[0]! }, endpoints: sims.addresses });
  } catch (err) {
    loadError = (err as Error).message;
    return;
  }
  proxy = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: sims.addresses, lb: "round-robin" } }, filters);
  await proxy.start();
});
afterAll(async () => {
  await proxy?.stop();
  await sims.stop();
});

/**
 * The plugin's published load records (one per endpoint, `le/<address>`), as rows:
 * address → [address, waiting, running, kv, metricsAtMs, maxLora, active, waiting adapters].
 */
function snapshot(): Map<string, string[]> {
  const data = filters!.host.sharedData;
  const rows = new Map<string, string[]>();
  for (const key of data.keys("")) {
    if (!key.includes("/le/")) continue;
    const v = data.get("", key);
    if (!v) continue;
    const r = decodeLoadRecord(v.value);
    rows.set(r.key, [r.key, String(r.waiting), String(r.running), String(r.kv), String(r.metricsAtMs), String(r.maxLora), r.active.join(","), r.waitingLoras.join(",")]);
  }
  return rows;
}

describe("simulator metrics through the plugin's parser", () => {
  it("the plugin scrapes every simulator and reads running requests, KV usage and LoRA adapters", async (ctx) => {
    if (!existsSync(pluginPath)) {
      if (process.env.CI === "true") throw new Error("build/plugin.wasm is missing: run npm run build:wasm");
      ctx.skip();
    }
    if (loadError) throw new Error(`the plugin refused the benchmark config: ${loadError}`);
    // A long LoRA request keeps sim-1 busy (speed-up 1: 300 tokens take seconds).
    const target = sims.addresses[1]!;
    const busy = fetch(`http://${target}/v1/chat/completions`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sql-lora", stream: true, max_tokens: 250, messages: [{ role: "user", content: "long running" }] }),
    });
    let rows = snapshot();
    for (let i = 0; i < 400; i++) {
      rows = snapshot();
      const r = rows.get(target);
      if (r && Number(r[2]) >= 1 && r[6] === "sql-lora" && rows.has(sims.addresses[0]!)) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const busyRow = rows.get(target);
    expect(busyRow, `snapshot: ${JSON.stringify([...rows.values()])}`).toBeDefined();
    expect(Number(busyRow![1])).toBe(0); // waiting
    expect(Number(busyRow![2])).toBeGreaterThanOrEqual(1); // running
    expect(Number(busyRow![3])).toBeGreaterThan(0); // KV usage
    expect(Number(busyRow![3])).toBeLessThanOrEqual(1);
    expect(Number(busyRow![5])).toBe(2); // max_lora
    expect(busyRow![6]).toBe("sql-lora"); // running adapters
    const idle = rows.get(sims.addresses[0]!);
    expect(idle).toBeDefined();
    expect(Number(idle![2])).toBe(0);
    expect(filters!.host.metrics.get("wayroute_picker_sim_pool_scrape_errors_total")?.value ?? 0).toBe(0);
    (await busy).body?.cancel();
  });
});
