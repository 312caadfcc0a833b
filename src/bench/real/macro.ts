/**
 * The real-stack routing benchmark: for every (workload, policy) pair, fresh simulators (cold
 * caches), the policy's stack (Envoy, and the EPP for the EPP policy), one preflight request, then
 * the workload. Latency, throughput, sheds and errors come from the load generator; the
 * prefix-cache hit rate and the requests each server completed come from the simulators' own
 * metrics; the steering counters from Envoy's and the EPP's own metrics.
 */
import { Agent } from "node:http";
import { chatCall, contentionWindow, plannedRequests, runLoad, summarize, type Workload } from "../../load/index.js";
import type { MacroCell } from "../../report/types.js";
import { type RealPolicy, runsOn } from "./policies.js";
import { PeerStartError } from "./process.js";
import { type ServerCounters, type SimPool } from "./sims.js";
import { PolicyUnavailable, type StackContext, type SteeringCounters, startStack } from "./stack.js";

/** A macro cell of the real stack: the usual figures plus what the servers and router counted. */
export interface RealMacroCell extends MacroCell {
  /** Requests each simulator completed during the run, by its address (its own metrics). */
  served: Record<string, number>;
  /** The routing layer's own counters over the run. */
  steering: SteeringCounters;
}

export interface RealMacroOptions {
  workloads: Workload[];
  policies: RealPolicy[];
  ctx: StackContext;
  model: string;
  seed: number;
  /** Starts fresh simulators for a workload. */
  startSims(w: Workload): Promise<SimPool>;
  onProgress?(done: number, total: number, label: string): void;
  onSkip?(policy: RealPolicy, reason: string): void;
}

export interface RealMacroRun {
  cells: RealMacroCell[];
  skipped: { policy: string; workload: string; reason: string }[];
  /** Label of the simulators used ("llm-d-inference-sim v0.9.2", ...). */
  simLabel: string;
}

function delta(after: Map<string, ServerCounters>, before: Map<string, ServerCounters>) {
  let queries = 0;
  let hits = 0;
  const served: Record<string, number> = {};
  for (const [addr, a] of after) {
    const b = before.get(addr);
    queries += a.prefixQueries - (b?.prefixQueries ?? 0);
    hits += a.prefixHits - (b?.prefixHits ?? 0);
    served[addr] = a.requests - (b?.requests ?? 0);
  }
  return { queries, hits, served };
}

