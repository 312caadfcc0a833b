/**
 * Runs a scenario: builds a host from the scenario's plugin section, plays its steps in order,
 * checks each step's `expect`, and collects a JSON-ready result.
 */
import {
  formatLog,
  HeaderMap,
  ProxyWasmHost,
  type ClusterHandler,
  type ForeignFunction,
  type HttpCallRecord,
  type LogEntry,
  type PropertyTree,
  type RequestResult,
} from "../host/index.js";
import type {
  ExchangeResult,
  ExchangeStep,
  HttpCallSummary,
  Pairs,
  Scenario,
  ScenarioBody,
  ScenarioCallAnswer,
  ScenarioExpect,
  ScenarioProperties,
  ScenarioResult,
  TickResult,
} from "./types.js";
import { MAX_JSON_DEPTH, valueDepth } from "./json-depth.js";
import { ScenarioError } from "./validate.js";

/** A scenario body as bytes on the wire: strings as they are, other JSON values as JSON text. */
export function bodyText(body: ScenarioBody): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === "string" ? body : JSON.stringify(body);
}

/** Path segments that would reach `Object.prototype` (or a constructor) through a plain object. */
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Turns `{"source.address": "x"}` and nested objects into the harness's property tree. Trees are
 * null-prototype objects, and a `__proto__`, `constructor` or `prototype` segment is refused, so
 * no scenario can reach `Object.prototype` (prototype pollution).
 */
export function propertyTree(props: ScenarioProperties | undefined, path = "$.properties"): PropertyTree {
  const tree: PropertyTree = Object.create(null) as PropertyTree;
  if (props === undefined) return tree;
  if (valueDepth(props) > MAX_JSON_DEPTH) throw new ScenarioError(`${path} nests more than ${MAX_JSON_DEPTH} levels deep`);
  for (const [key, value] of Object.entries(props)) {
    const segments = key.split(".");
    const bad = segments.find((seg) => FORBIDDEN_SEGMENTS.has(seg));
    if (bad !== undefined) throw new ScenarioError(`${path}: property path ${JSON.stringify(key)} has a '${bad}' segment, which is not allowed`);
    let node = tree;
    for (const seg of segments.slice(0, -1)) {
      const next = node[seg];
      if (!next || typeof next !== "object" || Array.isArray(next) || next instanceof Uint8Array) node[seg] = Object.create(null) as PropertyTree;
      node = node[seg] as PropertyTree;
    }
    const last = segments[segments.length - 1]!;
    const existing = node[last];
    if (value !== null && typeof value === "object") {
      const sub = propertyTree(value, `${path}[${JSON.stringify(key)}]`);
      node[last] =
        existing && typeof existing === "object" && !Array.isArray(existing) && !(existing instanceof Uint8Array)
          ? Object.assign(Object.create(null) as PropertyTree, existing as PropertyTree, sub)
          : sub;
    } else {
      node[last] = value;
    }
  }
  return tree;
}

/** Longest single `tick` step (ms): a bigger one is a typo, and would fire timers for hours. */
export const MAX_TICK_MS = 3_600_000;
/** Most steps in one scenario. */
export const MAX_STEPS = 10_000;

/**
 * Bounds a scenario handed in through the library (files are held to the same bounds by the
 * schema): tick sizes, step count and nesting depth. Throws ScenarioError naming the field.
 */
export function checkScenarioBounds(scenario: Scenario): void {
  if (valueDepth(scenario) > MAX_JSON_DEPTH) throw new ScenarioError(`the scenario nests more than ${MAX_JSON_DEPTH} levels deep`);
  if (!Array.isArray(scenario.steps)) throw new ScenarioError("$.steps must be an array");
  if (scenario.steps.length > MAX_STEPS) throw new ScenarioError(`$.steps has ${scenario.steps.length} steps; at most ${MAX_STEPS} are allowed`);
  scenario.steps.forEach((step, i) => {
    if (step && typeof step === "object" && "tick" in step) {
      const t = step.tick;
      if (!Number.isSafeInteger(t) || t < 0 || t > MAX_TICK_MS) {
        throw new ScenarioError(`$.steps[${i}].tick must be an integer from 0 to ${MAX_TICK_MS} (ms), got ${String(t)}`);
      }
    }
  });
}

