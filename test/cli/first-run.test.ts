/**
 * What a new user meets first: the built CLI (`node dist/cli.js`, as `npx wayroute` runs it) with
 * good and bad input. Exit codes are the same for every command: 0 ok, 1 failure, 2 usage.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commands } from "../../src/cli/commands/index.js";

const WASM = "build/plugin.wasm";
const dir = mkdtempSync(join(tmpdir(), "wayroute-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

describe("exit codes: 0 ok, 1 failure, 2 usage, for every command", () => {
  it("every command's --help documents them, and so does wayroute --help", async () => {
    const top = await cli("--help");
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("Exit codes (every command): 0 ok, 1 failure, 2 usage error.");
    expect(top.stdout).not.toMatch(/\b3 internal/);
    for (const c of commands) {
      const r = await cli(c.name, "--help");
      expect(r.code, c.name).toBe(0);
      expect(r.stdout, c.name).toMatch(/Exit codes: 0 [^\n]*; 1 [^]*2 usage error\.|Exit codes: 0 [^\n]*, 1 [^]*, 2 usage error\./);
    }
  });

  it("no command at all is a usage error, with the usage on stderr", async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: wayroute <command>/);
  });

  it("sim --servers 0 is a usage error naming the option, not a port problem", async () => {
    const r = await cli("sim", "--servers", "0");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--servers must be an integer from 1 to 256, got 0");
    expect(r.stderr).not.toContain("--base-port");
    expect(r.stderr).toContain("Run 'wayroute sim --help'");
  });

  it("manifest with no arguments is a usage error", async () => {
    const r = await cli("manifest");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("route mode needs --service");
    expect(r.stderr).toContain("Run 'wayroute manifest --help'");
  });

  it("usage errors inside pack, push, pull and inspect keep exit 2", async () => {
    expect((await cli("pack")).code).toBe(2); // --out is required
    expect((await cli("push", "only-one-arg")).code).toBe(2);
    expect((await cli("pull")).code).toBe(2);
    expect((await cli("inspect", "a", "b")).code).toBe(2);
  });
});

describe("run: the plugin argument", () => {
  const scenario = "examples/scenarios/headers.json";

  it("a scenario given where the plugin goes is named, and the first argument is said to be the plugin", async () => {
    const r = await cli("run", scenario, WASM);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${scenario} is not a WebAssembly module`);
    expect(r.stderr).toContain("the first argument is the plugin (.wasm)");
    expect(r.stderr).not.toContain("magic word");
  });

  it("with only a scenario, the package's own plugin runs it", async () => {
    const r = await cli("run", scenario);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ configured: true, passed: true });
  });

  it("a scenario that is not JSON is named with the line and column", async () => {
    const broken = file("broken-scenario.json", '{\n  "steps": [\n    { "tick": 5 },\n  ]\n}');
    const r = await cli("run", WASM, broken);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`wayroute run: ${broken} is not valid JSON: line 4, column 3: Unexpected token ']'`);
  });

  it("a plugin without a scenario is a usage error", async () => {
    const r = await cli("run", WASM);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is a WebAssembly module, not a scenario");
  });

  it("a refused config prints the plugin's refusal line, with the JSON path, on stderr", async () => {
    const bad = file("refused.json", { plugin: { config: { pools: [{ name: "p", endpoints: [{ address: "10.0.0.1" }] }] } }, steps: [] });
    const r = await cli("run", WASM, bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^wayroute run: the plugin refused its configuration: .*\$\.pools\[0\]\.endpoints\[0\]\.address: .*port/m);
    expect(r.stderr).not.toContain("[worker");
    expect(JSON.parse(r.stdout).configured).toBe(false);
  });
});

describe("inspect: a path that does not exist", () => {
  it.each(["../some/missing/path", "./missing-layout", "/no/such/layout", "missing.tar"])("%s is reported as a missing path", async (target) => {
    const r = await cli("inspect", target);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${target} does not exist`);
    expect(r.stderr).not.toContain("registry host (");
  });

  it("a bare word that is neither says both", async () => {
    const r = await cli("inspect", "out/layout");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no file or directory named out/layout exists either");
  });
});

describe("serve --with-sim with a config written for real endpoints", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it("maps the config's endpoint pool onto the simulators, says which, and traffic reaches them", async () => {
    child = spawn(process.execPath, ["dist/cli.js", "serve", "--plugin", WASM, "--config", "examples/configs/gie-default.json", "--with-sim", "2", "--port", "0", "--duration", "30"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c) => (stdout += String(c)));
    child.stderr!.on("data", (c) => (stderr += String(c)));
    const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
    for (let i = 0; i < 400 && !/listening on http:\/\/\S+/.test(stdout); i++) await new Promise((r) => setTimeout(r, 25));
    const proxy = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    expect(proxy, stderr).toBeDefined();
    const sims = [...stdout.matchAll(/upstream (sim-\d) http:\/\/(\S+)/g)].map((m) => m[2]!);
    expect(sims).toHaveLength(2);
    expect(stderr).toContain(`notice: --with-sim: pool llama-3-8b: endpoints 10.0.1.10:8000, 10.0.1.11:8000, 10.0.1.12:8000 -> simulators ${sims.join(", ")}`);
    expect(stderr).toContain("notice: --with-sim: pool llama-3-8b: metrics cluster llama-3-8b-pool -> sim-pool");
    const r = await fetch(`${proxy}/v1/completions`, { method: "POST", body: JSON.stringify({ model: "sim-llm", prompt: "hello", max_tokens: 1 }) });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-sim-server")).toMatch(/^sim-[01]$/);
    await r.text();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    child = undefined;
  });
});

describe("validate: every file, problems in words", () => {
  it("validates every file, reports each, and exits 1 if any failed; a syntax error has line and column", async () => {
    const broken = file("broken.json", '{\n  "logLevel": "info",\n  pools: []\n}');
    const trailing = file("trailing.json", '{\n  "rules": [1,]\n}');
    const bad = file("bad.json", { pools: [{ name: "p", endpoints: [{ address: "10.0.0.1:8000" }, { address: "10.0.0.2" }] }] });
    const good = "examples/configs/gie-default.json";
    const r = await cli("validate", broken, trailing, bad, good, "--wasm", WASM);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${broken}: config ${broken} does not parse: line 3, column 3: `);
    expect(r.stderr).toContain(`${trailing}: config ${trailing} does not parse: line 2, column 15: Unexpected token ']'`);
    expect(r.stderr).toContain(`${bad}: $.pools[0].endpoints[1].address must be ip:port`);
    expect(r.stderr).toContain(`${bad}: plugin: `);
    expect(r.stdout).toBe(`${good}: ok\n`);
    expect(r.stderr).toContain("3 of 4 configs failed");
  });

  it("reports the deepest error in words with its path, never a raw pattern or an if/else summary", async () => {
    const nested = file("nested.json", { pools: [{ name: "p", endpoints: [{ address: "10.0.0.1:8000" }, { zone: "a" }, { address: "10.0.0.3" }] }] });
    const r = await cli("validate", nested, "--wasm", WASM);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/"else"|"then"|schema in anyOf|\^\(|\[0-9\]/);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toBe(`${nested}: $.pools[0].endpoints[1].address is required`);
    expect(lines[1]).toBe(`${nested}: (and 1 more schema problem; --all-errors lists them)`);
  });

  it("--all-errors lists every problem; manifest points to it", async () => {
    const many = file("many.json", {
      logLevel: "loud",
      pools: [{ name: "p", endpoints: [{ address: "10.0.0.3" }], sessionAffinity: {}, profile: { scorers: [{ type: "queue-scorer", params: { x: 1 } }] } }],
      rules: [{ match: { path: { glob: "/a/***" } } }],
    });
    const r = await cli("validate", many, "--all-errors", "--wasm", WASM);
    expect(r.code).toBe(1);
    for (const line of [
      "$.logLevel must be one of",
      "$.pools[0].endpoints[0].address must be ip:port",
      "$.pools[0].sessionAffinity must have at least one of header, cookie",
      "$.pools[0].profile.scorers[0].params.x is not allowed here (unknown field)",
      "$.rules[0].match.path.glob must not contain ***",
    ]) {
      expect(r.stderr).toContain(`${many}: ${line}`);
    }
    expect(r.stderr).not.toContain("more schema problem");
    const m = await cli("manifest", "--mode", "endpoint", "--config", many);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/\(and 4 more: 'wayroute validate --all-errors .*many\.json' lists them all\)/);
  });

  it("one-of alternatives are named: none given, or more than one", async () => {
    const cfg = file("one-of.json", { rules: [{ match: { headers: [{ name: "x-a", equals: "1", prefix: "2" }, { name: "x-b" }] } }] });
    const r = await cli("validate", cfg, "--all-errors", "--wasm", WASM);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}: $.rules[0].match.headers[0] must have exactly one of equals, prefix, suffix, present, not 2`);
    expect(r.stderr).toContain(`${cfg}: $.rules[0].match.headers[1] must have exactly one of equals, prefix, suffix, present`);
    expect(r.stderr).not.toMatch(/oneOf|allowed forms/);
  });

  it("every pattern in the shipped schemas has words", async () => {
    const { PATTERN_WORDS, NOT_PATTERN_WORDS } = await import("../../src/config/schema-errors.js");
    const { readdirSync, readFileSync } = await import("node:fs");
    const patterns: string[] = [];
    const notPatterns: string[] = [];
    const walk = (node: unknown, underNot = false): void => {
      if (Array.isArray(node)) node.forEach((n) => walk(n, false));
      else if (node && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) {
          if (k === "pattern" && typeof v === "string") (underNot ? notPatterns : patterns).push(v);
          else walk(v, k === "not");
        }
      }
    };
    for (const f of readdirSync("schemas").filter((x) => x.endsWith(".schema.json") && !x.startsWith("scenario"))) walk(JSON.parse(readFileSync(join("schemas", f), "utf8")));
    expect(patterns.length).toBeGreaterThan(5);
    for (const p of patterns) expect(PATTERN_WORDS, p).toHaveProperty([p]);
    for (const p of notPatterns) expect(NOT_PATTERN_WORDS, p).toHaveProperty([p]);
  });
});

describe("README's quick start is what a fresh clone prints", () => {
  /** Numbers and lower/higher vary from run to run; the shape does not. */
  const shape = (line: string) => line.replace(/\b(lower|higher)\b/g, "~").replace(/\d+(\.\d+)?/g, "#").replace(/ +/g, " ").trimEnd();

  it("the demo's output has the README block's lines, columns and row labels; the report path is the one README names", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync("README.md", "utf8");
    const quick = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## How it runs"));
    const block = quick.split("```text\n")[1]!.split("```")[0]!.trimEnd().split("\n");
    const r = await cli("demo", "--scale", "0.1", "--servers", "2", "--proxy", "node", "--no-progress", "--out", join(dir, "demo"));
    expect(r.code, r.stderr).toBe(0);
    const printed = r.stdout.trimEnd().split("\n");
    // The first line names the proxy (README's run had Envoy; this one the Node proxy), the last the report.
    expect(block[0]).toMatch(/^proxy: /);
    expect(printed[0]).toMatch(/^proxy: /);
    expect(block.at(-1)).toBe("report: …/bench-results/demo/report.html");
    expect(printed.at(-1)).toBe(`report: ${join(dir, "demo", "report.html")}`);
    expect(block.slice(1, -1).map(shape)).toEqual(printed.slice(1, -1).map(shape));
    expect(block[1]).toBe(printed[1]); // the header, column for column
    expect(quick).toContain("writes `bench-results/demo/report.html`");
    expect(quick).not.toMatch(/bench-results\/report\.html/);
    expect((await cli("demo", "--help")).stdout).toMatch(/--out <dir>\s+output directory \(default bench-results\/demo\)/);
    expect(quick).toMatch(/`apache2-utils` \(`htpasswd`/);
  });
});
