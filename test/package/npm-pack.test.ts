import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The npm that runs this suite (npm_execpath), else the one installed beside node. Never a copy
 * some dependency placed in node_modules/.bin, which PATH prefers under `npm test`.
 */
function npmCli(): string {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv)) return fromEnv;
  const beside = join(dirname(process.execPath), "../lib/node_modules/npm/bin/npm-cli.js");
  if (existsSync(beside)) return beside;
  throw new Error("cannot find npm-cli.js; set npm_execpath");
}

/** npm with no prompts, no audit, and nothing from outside this machine. */
function npm(args: string[], cwd: string): string {
  return execFileSync(process.execPath, [npmCli(), ...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" });
}

describe("the npm package", () => {
  const work = mkdtempSync(join(tmpdir(), "wayroute-pack-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let tarball = "";

  it("packs the bundle, type declarations, the release plugin and the schemas", () => {
    const out = JSON.parse(npm(["pack", "--json", "--pack-destination", work], resolve(".")));
    const files: string[] = out[0].files.map((f: { path: string }) => f.path);
    tarball = join(work, out[0].filename);
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/cli.js", "dist/types/index.d.ts", "build/plugin.wasm", "schemas/plugin-config.schema.json", "schemas/scenario.schema.json", "README.md", "package.json"]) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.startsWith("assembly/"))).toBe(false);
  });

  it("installs into a fresh project, whose code imports the harness and runs the plugin", () => {
    const project = join(work, "consumer");
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    npm(["install", "--offline", tarball], project);
    writeFileSync(
      join(project, "check.mjs"),
      `import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ProxyWasmHost } from "wayroute";
const wasm = readFileSync(fileURLToPath(import.meta.resolve("wayroute/plugin.wasm")));
const host = await ProxyWasmHost.create({
  module: wasm,
  workers: 2,
  pluginConfig: { headers: { request: { set: { "x-from": "consumer" } } } },
});
const r = await host.request({ headers: { ":path": "/v1/models" }, upstream: { status: 204 } });
console.log(JSON.stringify({ configured: host.configured, seen: r.request.headers.get("x-from"), status: r.response.status }));
host.close();
`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ["check.mjs"], { cwd: project, encoding: "utf8" }));
    expect(out).toEqual({ configured: true, seen: "consumer", status: 204 });
    const types = readFileSync(join(project, "node_modules/wayroute/dist/types/index.d.ts"), "utf8");
    expect(types).toMatch(/host\/index\.js/);
    // CommonJS consumers: require() resolves the package's "require" condition.
    writeFileSync(
      join(project, "check.cjs"),
      `const { readFileSync } = require("node:fs");
const { ProxyWasmHost, findPluginWasm } = require("wayroute");
(async () => {
  const host = await ProxyWasmHost.create({
    module: readFileSync(require.resolve("wayroute/plugin.wasm")),
    pluginConfig: { headers: { request: { set: { "x-from": "cjs" } } } },
  });
  const r = await host.request({ headers: { ":path": "/v1/models" }, upstream: { status: 204 } });
  console.log(JSON.stringify({ configured: host.configured, seen: r.request.headers.get("x-from"), status: r.response.status, plugin: findPluginWasm() === require.resolve("wayroute/plugin.wasm") }));
  host.close();
})();
`,
    );
    const cjs = JSON.parse(execFileSync(process.execPath, ["check.cjs"], { cwd: project, encoding: "utf8" }));
    expect(cjs).toEqual({ configured: true, seen: "cjs", status: 204, plugin: true });
    const help = execFileSync(join(project, "node_modules/.bin/wayroute"), ["--help"], { encoding: "utf8" });
    expect(help).toMatch(/usage: wayroute <command>/);
  });
});
