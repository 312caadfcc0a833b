/**
 * The bursty two-tenant workload end to end (simulators + proxy + load generator): tenant a's
 * steady stream and tenant b's burst each arrive with their tenant header and are summarized
 * per tenant; with flow control (the gie-default-flow policy) every request still completes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { filtersFactory } from "../../src/bench/filters.js";
import { POLICIES } from "../../src/bench/policies.js";
import { runBench } from "../../src/bench/run.js";
import { FAIRNESS_HEADER, plannedRequests, type Workload } from "../../src/load/index.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const out = mkdtempSync(join(tmpdir(), "wayroute-bursty-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const bursty: Workload = {
  kind: "bursty-tenants", name: "bursty two tenants", tenantHeader: FAIRNESS_HEADER, steadyRate: 40, durationMs: 400,
  burst: 12, burstRate: 400, burstAtMs: 100, promptTokens: 100, outputTokens: 4,
};

describe("bench: bursty two-tenant workload", () => {
  it("sends both tenants' requests with their header and summarizes each tenant; flow control completes all", async () => {
    const run = await runBench({
      repoRoot, outDir: out, micro: false, macro: true, quick: true, progress: false,
      workloads: [bursty], policies: POLICIES.filter((p) => p.name === "round-robin" || p.name === "gie-default-flow"),
      servers: 2, workers: 1, sim: { speedup: 50 },
      filtersFor: filtersFactory(repoRoot, 1),
    });
    const cells = run.results.macro;
    expect(cells.map((c) => c.policy)).toEqual(["round-robin", "gie-default-flow"]);
    for (const c of cells) {
      const a = c.summary.perClass["tenant-a"];
      const b = c.summary.perClass["tenant-b"];
      expect(b?.ok, c.policy).toBe(12);
      expect(a!.ok, c.policy).toBeGreaterThan(0);
      expect(a!.ok + b!.ok, c.policy).toBe(c.summary.requests);
      // Each tenant's throughput: its completions (and output tokens) over its own window.
      for (const k of [a!, b!]) {
        expect(k.throughputRps, c.policy).toBeGreaterThan(0);
        expect(k.outputTokensPerSec, c.policy).toBeGreaterThan(0);
      }
      expect(c.summary.errors, c.policy).toBe(0);
      expect(c.summary.sheds, c.policy).toBe(0);
    }
    expect(plannedRequests(bursty)).toBe(16 + 12);
  });
});
