/**
 * The policies of the real-stack benchmark. Every one runs through the same Envoy (2 workers)
 * in front of the same simulators:
 *   - Envoy's own round-robin and least-request (no filter);
 *   - Envoy + ext_proc + llm-d's EPP with its default profile (queue 2, KV cache 2, prefix 3),
 *     and the same with the EPP's flow control enabled (overload and bursty workloads only);
 *   - Envoy + wayroute: headers only (what a stock Istio waypoint allows), hold mode
 *     (allow_on_headers_stop_iteration, the body read before routing) with the GIE default
 *     profile, the tuned policy, and the GIE default profile with flow control (overload and
 *     bursty workloads only). The wayroute configs are the macro suite's (src/bench/policies.ts).
 */
import { findPolicy, type Policy } from "../policies.js";

export type RealPolicy =
  | { name: string; description: string; kind: "envoy"; lb: "ROUND_ROBIN" | "LEAST_REQUEST" }
  | {
    name: string; description: string; kind: "epp";
    /** Turns on the EPP's `flowControl` feature gate (its default bands and policies). */
    flowControl?: boolean;
    /** Runs only on workloads whose name contains one of these (every workload when absent). */
    workloads?: string[];
  }
  | {
    name: string; description: string; kind: "wayroute"; policy: Policy;
    /** Runs only on workloads whose name contains one of these (every workload when absent). */
    workloads?: string[];
  };

/** The workloads that exercise flow control: a saturated pool, and one tenant's burst. */
const FLOW_WORKLOADS = ["overload", "bursty"];

function wayroute(name: string, description: string, macroPolicy: string, workloads?: string[]): RealPolicy {
  const policy = findPolicy(macroPolicy);
  if (!policy) throw new Error(`macro policy ${macroPolicy} is missing`);
  return { name, description, kind: "wayroute", policy, ...(workloads ? { workloads } : {}) };
}

export const REAL_POLICIES: RealPolicy[] = [
  { name: "envoy-round-robin", description: "Envoy's ROUND_ROBIN, no filter", kind: "envoy", lb: "ROUND_ROBIN" },
  { name: "envoy-least-request", description: "Envoy's LEAST_REQUEST, no filter", kind: "envoy", lb: "LEAST_REQUEST" },
  { name: "envoy-epp", description: "Envoy + ext_proc + llm-d EPP, its default profile (queue 2, KV cache 2, prefix 3)", kind: "epp" },
  {
    name: "envoy-epp-flow", description: "the same EPP with its flow control enabled (feature gate flowControl, its default bands, FCFS, round-robin fairness across x-llm-d-inference-fairness-id flows, utilization saturation detector)",
    kind: "epp", flowControl: true, workloads: FLOW_WORKLOADS,
  },
  wayroute("wayroute-headers", "wayroute, headers only (stock waypoint): GIE default profile without the body", "gie-default"),
  wayroute("wayroute-hold", "wayroute, hold mode (allow_on_headers_stop_iteration): GIE default profile reading the prompt", "gie-default-hold"),
  wayroute("wayroute-tuned", "wayroute, tuned: tenant affinity (bounded load), in-flight, queue and KV scorers (headers only)", "wayroute"),
  wayroute("wayroute-flow", "wayroute, headers only, GIE default profile with flow control (bands, round-robin across x-llm-d-inference-fairness-id flows, 8 in flight per endpoint, sheddable at most 75 % of them)", "gie-default-flow", FLOW_WORKLOADS),
  wayroute("wayroute-flow-noreserve", "wayroute-flow without the reserve: the sheddable band may fill every in-flight slot", "gie-default-flow-noreserve", FLOW_WORKLOADS),
];

/** Whether `policy` runs on the workload named `workload`. */
export function runsOn(policy: RealPolicy, workload: string): boolean {
  return policy.kind === "envoy" || !policy.workloads || policy.workloads.some((w) => workload.includes(w));
}

export function findRealPolicy(name: string): RealPolicy | undefined {
  return REAL_POLICIES.find((p) => p.name === name);
}
