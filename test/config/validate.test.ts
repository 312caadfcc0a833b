import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { validateConfig } from "../../src/config/index.js";

const exec = promisify(execFile);
const WASM = "build/plugin.wasm";

function cli(...args: string[]) {
  return exec(process.execPath, ["--import", "tsx", "src/cli.ts", ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

const examples = readdirSync("examples/configs").filter((f) => f.endsWith(".json"));

describe("shipped example configs", () => {
  it.each(examples)("%s is accepted by the schema and by the plugin", async (file) => {
    const r = await cli("validate", join("examples/configs", file), "--wasm", WASM);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

/**
 * Invalid configs, each with the JSON path both validators must name. The schema and the plugin
 * are two implementations of one contract: each case asserts they agree.
 */
export const INVALID_CONFIGS: Array<[string, unknown, string]> = [
  ["unknown top-level field", { headerz: {} }, "$.headerz"],
  ["upper-case header name", { headers: { request: { set: { "X-Tenant": "a" } } } }, "$.headers.request.set"],
  ["header value with CR LF", { headers: { response: { set: { "x-a": "a\r\nx-injected: 1" } } } }, "$.headers.response.set"],
  ["remove list of numbers", { headers: { request: { remove: [5] } } }, "$.headers.request.remove[0]"],
  ["log level unknown", { logLevel: "loud" }, "$.logLevel"],
];

describe("invalid configs are refused by both validators, naming the field", () => {
  it.each(INVALID_CONFIGS)("%s", async (_name, config, path) => {
    const v = await validateConfig(config, { wasm: WASM });
    expect(v.ok).toBe(false);
    expect(v.schemaProblems.some((p) => p.startsWith(path)), `schema: ${v.schemaProblems.join("; ")}`).toBe(true);
    expect(v.pluginRefusal, "plugin accepted it").toBeDefined();
    expect(v.pluginRefusal).toContain(path);
  });

  it("exits 1 and prints the path for each problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wayroute-validate-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ headers: { request: { set: { "X-Bad": "1" } } } }));
    const r = await cli("validate", file, "--wasm", WASM);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.json: \$\.headers\.request\.set/);
    expect(r.stderr).toMatch(/bad\.json: plugin: .*\$\.headers\.request\.set/);
  });

  it("exits 1 with one line for a file that does not parse", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wayroute-validate-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "broken.json");
    writeFileSync(file, "{ not json");
    const r = await cli("validate", file, "--wasm", WASM);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/does not parse/);
  });
});
