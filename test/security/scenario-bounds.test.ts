/**
 * Findings 7 and 11: scenarios that try to pollute Object.prototype through property paths, ask
 * for unbounded work (`tick` 1e13), or nest JSON 5,000 levels deep. Each gets a clean one-line
 * error (exit 1, no stack trace) and the caller's process stays unpolluted.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseScenario, propertyTree, runScenario, ScenarioError } from "../../src/scenario/index.js";
import type { Scenario } from "../../src/scenario/index.js";
import { runCli } from "../oci/helpers.js";

const PLUGIN = "build/plugin.wasm";

function polluted(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.isAdmin !== undefined || probe.name !== undefined || "polluted" in probe;
}

afterEach(() => {
  // Never leak a pollution into other tests, whatever happened.
  for (const k of ["isAdmin", "name", "polluted"]) delete (Object.prototype as Record<string, unknown>)[k];
});

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function scenarioFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wayroute-scn-"));
  dirs.push(dir);
  const path = join(dir, "s.json");
  await writeFile(path, text);
  return path;
}

describe("property paths cannot reach Object.prototype (finding 7)", () => {
  it.each([
    [{ "__proto__.isAdmin": true }],
    [{ "a.__proto__.isAdmin": true }],
    [{ "constructor.prototype.isAdmin": true }],
    [JSON.parse('{"__proto__": {"isAdmin": true}}')],
    [{ nested: JSON.parse('{"__proto__.name": "X"}') }],
  ])("propertyTree refuses %j and pollutes nothing", (props) => {
    expect(() => propertyTree(props)).toThrow(ScenarioError);
    expect(() => propertyTree(props)).toThrow(/__proto__|constructor|prototype/);
    expect(polluted()).toBe(false);
  });

  it("trees are null-prototype objects: inherited names are not properties", () => {
    const tree = propertyTree({ "source.address": "10.0.0.1:1" });
    expect(Object.getPrototypeOf(tree)).toBeNull();
    expect(Object.getPrototypeOf(tree.source)).toBeNull();
    expect((tree as Record<string, unknown>).toString).toBeUndefined();
  });

  it("through the library, runScenario refuses the scenario and ({}).isAdmin stays undefined", async () => {
    const scenario = { properties: { "__proto__.isAdmin": true }, steps: [{ tick: 1 }] } as unknown as Scenario;
    await expect(runScenario(PLUGIN, scenario)).rejects.toThrow(ScenarioError);
    const perRequest = {
      steps: [{ request: { headers: { ":path": "/", ":method": "GET", ":authority": "x" }, properties: { "__proto__.polluted": "yes" } } }],
    } as unknown as Scenario;
    await expect(runScenario(PLUGIN, perRequest)).rejects.toThrow(/steps\[0\]\.request\.properties/);
    expect(polluted()).toBe(false);
  });

  it("wayroute run refuses a polluting scenario with one line, before running anything", async () => {
    const r = await runCli(["run", PLUGIN, await scenarioFile('{"properties":{"__proto__.name":"X"},"steps":[{"request":{"headers":{":path":"/"}}}]}')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/\$\.properties\["__proto__\.name"\] has a __proto__, constructor or prototype segment/);
    expect(polluted()).toBe(false);
  });

  it("parseArgs treats --__proto__ and --constructor as unknown options", async () => {
    for (const arg of ["--__proto__", "--__proto__=x", "--constructor", "--prototype", "--no-__proto__", "--toString"]) {
      const r = await runCli(["run", arg, "x.json"]);
      expect(r.code, arg).toBe(2);
      expect(r.stderr).toMatch(/unknown option/);
    }
    expect(polluted()).toBe(false);
  });
});

describe("scenarios ask for bounded work (finding 11)", () => {
  it("a tick of 1e13 ms is refused by the schema and by the runner", async () => {
    expect(() => parseScenario('{"steps":[{"tick":10000000000000}]}')).toThrow(/\$\.steps\[0\]\.tick must be <= 3600000/);
    await expect(runScenario(PLUGIN, { steps: [{ tick: 1e13 }] } as Scenario)).rejects.toThrow(/tick must be an integer from 0 to 3600000/);
    const r = await runCli(["run", PLUGIN, await scenarioFile('{"steps":[{"tick":1e13}]}')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("more than 10000 steps are refused", () => {
    expect(() => parseScenario(JSON.stringify({ steps: Array.from({ length: 10_001 }, () => ({ tick: 1 })) }))).toThrow(/steps must NOT have more than 10000 items/);
  });

  it("5000 levels of nesting in properties or in the plugin config give a clean error, not a stack trace", async () => {
    const deep = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    for (const text of [`{"steps":[{"tick":1}],"properties":${deep(5000)}}`, `{"steps":[{"tick":1}],"plugin":{"config":${deep(5000)}}}`]) {
      expect(() => parseScenario(text)).toThrow(/nests JSON 500\d levels deep; at most 64 are allowed/);
      const r = await runCli(["run", PLUGIN, await scenarioFile(text)]);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/RangeError|internal error|\n\s+at /);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    // The same bound holds for a scenario built in code.
    let props: Record<string, unknown> = { leaf: "x" };
    for (let i = 0; i < 5000; i++) props = { a: props };
    await expect(runScenario(PLUGIN, { properties: props, steps: [{ tick: 1 }] } as unknown as Scenario)).rejects.toThrow(/nests more than 64 levels/);
  });

  it("5000 levels in a plugin config for validate and serve give a clean error", async () => {
    const deep = '{"a":'.repeat(5000) + "1" + "}".repeat(5000);
    const file = await scenarioFile(deep);
    const checks = [
      await runCli(["validate", file]),
      await runCli(["serve", "--plugin", PLUGIN, "--config", file, "--duration", "1"]),
      await runCli(["serve", "--serve-config", await scenarioFile(`{"defaultCluster":{"name":"d","endpoints":[],"lb":"round-robin"},"x":${deep}}`), "--duration", "1"]),
    ];
    for (const r of checks) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/nests (JSON \d+ levels|more than 64 levels) deep/);
      expect(r.stderr).not.toMatch(/RangeError|internal error|\n\s+at /);
    }
  });

  it("brackets inside strings do not count as nesting", () => {
    expect(() => parseScenario(JSON.stringify({ description: "[".repeat(500) + "{".repeat(500), steps: [] }))).not.toThrow();
  });
});