function cannedCluster(answers: ScenarioCallAnswer[]): ClusterHandler {
  let next = 0;
  return () => {
    const answer = answers[Math.min(next++, answers.length - 1)]!;
    if ("fail" in answer) return answer.fail;
    return {
      status: answer.status ?? 200,
      headers: answer.headers,
      body: bodyText(answer.body),
      trailers: answer.trailers,
    };
  };
}

const FOREIGN: Record<"identity" | "empty", ForeignFunction> = {
  identity: (arg: Uint8Array) => arg,
  empty: () => new Uint8Array(0),
};

function pairs(map: HeaderMap): Pairs {
  return map.toPairs().map(([k, v]) => [k, v] as [string, string]);
}

function logLine(e: LogEntry): string {
  return `[worker ${e.worker}] ${formatLog(e)}`;
}

function summarizeCall(call: HttpCallRecord): HttpCallSummary {
  const r = call.request;
  return {
    worker: r.worker,
    cluster: r.cluster,
    method: r.method,
    path: r.path,
    authority: r.authority,
    headers: pairs(r.headers),
    body: r.bodyText,
    timeoutMs: r.timeoutMs,
    state: call.state,
  };
}

function checkHeaders(kind: string, actual: HeaderMap | undefined, want: Record<string, string | null>, out: string[]): void {
  for (const [name, value] of Object.entries(want)) {
    const got = actual?.get(name.toLowerCase());
    if (value === null ? got !== undefined : got !== value) {
      out.push(`${kind} header ${name}: expected ${value === null ? "absent" : JSON.stringify(value)}, got ${got === undefined ? "absent" : JSON.stringify(got)}`);
    }
  }
}

/** Every way `result` breaks `expect`, as readable sentences. */
export function expectationFailures(result: RequestResult, expect: ScenarioExpect | undefined): string[] {
  const out: string[] = [];
  if (!expect) return out;
  if (expect.status !== undefined && result.response.status !== expect.status) {
    out.push(`status: expected ${expect.status}, got ${result.response.status}`);
  }
  if (expect.forwarded !== undefined && (result.request !== null) !== expect.forwarded) {
    out.push(`forwarded: expected ${expect.forwarded}, got ${result.request !== null}`);
  }
  if (expect.requestHeaders) checkHeaders("request", result.request?.headers, expect.requestHeaders, out);
  if (expect.responseHeaders) checkHeaders("response", result.response.headers, expect.responseHeaders, out);
  const wantReq = bodyText(expect.requestBody);
  if (wantReq !== undefined && result.request?.bodyText !== wantReq) {
    out.push(`request body: expected ${JSON.stringify(wantReq)}, got ${JSON.stringify(result.request?.bodyText ?? null)}`);
  }
  const wantResp = bodyText(expect.responseBody);
  if (wantResp !== undefined && result.response.bodyText !== wantResp) {
    out.push(`response body: expected ${JSON.stringify(wantResp)}, got ${JSON.stringify(result.response.bodyText)}`);
  }
  return out;
}

function exchangeResult(step: ExchangeStep, r: RequestResult, calls: HttpCallRecord[]): ExchangeResult {
  const out: ExchangeResult = {
    ...(step.name !== undefined ? { name: step.name } : {}),
    worker: r.worker,
    forwarded: r.request !== null,
    response: { status: r.response.status, headers: pairs(r.response.headers), body: r.response.bodyText, trailers: pairs(r.response.trailers) },
    clearRouteCache: r.clearRouteCacheCount,
    logs: r.logs.map(logLine),
    expectFailures: expectationFailures(r, step.expect),
  };
  if (r.request) out.request = { headers: pairs(r.request.headers), body: r.request.bodyText, trailers: pairs(r.request.trailers) };
  if (r.localReply) {
    const l = r.localReply;
    out.localReply = { status: l.status, headers: l.headers.map(([k, v]) => [k, v] as [string, string]), body: l.bodyText, details: l.details, source: l.source };
  }
  if (r.reset !== undefined) out.reset = r.reset;
  if (r.trap) out.trap = r.trap.message;
  if (calls.length) out.httpCalls = calls.map(summarizeCall);
  return out;
}

