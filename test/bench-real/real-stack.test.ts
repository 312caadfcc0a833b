/**
 * A quick run of the real-stack benchmark (`npm run bench -- --stack real`): real Envoy, llm-d's
 * EPP, and llm-d-inference-sim (or wayroute's simulator when it is not installed, as on CI). It
 * checks that every policy served its requests and, from server-side counters, that the EPP and
 * wayroute really chose the endpoints: the requests each simulator says it completed match the
 * picks the EPP (its scheduler counter) or the plugin (its per-endpoint counters) made for it.
 * Performance figures are not asserted here; `npm run bench -- --stack real` reports them.
 *
 * Needs Envoy (npm run setup:envoy) and the EPP (npm run setup:peers): skipped with a notice
 * without them, a failure under CI=true.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eppBootstrap, plainBootstrap } from "../../src/bench/real/bootstrap.js";
import { findEpp } from "../../src/bench/real/peers.js";
import { findRealPolicy, REAL_POLICIES, runsOn } from "../../src/bench/real/policies.js";
import { runRealStack } from "../../src/bench/real/run.js";
import { wayrouteBootstrap } from "../../src/bench/real/stack.js";
import type { RealStackResults } from "../../src/bench/real/types.js";
import { ENVOY_INSTALL_COMMAND, tryFindEnvoy, validateBootstrap } from "../../src/envoy/index.js";
import { FAIRNESS_HEADER, plannedRequests, SESSION_HEADER, type Workload } from "../../src/load/index.js";

const root = join(import.meta.dirname, "..", "..");
const envoy = tryFindEnvoy();
const epp = findEpp(root);
const wasm = existsSync(join(root, "build", "plugin.wasm"));
const missing = [
  ...(envoy ? [] : [`Envoy (${ENVOY_INSTALL_COMMAND})`]),
  ...(epp.ok ? [] : [`the EPP (${epp.reason})`]),
  ...(wasm ? [] : ["build/plugin.wasm (npm run build:wasm)"]),
];
if (missing.length && process.env.CI === "true") throw new Error(`the real-stack test needs ${missing.join(", ")} under CI=true`);
if (missing.length) console.warn(`[skip] real-stack benchmark: missing ${missing.join(", ")}`);
const describeReal = missing.length ? describe.skip : describe;

const WORKLOAD: Workload = {
  kind: "shared-prefix", name: "shared-prefix (quick)", groups: 2, usersPerGroup: 2, turns: 2,
  systemPromptTokens: 600, questionTokens: 20, outputTokens: 8, thinkMs: 5, sessionHeader: SESSION_HEADER, rampMs: 100,
};
const PLANNED = 8;
const portOf = (address: string) => address.slice(address.lastIndexOf(":") + 1);

describeReal("real-stack benchmark, quick", () => {
  it("every bootstrap passes envoy --mode validate", async () => {
    const eps = ["127.0.0.1:18001", "127.0.0.1:18002"];
    const boots = [
      plainBootstrap("127.0.0.1:0", eps, "ROUND_ROBIN"),
      plainBootstrap("127.0.0.1:0", eps, "LEAST_REQUEST"),
      eppBootstrap("127.0.0.1:0", "127.0.0.1:19002"),
      ...REAL_POLICIES.flatMap((p) => (p.kind === "wayroute" ? [wayrouteBootstrap(p, eps, "sim-llm", root)] : [])),
    ];
    for (const b of boots) {
      const v = await validateBootstrap(b, envoy!);
      expect(v.ok, v.output).toBe(true);
    }
  });

  let results: RealStackResults;
  it("runs every policy and the overhead measurement", async () => {
    results = await runRealStack({
      repoRoot: root, quick: true, macro: true, overhead: true, workloads: [WORKLOAD],
      servers: 2, workers: 2, seed: 3, command: "vitest", log: (line) => console.warn(line),
      overheadShape: { endpointCounts: [4], rate: 40, requests: 20, warmup: 5, bodies: [{ name: "headers only", bytes: 0 }, { name: "220 KB", bytes: 220 * 1024 }] },
    });
    expect(results.skipped).toEqual([]);
    expect(results.versions.envoy).toMatch(/^\d+\.\d+\.\d+$/);
    expect(results.versions.simulator).toMatch(/^llm-d-inference-sim|^wayroute sim/);
  }, 240_000);

  it("every policy served every request, and the simulators counted them", () => {
    // The flow-control policies run on the overload and bursty workloads only.
    expect(results.macro.map((c) => c.policy)).toEqual(REAL_POLICIES.filter((p) => runsOn(p, WORKLOAD.name)).map((p) => p.name));
    expect(results.macro.map((c) => c.policy)).not.toContain("envoy-epp-flow");
    expect(results.macro.map((c) => c.policy)).not.toContain("wayroute-flow");
    for (const c of results.macro) {
      expect({ policy: c.policy, ok: c.summary.ok, errors: c.summary.errors, sheds: c.summary.sheds }).toEqual({ policy: c.policy, ok: PLANNED, errors: 0, sheds: 0 });
      const served = Object.values(c.served).reduce((a, b) => a + b, 0);
      expect({ policy: c.policy, served }).toEqual({ policy: c.policy, served: PLANNED });
    }
  });

  it("the EPP chose every endpoint: its picks per endpoint equal what each simulator served", () => {
    const c = results.macro.find((x) => x.policy === "envoy-epp")!;
    expect(c.steering.epp?.scheduled).toBe(PLANNED);
    const served = Object.fromEntries(Object.entries(c.served).filter(([, n]) => n > 0).map(([a, n]) => [portOf(a), n]));
    const picked = Object.fromEntries(Object.entries(c.steering.epp?.pickedByPort ?? {}).filter(([, n]) => n > 0));
    expect(picked).toEqual(served);
  });

  it("wayroute chose every endpoint: no request fell open to Envoy's balancer, and each serving simulator was picked for it", () => {
    for (const name of ["wayroute-headers", "wayroute-hold", "wayroute-tuned"]) {
      const c = results.macro.find((x) => x.policy === name)!;
      expect({ name, failOpen: c.steering.pluginFailOpen ?? 0 }).toEqual({ name, failOpen: 0 });
      expect(c.steering.pluginPicks ?? 0).toBeGreaterThanOrEqual(PLANNED);
      for (const [address, n] of Object.entries(c.served)) {
        if (n === 0) continue;
        expect({ name, address, picks: (c.steering.pluginPickedByPort?.[portOf(address)] ?? 0) >= n }).toEqual({ name, address, picks: true });
      }
    }
  });

  it("the overhead measurement answered every request for every policy", () => {
    const policies = ["envoy-round-robin", "envoy-epp", "wayroute-headers", "wayroute-hold"];
    expect(results.overhead.map((r) => `${r.body}/${r.policy}`)).toEqual(["headers only", "220 KB"].flatMap((b) => policies.map((p) => `${b}/${p}`)));
    for (const r of results.overhead) {
      expect({ case: `${r.body}/${r.policy}`, ok: r.ok }).toEqual({ case: `${r.body}/${r.policy}`, ok: 20 });
      expect(Number.isFinite(r.envoyCpuMsPer1k)).toBe(true);
    }
    expect(results.overhead.filter((r) => r.policy === "envoy-epp").every((r) => Number.isFinite(r.eppCpuMsPer1k))).toBe(true);
  });
});

describeReal("real-stack benchmark: the EPP with flow control", () => {
  it("envoy-epp-flow serves every request of an overload workload, each one through the EPP's flow-control layer", async () => {
    const overload: Workload = { kind: "overload", name: "overload (quick)", rate: 80, requests: 12, promptTokens: 100, outputTokens: 4, classes: [] };
    const r = await runRealStack({
      repoRoot: root, quick: true, macro: true, overhead: false, workloads: [overload],
      policies: [findRealPolicy("envoy-epp-flow")!], servers: 1, workers: 2, seed: 5, command: "vitest", log: (line) => console.warn(line),
    });
    expect(r.skipped).toEqual([]);
    const c = r.macro.find((x) => x.policy === "envoy-epp-flow")!;
    expect({ ok: c.summary.ok, errors: c.summary.errors, sheds: c.summary.sheds }).toEqual({ ok: 12, errors: 0, sheds: 0 });
    expect(c.steering.epp?.scheduled).toBe(12);
    // The histogram exists only with the feature gate on: every request passed through the layer.
    expect(c.steering.epp?.flowQueued).toBe(12);
    expect(c.steering.epp?.flowQueueSeconds).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it("on the bursty workload the tenant header reaches the EPP as its fairness id: one flow per tenant; wayroute's flow control serves both too", async () => {
    const bursty: Workload = {
      kind: "bursty-tenants", name: "bursty (quick)", tenantHeader: FAIRNESS_HEADER, steadyRate: 40, durationMs: 400,
      burst: 12, burstRate: 400, burstAtMs: 100, promptTokens: 100, outputTokens: 4,
    };
    const r = await runRealStack({
      repoRoot: root, quick: true, macro: true, overhead: false, workloads: [bursty],
      policies: [findRealPolicy("envoy-epp-flow")!, findRealPolicy("wayroute-flow")!], servers: 1, workers: 2, seed: 5, command: "vitest", log: (line) => console.warn(line),
    });
    expect(r.skipped).toEqual([]);
    expect(r.macro.map((c) => c.policy)).toEqual(["envoy-epp-flow", "wayroute-flow"]);
    for (const c of r.macro) {
      const a = c.summary.perClass["tenant-a"]!;
      const b = c.summary.perClass["tenant-b"]!;
      expect({ policy: c.policy, a: a.ok, b: b.ok, errors: c.summary.errors, sheds: c.summary.sheds }).toEqual({ policy: c.policy, a: plannedRequests(bursty) - 12, b: 12, errors: 0, sheds: 0 });
    }
    const epp = r.macro[0]!;
    expect(epp.steering.epp?.flowQueuedByFlow).toEqual({ a: plannedRequests(bursty) - 12, b: 12 });
  }, 180_000);
});

describe("real-stack policies", () => {
  it("name the wayroute configs of the macro suite", () => {
    expect(findRealPolicy("wayroute-hold")).toMatchObject({ kind: "wayroute", policy: { name: "gie-default-hold" } });
    expect(findRealPolicy("wayroute-headers")).toMatchObject({ kind: "wayroute", policy: { name: "gie-default" } });
    expect(findRealPolicy("envoy-epp")?.kind).toBe("epp");
  });
});
