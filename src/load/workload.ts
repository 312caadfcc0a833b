/**
 * Workloads: what the load generator sends. A workload is plain data (JSON-friendly); the runner
 * turns it into users (closed loop: each user sends its next turn when the previous reply is
 * complete) or an open-loop arrival process.
 */
import type { ContentionWindow } from "./summary.js";

/** Headers and a share of requests they go on, e.g. marking half the traffic sheddable. */
export interface RequestClass {
  /** Class name in the results, e.g. "sheddable". */
  name: string;
  /** Fraction of requests in this class, 0..1 (the rest are "default"). */
  share: number;
  /** Headers added to requests of this class. */
  headers: Record<string, string>;
}

/**
 * Groups of users share a long system prompt and hold multi-turn conversations: the shape of
 * llm-d's "KV-cache wins you can see" benchmark (many tenants, each with a long system prompt,
 * several users per tenant, follow-up turns that resend the growing history).
 */
export interface SharedPrefixWorkload {
  kind: "shared-prefix";
  name: string;
  groups: number;
  usersPerGroup: number;
  turns: number;
  systemPromptTokens: number;
  questionTokens: number;
  outputTokens: number;
  /** Pause between a reply and the user's next turn (wall ms). */
  thinkMs: number;
  /**
   * Header carrying the tenant id (`tenant-<n>`) on every request, as an API gateway in front of
   * the proxy would add; session-affinity policies can use it. Absent: no such header.
   */
  sessionHeader?: string;
  /** Users start at random times within this window (wall ms; default 50), like arrivals do. */
  rampMs?: number;
}

/** Every request carries a fresh prompt: nothing to gain from prefix affinity. */
export interface UniqueWorkload {
  kind: "unique";
  name: string;
  users: number;
  requestsPerUser: number;
  promptTokens: number;
  outputTokens: number;
}

/** Open-loop arrivals at a fixed rate (Poisson), typically above capacity, with request classes. */
export interface OverloadWorkload {
  kind: "overload";
  name: string;
  /** Requests per wall second. */
  rate: number;
  requests: number;
  promptTokens: number;
  outputTokens: number;
  classes: RequestClass[];
}

/** Users of several LoRA adapters (request `model` names an adapter), skewed popularity. */
export interface MultiLoraWorkload {
  kind: "multi-lora";
  name: string;
  adapters: string[];
  users: number;
  requestsPerUser: number;
  promptTokens: number;
  outputTokens: number;
}

/**
 * Two tenants of equal priority: tenant a sends at a steady rate for the whole run, tenant b
 * bursts well above capacity part-way through. Each tenant is a request class (its header in
 * `tenantHeader`), so the summary gives each one's completions and TTFT. The contention window
 * (contentionWindow) ends with a's stream: with a's rate above half the pool's capacity and a
 * burst longer than the window can serve, both tenants are backlogged in it.
 */
export interface BurstyTenantsWorkload {
  kind: "bursty-tenants";
  name: string;
  tenantHeader: string;
  /** Tenant a: requests per wall second, for `durationMs`. */
  steadyRate: number;
  durationMs: number;
  /** Tenant b: `burst` requests at `burstRate` per second, starting at `burstAtMs`. */
  burst: number;
  burstRate: number;
  burstAtMs: number;
  promptTokens: number;
  outputTokens: number;
}

export type Workload = SharedPrefixWorkload | UniqueWorkload | OverloadWorkload | MultiLoraWorkload | BurstyTenantsWorkload;

/** Bounds the runner enforces whatever the workload says (load tests stop by themselves). */
export const LOAD_LIMITS = { maxRequests: 5000, maxDurationMs: 120_000, requestTimeoutMs: 30_000 };

/** Total requests a workload sends. */
export function plannedRequests(w: Workload): number {
  switch (w.kind) {
    case "shared-prefix":
      return w.groups * w.usersPerGroup * w.turns;
    case "unique":
    case "multi-lora":
      return w.users * w.requestsPerUser;
    case "overload":
      return w.requests;
    case "bursty-tenants":
      return Math.round((w.steadyRate * w.durationMs) / 1000) + w.burst;
  }
}

/**
 * The span in which both tenants of a bursty workload are backlogged (none for other kinds):
 * from `CONTENTION_SETTLE_MS` after the burst starts, when the requests in flight at its start
 * (all tenant a's) have ended, to the end of tenant a's stream.
 */
export function contentionWindow(w: Workload): ContentionWindow | undefined {
  if (w.kind !== "bursty-tenants" || w.durationMs <= w.burstAtMs + CONTENTION_SETTLE_MS) return undefined;
  return { startMs: w.burstAtMs + CONTENTION_SETTLE_MS, endMs: w.durationMs };
}

export const CONTENTION_SETTLE_MS = 1000;

/** The EPP's flow-control fairness header (llm-d `x-llm-d-inference-fairness-id`): the tenant. */
export const FAIRNESS_HEADER = "x-llm-d-inference-fairness-id";

/** Header the default shared-prefix workload puts its tenant id in. */
export const SESSION_HEADER = "x-session-id";

/** Default workloads scaled to a 2-core machine and a simulator running 10x real time. */
export function defaultWorkloads(scale = 1): Workload[] {
  const s = (n: number) => Math.max(1, Math.round(n * scale));
  return [
    { kind: "shared-prefix", name: "shared-prefix chat", groups: 8, usersPerGroup: s(4), turns: 4, systemPromptTokens: 1500, questionTokens: 60, outputTokens: 24, thinkMs: 5, sessionHeader: SESSION_HEADER, rampMs: 1000 },
    { kind: "unique", name: "unique prompts", users: 16, requestsPerUser: s(4), promptTokens: 600, outputTokens: 24 },
    {
      kind: "overload", name: "overload + sheddable", rate: 160, requests: s(160), promptTokens: 800, outputTokens: 24,
      classes: [{ name: "sheddable", share: 0.5, headers: { "x-gateway-inference-objective": "batch" } }],
    },
    {
      kind: "bursty-tenants", name: "bursty two tenants", tenantHeader: FAIRNESS_HEADER, steadyRate: 30, durationMs: 5000,
      burst: s(160), burstRate: 240, burstAtMs: 1000, promptTokens: 800, outputTokens: 24,
    },
    { kind: "multi-lora", name: "multi-LoRA", adapters: ["sql-lora", "chat-lora", "code-lora", "math-lora"], users: 16, requestsPerUser: s(4), promptTokens: 300, outputTokens: 24 },
  ];
}