function counterDelta(after: SteeringCounters, before: SteeringCounters): SteeringCounters {
  const d = (a?: number, b?: number) => (a === undefined ? undefined : a - (b ?? 0));
  const out: SteeringCounters = {};
  const up = d(after.upstreamRequests, before.upstreamRequests);
  if (up !== undefined) out.upstreamRequests = up;
  const picks = d(after.pluginPicks, before.pluginPicks);
  if (picks !== undefined) out.pluginPicks = picks;
  const sheds = d(after.pluginSheds, before.pluginSheds);
  if (sheds !== undefined) out.pluginSheds = sheds;
  if (after.pluginPickedByPort) {
    out.pluginPickedByPort = {};
    for (const [port, n] of Object.entries(after.pluginPickedByPort)) out.pluginPickedByPort[port] = n - (before.pluginPickedByPort?.[port] ?? 0);
  }
  const failOpen = d(after.pluginFailOpen, before.pluginFailOpen);
  if (failOpen !== undefined) out.pluginFailOpen = failOpen;
  if (after.epp) {
    out.epp = {};
    const r = d(after.epp.requests, before.epp?.requests);
    if (r !== undefined) out.epp.requests = r;
    const s = d(after.epp.scheduled, before.epp?.scheduled);
    if (s !== undefined) out.epp.scheduled = s;
    const q = d(after.epp.flowQueued, before.epp?.flowQueued);
    if (q !== undefined) out.epp.flowQueued = q;
    const qs = d(after.epp.flowQueueSeconds, before.epp?.flowQueueSeconds);
    if (qs !== undefined) out.epp.flowQueueSeconds = qs;
    if (after.epp.flowQueuedByFlow) {
      const was = before.epp?.flowQueuedByFlow ?? {};
      out.epp.flowQueuedByFlow = Object.fromEntries(Object.entries(after.epp.flowQueuedByFlow).map(([k, v]) => [k, v - (was[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
    }
    if (after.epp.pickedByPort) {
      out.epp.pickedByPort = {};
      for (const [port, n] of Object.entries(after.epp.pickedByPort)) out.epp.pickedByPort[port] = n - (before.epp?.pickedByPort?.[port] ?? 0);
    }
  }
  return out;
}

export async function runRealMacro(o: RealMacroOptions): Promise<RealMacroRun> {
  const total = o.workloads.reduce((a, w) => a + plannedRequests(w) * o.policies.filter((p) => runsOn(p, w.name)).length, 0);
  let done = 0;
  let simLabel = "";
  const cells: RealMacroCell[] = [];
  const skipped: RealMacroRun["skipped"] = [];
  const dead = new Map<string, string>();
  for (const w of o.workloads) {
    for (const p of o.policies.filter((x) => runsOn(x, w.name))) {
      const skip = (reason: string) => {
        if (!dead.has(p.name)) o.onSkip?.(p, reason);
        dead.set(p.name, reason);
        skipped.push({ policy: p.name, workload: w.name, reason });
        done += plannedRequests(w);
      };
      if (dead.has(p.name)) {
        skip(dead.get(p.name)!);
        continue;
      }
      const sims = await o.startSims(w);
      simLabel ||= sims.label;
      try {
        let stack;
        try {
          stack = await startStack(p, sims.addresses, o.model, o.ctx);
        } catch (err) {
          if (err instanceof PolicyUnavailable || err instanceof PeerStartError || (err as { code?: string }).code?.startsWith("E_ENVOY")) {
            skip((err as Error).message);
            continue;
          }
          throw err;
        }
        try {
          const agent = new Agent({ keepAlive: false });
          const pre = await chatCall({
            target: stack.target, path: "/v1/chat/completions", agent, timeoutMs: 15_000, headers: {},
            body: { model: o.model, max_tokens: 2, messages: [{ role: "user", content: "preflight" }] },
          });
          agent.destroy();
          if (pre.status !== 200) {
            skip(`a first request through ${p.name} got ${pre.status || "no response"}${pre.error ? `: ${pre.error.trim().slice(0, 200)}` : ""}\n${stack.logTail(10)}`);
            continue;
          }
          const before = await sims.counters();
          const steerBefore = await stack.counters();
          const base = done;
          const run = await runLoad({
            target: stack.target, workload: w, seed: o.seed, model: o.model,
            onProgress: (d) => o.onProgress?.(base + d, total, `${w.name} / ${p.name}`),
          });
          done = base + plannedRequests(w);
          const after = await sims.counters();
          const steerAfter = await stack.counters();
          const { queries, hits, served } = delta(after, before);
          // llm-d-inference-sim answers 200 and then reports some failures (e.g. its KV cache cannot
          // hold the prompt) inside the stream: a 200 that carried no token is an error here.
          for (const r of run.records) if (r.status === 200 && !r.error && r.ttftMs === undefined) r.error = "200 without any token";
          const summary = summarize(run.records, run.durationMs, contentionWindow(w));
          // Name each server by its order, as the report's per-server column expects.
          summary.perServer = Object.fromEntries(sims.addresses.map((a, i) => [`sim-${i}`, served[a] ?? 0]));
          cells.push({
            workload: w.name, policy: p.name, durationMs: run.durationMs, summary,
            prefixHitRate: queries > 0 ? hits / queries : 0,
            ttftSamples: run.records.filter((r) => r.status === 200 && r.ttftMs !== undefined).map((r) => Math.round(r.ttftMs! * 10) / 10).sort((a, b) => a - b),
            served, steering: counterDelta(steerAfter, steerBefore),
          });
        } finally {
          await stack.stop();
        }
      } finally {
        await sims.stop();
      }
    }
  }
  return { cells, skipped, simLabel };
}