function sharedText(value: Uint8Array): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(value);
  const printable = !text.includes("\uFFFD") && !/[\u0000-\u0008\u000e-\u001f]/.test(text);
  return printable ? text : `base64:${Buffer.from(value).toString("base64")}`;
}

/** Whether a wayroute config asks the host to keep headers writable during the body. */
function holdsHeadersForBody(config: Record<string, unknown> | string | undefined): boolean {
  return typeof config === "object" && config !== null && config.holdHeadersForBody === true;
}

/** Runs `scenario` against the plugin `module` (bytes or a path) and returns the result. */
export async function runScenario(module: Uint8Array | string, scenario: Scenario): Promise<ScenarioResult> {
  checkScenarioBounds(scenario);
  const clusters: Record<string, ClusterHandler> = {};
  for (const [name, c] of Object.entries(scenario.clusters ?? {})) clusters[name] = cannedCluster(c.responses ?? [{ status: 200 }]);
  const foreignFunctions: Record<string, ForeignFunction> = {};
  for (const [name, kind] of Object.entries(scenario.foreignFunctions ?? {})) foreignFunctions[name] = FOREIGN[kind];
  const plugin = scenario.plugin ?? {};
  const host = await ProxyWasmHost.create({
    module,
    workers: scenario.workers ?? 1,
    pluginConfig: plugin.config,
    vmConfig: plugin.vmConfig,
    rootId: plugin.rootId,
    vmId: plugin.vmId,
    failStrategy: plugin.failStrategy,
    allowOnHeadersStopIteration: plugin.allowOnHeadersStopIteration ?? holdsHeadersForBody(plugin.config),
    logLevel: plugin.logLevel ?? "trace",
    now: scenario.startTime,
    properties: propertyTree(scenario.properties),
    clusters,
    foreignFunctions,
  });
  try {
    const steps: Array<TickResult | ExchangeResult> = [];
    for (const step of scenario.steps) {
      const logsBefore = host.logs.entries.length;
      const callsBefore = host.httpCalls.length;
      if ("tick" in step) {
        await host.advance(step.tick);
        steps.push({ tick: step.tick, timeMs: host.now, logs: host.logs.entries.slice(logsBefore).map(logLine) });
        continue;
      }
      const upstream = step.upstream;
      const result = await host.request({
        worker: step.worker,
        headers: new HeaderMap(step.request.headers),
        body: bodyText(step.request.body),
        trailers: step.request.trailers,
        properties: propertyTree(step.request.properties, `$.steps[${steps.length}].request.properties`),
        upstream: upstream
          ? { status: upstream.status ?? 200, headers: upstream.headers, body: bodyText(upstream.body), trailers: upstream.trailers }
          : undefined,
      });
      await host.settle();
      steps.push(exchangeResult(step, result, host.httpCalls.slice(callsBefore)));
    }
    const metrics: ScenarioResult["metrics"] = {};
    for (const m of host.metrics.all()) {
      metrics[m.name] = m.type === "histogram" ? { type: m.type, value: m.value, samples: [...m.samples] } : { type: m.type, value: m.value };
    }
    const sharedData: Record<string, string> = {};
    const vmId = plugin.vmId ?? "";
    for (const key of host.sharedData.keys(vmId).sort()) sharedData[key] = sharedText(host.sharedData.get(vmId, key)!.value);
    return {
      configured: host.configured,
      workers: host.configureResults.map((configured, index) => ({
        index,
        configured,
        failed: host.worker(index).failed,
        generation: host.worker(index).generation,
      })),
      steps,
      httpCalls: host.httpCalls.map(summarizeCall),
      metrics,
      sharedData,
      logs: host.logs.entries.map(logLine),
      passed: steps.every((s) => !("expectFailures" in s) || s.expectFailures.length === 0),
    };
  } finally {
    host.close();
  }
}
