import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseScenario, runScenario, scenarioProblems, ScenarioError, propertyTree } from "../../src/scenario/index.js";
import type { ExchangeResult, Scenario } from "../../src/scenario/index.js";

const PLUGIN = "build/plugin.wasm";
const exec = promisify(execFile);
const resultSchema = JSON.parse(readFileSync("schemas/scenario-result.schema.json", "utf8"));
const validateResult = new Ajv2020({ strict: false }).compile(resultSchema);

function cli(...args: string[]) {
  return exec(process.execPath, ["--import", "tsx", "src/cli.ts", ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

const exampleScenarios = readdirSync("examples/scenarios").filter((f) => f.endsWith(".json"));

describe("shipped example scenarios", () => {
  it.each(exampleScenarios)("%s is valid and every expectation holds", async (file) => {
    const text = readFileSync(join("examples/scenarios", file), "utf8");
    expect(scenarioProblems(JSON.parse(text))).toEqual([]);
    const result = await runScenario(PLUGIN, parseScenario(text, file));
    expect(validateResult(result), JSON.stringify(validateResult.errors)).toBe(true);
    expect(result.configured).toBe(true);
    expect(result.steps.flatMap((s) => ("expectFailures" in s ? s.expectFailures : []))).toEqual([]);
    expect(result.passed).toBe(true);
  });
});

describe("scenario validation", () => {
  it.each([
    [{ steps: [{ request: {} }] }, "$.steps[0].request.headers is required"],
    [{ steps: [], workers: 0 }, "$.workers must be >= 1"],
    [{ steps: [{ tick: -5 }] }, "$.steps[0].tick must be >= 0"],
    [{ steps: [], plugin: { failStrategy: "FAIL_SOMETIMES" } }, '$.plugin.failStrategy must be one of "FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"'],
    [{ steps: [], clusters: { c: { responses: [{ fail: "explode" }] } } }, "$.clusters.c.responses[0].fail"],
    [{ stepz: [] }, "$.stepz is not allowed here (unknown field)"],
  ])("reports %j by JSON path", (scenario, problem) => {
    const problems = scenarioProblems(scenario);
    expect(problems.some((p) => p.startsWith(problem))).toBe(true);
  });

  it("names the path in the error thrown by parseScenario", () => {
    expect(() => parseScenario('{"steps":[{"tick":"soon"}]}', "s.json")).toThrow(ScenarioError);
    expect(() => parseScenario('{"steps":[{"tick":"soon"}]}', "s.json")).toThrow(/s\.json: \$\.steps\[0\]\.tick/);
    expect(() => parseScenario("{", "s.json")).toThrow(/not valid JSON/);
  });

  it("builds property trees from dotted paths and nested objects", () => {
    expect(propertyTree({ "source.address": "1.2.3.4:5", connection: { "uri_san_peer_certificate": "spiffe://x" } })).toEqual({
      source: { address: "1.2.3.4:5" },
      connection: { uri_san_peer_certificate: "spiffe://x" },
    });
  });
});

describe("runScenario through the real plugin", () => {
  it("plays requests and ticks, checks expectations, and returns a schema-valid result", async () => {
    const scenario = parseScenario(readFileSync("examples/scenarios/headers.json", "utf8"));
    const result = await runScenario(PLUGIN, scenario);
    expect(validateResult(result), JSON.stringify(validateResult.errors)).toBe(true);
    expect(result.configured).toBe(true);
    expect(result.workers.map((w) => w.configured)).toEqual([true, true]);
    expect(result.passed).toBe(true);
    const [first, tick, second] = result.steps as [ExchangeResult, { tick: number; timeMs: number }, ExchangeResult];
    expect(first.forwarded).toBe(true);
    expect(first.request!.headers).toContainEqual(["x-wayroute", "on"]);
    expect(first.request!.headers.find(([k]) => k === "x-gateway-destination-endpoint")).toBeUndefined();
    expect(first.response.headers).toContainEqual(["x-served-by", "wayroute"]);
    expect(first.response.body).toBe('{"data":[]}');
    expect(tick.tick).toBe(1000);
    expect(second.worker).toBe(1);
    expect(result.metrics["wayroute_requests_total"]?.value).toBe(2);
  });

  it("reports failed expectations instead of throwing", async () => {
    const scenario: Scenario = {
      plugin: { config: { headers: { request: { set: { "x-a": "1" } } } } },
      steps: [{ request: { headers: { ":path": "/" } }, expect: { status: 418, requestHeaders: { "x-a": "2" } } }],
    };
    const result = await runScenario(PLUGIN, scenario);
    expect(result.passed).toBe(false);
    expect((result.steps[0] as ExchangeResult).expectFailures).toEqual([
      "status: expected 418, got 200",
      'request header x-a: expected "2", got "1"',
    ]);
  });

  it("answers http calls from canned cluster responses in order", async () => {
    const peers = process.env.WAYROUTE_PEER_PLUGINS ?? "../shared/peer-plugins";
    let wasm: Buffer;
    try {
      wasm = readFileSync(join(peers, "go-sdk/dispatch_call_on_tick.wasm"));
    } catch {
      if (process.env.CI === "true") throw new Error(`peer plugin corpus missing at ${peers}`);
      console.warn(`peer plugin corpus not found at ${peers}: skipping the http-call scenario`);
      return;
    }
    const result = await runScenario(wasm, {
      clusters: { web_service: { responses: [{ status: 200, headers: { "x-n": "1" } }, { fail: "reset" }] } },
      steps: [{ tick: 100 }, { tick: 100 }, { tick: 100 }],
    });
    // The main thread's VM and the worker's both tick: six calls, answered in order (the last answer repeats).
    expect(result.httpCalls.map((c) => [c.cluster, c.state])).toEqual([
      ["web_service", "answered"],
      ...Array(5).fill(["web_service", "failed"]),
    ]);
    expect(result.logs.some((l) => l.includes("response header for the dispatched call: x-n: 1"))).toBe(true);
    expect(result.logs.some((l) => l.includes("called 3 for contextID="))).toBe(true);
  });
});

describe("wayroute run", () => {
  it("prints the JSON result and exits 0 when every expectation holds", async () => {
    const r = await cli("run", PLUGIN, "examples/scenarios/headers.json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).passed).toBe(true);
  });

  it("exits 1 naming the JSON path of an invalid scenario", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wayroute-scn-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ steps: [{ request: { headers: { ":path": 5 } } }] }));
    const r = await cli("run", PLUGIN, join(dir, "bad.json"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\$\.steps\[0\]\.request\.headers/);
    expect(r.stdout).toBe("");
  });

  it("exits 1 when the plugin refuses its config, with the refusal in the logs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wayroute-scn-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "refused.json"), JSON.stringify({ plugin: { config: { headers: { request: { set: { "Bad Name": "x" } } } } }, steps: [] }));
    const r = await cli("run", PLUGIN, join(dir, "refused.json"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused its configuration/);
    const result = JSON.parse(r.stdout);
    expect(result.configured).toBe(false);
    expect(result.logs.join("\n")).toMatch(/\$\.headers\.request\.set/);
  });

  it("exits 2 on a usage error", async () => {
    const r = await cli("run", PLUGIN);
    expect(r.code).toBe(2);
  });
});
