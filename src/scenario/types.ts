/** TypeScript shapes of `schemas/scenario.schema.json` and `schemas/scenario-result.schema.json`. */
import type { FailStrategy } from "../host/index.js";

export type ScenarioHeaders = Record<string, string> | Array<[string, string]>;
/** A string body, or any other JSON value (sent as its JSON text). */
export type ScenarioBody = unknown;
export interface ScenarioProperties {
  [pathOrSegment: string]: string | number | boolean | ScenarioProperties;
}

export interface ScenarioResponse {
  status?: number;
  headers?: ScenarioHeaders;
  body?: ScenarioBody;
  trailers?: ScenarioHeaders;
}

export type ScenarioCallAnswer = ScenarioResponse | { fail: "reset" | "timeout" };

export interface ScenarioExpect {
  status?: number;
  forwarded?: boolean;
  requestHeaders?: Record<string, string | null>;
  responseHeaders?: Record<string, string | null>;
  requestBody?: ScenarioBody;
  responseBody?: ScenarioBody;
}

export interface TickStep {
  tick: number;
}

export interface ExchangeStep {
  name?: string;
  worker?: number;
  request: { headers: ScenarioHeaders; body?: ScenarioBody; trailers?: ScenarioHeaders; properties?: ScenarioProperties };
  upstream?: ScenarioResponse;
  expect?: ScenarioExpect;
}

export type ScenarioStep = TickStep | ExchangeStep;

/** A scenario file. */
export interface Scenario {
  description?: string;
  plugin?: {
    config?: Record<string, unknown> | string;
    vmConfig?: string;
    rootId?: string;
    vmId?: string;
    failStrategy?: FailStrategy;
    allowOnHeadersStopIteration?: boolean;
    logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "critical";
  };
  workers?: number;
  startTime?: number;
  properties?: ScenarioProperties;
  clusters?: Record<string, { responses?: ScenarioCallAnswer[] }>;
  foreignFunctions?: Record<string, "identity" | "empty">;
  steps: ScenarioStep[];
}

export type Pairs = Array<[string, string]>;

export interface HttpCallSummary {
  worker?: number;
  cluster: string;
  method: string;
  path: string;
  authority: string;
  headers?: Pairs;
  body?: string;
  timeoutMs?: number;
  state: "pending" | "answered" | "failed" | "timed-out" | "cancelled";
}

export interface TickResult {
  tick: number;
  timeMs: number;
  logs: string[];
}

export interface ExchangeResult {
  name?: string;
  worker: number;
  forwarded: boolean;
  request?: { headers: Pairs; body: string; trailers: Pairs };
  localReply?: { status: number; headers: Pairs; body: string; details: string; source: "plugin" | "fail-closed" | "buffer-limit" };
  response: { status: number; headers: Pairs; body: string; trailers: Pairs };
  reset?: string;
  trap?: string;
  clearRouteCache: number;
  httpCalls?: HttpCallSummary[];
  logs: string[];
  expectFailures: string[];
}

/** What `wayroute run` prints. */
export interface ScenarioResult {
  configured: boolean;
  workers: Array<{ index: number; configured: boolean; failed: boolean; generation: number }>;
  steps: Array<TickResult | ExchangeResult>;
  httpCalls: HttpCallSummary[];
  metrics: Record<string, { type: "counter" | "gauge" | "histogram"; value: number; samples?: number[] }>;
  sharedData: Record<string, string>;
  logs: string[];
  passed: boolean;
}
