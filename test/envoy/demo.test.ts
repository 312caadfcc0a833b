/**
 * The demo's Envoy path: the routing benchmark's macro run with each policy in a real Envoy
 * (round-robin with no Wasm filter, the tuned wayroute policy with the plugin) on a tiny workload.
 */
import { expect, it } from "vitest";
import { runMacro } from "../../src/bench/macro.js";
import { findPolicy } from "../../src/bench/policies.js";
import { envoyPolicyProxy } from "../../src/envoy/index.js";
import { SESSION_HEADER } from "../../src/load/index.js";
import { describeEnvoy } from "./helpers.js";
import { repoRoot } from "./stack.js";

describeEnvoy("demo through real Envoy", (binary) => {
  it("round-robin and wayroute both serve every request through Envoy", async () => {
    const run = await runMacro({
      repoRoot,
      workloads: [{ kind: "shared-prefix", name: "tiny", groups: 2, usersPerGroup: 2, turns: 2, systemPromptTokens: 200, questionTokens: 20, outputTokens: 4, thinkMs: 1, sessionHeader: SESSION_HEADER, rampMs: 100 }],
      policies: [findPolicy("round-robin")!, findPolicy("wayroute")!],
      servers: 2, workers: 2, seed: 7, sim: { speedup: 20 },
      filtersFor: () => Promise.reject(new Error("the built-in proxy must not be used")),
      proxyFor: envoyPolicyProxy(repoRoot, 2, binary),
    });
    expect(run.skipped).toEqual([]);
    expect(run.cells.map((c) => [c.policy, c.summary.requests, c.summary.ok, c.summary.errors])).toEqual([
      ["round-robin", 8, 8, 0],
      ["wayroute", 8, 8, 0],
    ]);
  });
});
