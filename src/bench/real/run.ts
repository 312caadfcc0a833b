/**
 * `npm run bench -- --stack real`: the routing benchmark and the routing-overhead measurement on
 * the real stack (Envoy 1.40, llm-d's EPP, llm-d-inference-sim). A missing peer skips what needs
 * it, with the reason in the results; everything started is stopped at the end or on interrupt.
 */
import { findEnvoy } from "../../envoy/index.js";
import type { Workload } from "../../load/index.js";
import { runRealMacro } from "./macro.js";
import { type BodySize, OVERHEAD_BODIES, runOverhead } from "./overhead.js";
import { findEpp, findInferenceSim } from "./peers.js";
import { findRealPolicy, REAL_POLICIES, type RealPolicy } from "./policies.js";
import { REAL_SIM_DEFAULTS, type SimPool, startLlmdSims, startOwnSims } from "./sims.js";
import { freePorts } from "./ports.js";
import { stopAllPeers } from "./process.js";
import type { RealStackResults } from "./types.js";
import { kvBlocksFor, realWorkloads } from "./workloads.js";

export interface RealStackOptions {
  repoRoot: string;
  quick: boolean;
  macro: boolean;
  overhead: boolean;
  workloads?: Workload[];
  policies?: RealPolicy[];
  servers: number;
  workers: number;
  seed: number;
  /** Overrides of the overhead measurement's shape (the CI test runs a small one). */
  overheadShape?: Partial<{ endpointCounts: number[]; rate: number; requests: number; warmup: number; bodies: BodySize[] }>;
  /** The command line that started the run, for the report. */
  command: string;
  onProgress?(done: number, total: number, label: string): void;
  log(line: string): void;
  /** Called with the results so far after the routing part (the overhead part takes longer). */
  onPartial?(results: RealStackResults): void;
}

/** Policies of the overhead measurement: plain Envoy (the baseline), Envoy + EPP, wayroute headers only and hold. */
const OVERHEAD_POLICIES = ["envoy-round-robin", "envoy-epp", "wayroute-headers", "wayroute-hold"];

export async function runRealStack(o: RealStackOptions): Promise<RealStackResults> {
  try {
    return await runStack(o);
  } finally {
    // Whatever failed half way, no simulator, EPP or stub outlives the run.
    await stopAllPeers();
  }
}

async function runStack(o: RealStackOptions): Promise<RealStackResults> {
  const envoy = findEnvoy();
  const epp = findEpp(o.repoRoot);
  const sim = findInferenceSim(o.repoRoot);
  const notes: string[] = [];
  if (!epp.ok) notes.push(`The Envoy + EPP policy is skipped: ${epp.reason}.`);
  const simName = sim.ok ? `llm-d-inference-sim ${sim.version}` : "wayroute sim";
  if (!sim.ok) notes.push(`llm-d-inference-sim is not installed (${sim.reason}); the model servers are wayroute's own simulator with the same latency model, labelled "wayroute sim".`);
  const ctx = { repoRoot: o.repoRoot, envoy, epp, workers: o.workers };
  const model = REAL_SIM_DEFAULTS.model;
  const results: RealStackResults = {
    versions: { envoy: envoy.version, epp: epp.ok ? epp.version : "not installed", simulator: sim.ok ? simName : "wayroute sim (llm-d-inference-sim not installed)" },
    commands: [o.command], macro: [], overhead: [], skipped: [], notes,
  };
  if (o.macro) {
    const startSims = async (w: Workload): Promise<SimPool> => {
      const m = { ...REAL_SIM_DEFAULTS, kvBlocks: kvBlocksFor(w, REAL_SIM_DEFAULTS.kvBlocks) };
      if (sim.ok) return startLlmdSims(sim.path, sim.version, await freePorts(o.servers), m, o.seed);
      return startOwnSims(o.servers, m, "llm-d-inference-sim not installed");
    };
    const run = await runRealMacro({
      workloads: o.workloads ?? realWorkloads(o.quick ? 0.25 : 1),
      policies: o.policies ?? REAL_POLICIES,
      ctx, model, seed: o.seed, startSims,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      onSkip: (p, reason) => o.log(`bench: real-stack policy ${p.name} skipped: ${reason}`),
    });
    results.macro = run.cells;
    results.skipped.push(...run.skipped);
    o.onPartial?.(results);
  }
  if (o.overhead) {
    const wanted = o.policies ? OVERHEAD_POLICIES.filter((n) => n === OVERHEAD_POLICIES[0] || o.policies!.some((p) => p.name === n)) : OVERHEAD_POLICIES;
    const run = await runOverhead({
      ctx, model,
      policies: wanted.map((n) => findRealPolicy(n)!),
      bodies: o.overheadShape?.bodies ?? OVERHEAD_BODIES,
      endpointCounts: o.overheadShape?.endpointCounts ?? (o.quick ? [2, 16] : [8, 64, 1024]),
      rate: o.overheadShape?.rate ?? (o.quick ? 20 : 40),
      requests: o.overheadShape?.requests ?? (o.quick ? 40 : 400),
      warmup: o.overheadShape?.warmup ?? (o.quick ? 10 : 40),
      onProgress: (label) => o.onProgress?.(0, 1, label),
      log: (line) => o.log(line),
      onSkip: (p, reason) => o.log(`bench: overhead policy ${p.name} skipped: ${reason}`),
    });
    results.overhead = run.rows;
    results.skipped.push(...run.skipped);
  }
  return results;
}
