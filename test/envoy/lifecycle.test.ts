/**
 * The plugin's life in real Envoy 1.40: loaded from a packed image read back like Istio reads it
 * (and through a registry push/pull when docker-registry is installed), a config the plugin
 * refuses at each failure policy, a new plugin config delivered by a file-based (LDS) listener
 * update while a stream is in flight, and a refused config in such an update.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "yaml";
import { afterAll, afterEach, expect, it } from "vitest";
import { EnvoyError, EnvoyProcess, standaloneBootstrap, validateBootstrap } from "../../src/envoy/index.js";
import { buildWasmImage, extractWasmLikeIstio, openLayout, pullImage, pushLayout, readLayoutManifest, selectManifest, writeLayoutDir, type WasmImageFormat } from "../../src/oci/index.js";
import { describeEnvoy } from "./helpers.js";
import { PLUGIN } from "./stack.js";
import { RecordingUpstream } from "./upstream.js";
import { REGISTRY_BIN, startRegistry } from "../oci/helpers.js";

const headerConfig = (version: string, extra: Record<string, unknown> = {}) => ({ logLevel: "info", headers: { request: { set: { "x-config-version": version } } }, ...extra });

describeEnvoy("plugin lifecycle in real Envoy", (binary) => {
  const dirs: string[] = [];
  let envoy: EnvoyProcess | undefined;
  let up: RecordingUpstream | undefined;
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "wayroute-envoy-test-"));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    await envoy?.stop();
    await up?.stop();
    envoy = undefined;
    up = undefined;
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function serveWith(wasmPath: string): Promise<void> {
    up = await RecordingUpstream.start("up");
    const bootstrap = standaloneBootstrap({ pluginConfig: headerConfig("image"), wasmPath, upstreams: [up.address] });
    expect((await validateBootstrap(bootstrap, binary)).ok).toBe(true);
    envoy = await EnvoyProcess.start({ bootstrap, concurrency: 2, binary });
    const r = await fetch(`http://${envoy.listenerAddress()}/v1/models`);
    expect(r.status).toBe(200);
    expect(new Map(up.requests[0]!.headers).get("x-config-version")).toBe("image");
  }

  for (const format of ["compat", "artifact"] as WasmImageFormat[]) {
    it(`loads the module from a packed ${format} image, read back by Istio's rules`, async () => {
      const wasm = readFileSync(PLUGIN);
      const image = buildWasmImage(wasm, { format });
      const layout = join(tmp(), "layout");
      await writeLayoutDir(layout, image, "test");
      // Read back from the layout on disk, as Istio's fetcher would take it apart.
      const blob = async (d: { digest: string }) => readFileSync(join(layout, "blobs", "sha256", d.digest.slice(7)));
      const extracted = await extractWasmLikeIstio(image.manifest, undefined, blob);
      expect(extracted.wasm.equals(wasm)).toBe(true);
      const file = join(tmp(), "plugin.wasm");
      writeFileSync(file, extracted.wasm);
      await serveWith(file);
    });
  }

  it("loads the module from an image pushed to a registry and pulled back", async (ctx) => {
    if (!existsSync(REGISTRY_BIN)) {
      if (process.env.CI === "true") throw new Error(`docker-registry (${REGISTRY_BIN}) is required under CI=true`);
      console.warn(`[skip] registry round trip: docker-registry not found at ${REGISTRY_BIN}`);
      ctx.skip();
    }
    const registry = await startRegistry();
    try {
      const layout = join(tmp(), "layout");
      await writeLayoutDir(layout, buildWasmImage(readFileSync(PLUGIN), { format: "compat" }), "test");
      const noDocker = tmp();
      const env = { DOCKER_CONFIG: noDocker };
      const pushed = await pushLayout(layout, `${registry.host}/wayroute/plugin:test`, { env });
      // Pull into a layout (what 'wayroute pull --out' writes), then take the module out of it.
      const out = join(tmp(), "pulled");
      await pullImage(`${registry.host}/wayroute/plugin@${pushed.manifestDigest}`, { env, out });
      const pulledLayout = await openLayout(out);
      const { manifest } = await readLayoutManifest(pulledLayout, selectManifest(pulledLayout, out));
      const extracted = await extractWasmLikeIstio(manifest, undefined, (d) => pulledLayout.readBlob(d.digest));
      expect(extracted.wasm.equals(readFileSync(PLUGIN))).toBe(true);
      const file = join(tmp(), "pulled.wasm");
      writeFileSync(file, extracted.wasm);
      await serveWith(file);
    } finally {
      await registry.stop();
    }
  });

  for (const failStrategy of ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"] as const) {
    it(`a config the plugin refuses, ${failStrategy}: validate and start both fail, naming the field`, async () => {
      const bootstrap = standaloneBootstrap({ pluginConfig: headerConfig("bad", { bogusField: 1 }), wasmPath: PLUGIN, upstreams: ["127.0.0.1:9"], failStrategy });
      const v = await validateBootstrap(bootstrap, binary);
      expect(v.ok).toBe(false);
      expect(v.output).toContain(`plugin configuration refused: $.bogusField: unknown field "bogusField"`);
      expect(v.output).toContain("Unable to create Wasm plugin wayroute");
      const err = await EnvoyProcess.start({ bootstrap, binary }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvoyError);
      expect((err as EnvoyError).message).toMatch(/exited \(code 1\).*Unable to create Wasm plugin wayroute/);
      const wasmLines = v.output.split("\n").filter((l) => /\[wasm\]/.test(l) && !/wasm log/.test(l)).map((l) => l.replace(/^.*\] /, ""));
      console.log(`[envoy] refused config, ${failStrategy}: ${wasmLines.join(" | ")}`);
    });
  }

  /** Moves the bootstrap's listener into a watched LDS file; returns the function that rewrites it. */
  function withFileLds(bootstrap: Record<string, unknown>, dir: string): (listener: unknown) => void {
    const b = bootstrap as { static_resources: { listeners?: unknown[] }; dynamic_resources?: unknown };
    const ldsPath = join(dir, "lds.yaml");
    const write = (listener: unknown) => {
      const tmpFile = join(dir, ".lds.yaml.tmp");
      const resource = { "@type": "type.googleapis.com/envoy.config.listener.v3.Listener", ...(listener as object) };
      writeFileSync(tmpFile, new Document({ resources: [resource] }).toString());
      // Envoy watches the directory for a move onto the file.
      renameSync(tmpFile, ldsPath);
    };
    write(b.static_resources.listeners![0]);
    delete b.static_resources.listeners;
    // Observed: validate accepts dynamic resources without a node, a real start does not.
    (b as Record<string, unknown>).node = { id: "wayroute-test", cluster: "wayroute-test" };
    b.dynamic_resources = { lds_config: { resource_api_version: "V3", path_config_source: { path: ldsPath, watched_directory: { path: dir } } } };
    return write;
  }

  it("a new plugin config by file-based listener update applies to new streams; an in-flight stream finishes", async () => {
    up = await RecordingUpstream.start("up");
    const dir = tmp();
    const make = (version: string, extra: Record<string, unknown> = {}) => standaloneBootstrap({ pluginConfig: headerConfig(version, extra), wasmPath: PLUGIN, upstreams: [up!.address] });
    const bootstrap = make("1");
    const port = await freeListenPort();
    const listenerOf = (b: Record<string, unknown>) => {
      const l = (b as { static_resources: { listeners: { address: { socket_address: { port_value: number } } }[] } }).static_resources.listeners[0]!;
      l.address.socket_address.port_value = port;
      return l;
    };
    listenerOf(bootstrap);
    const update = withFileLds(bootstrap, dir);
    expect((await validateBootstrap(bootstrap, binary)).ok).toBe(true);
    envoy = await EnvoyProcess.start({ bootstrap, concurrency: 2, binary, workDir: dir });
    const base = `http://127.0.0.1:${port}`;
    // One kept-alive connection opened before the update.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(port, "/v1/a", keepAlive)).status).toBe(200);
    const inflight = fetch(`${base}/v1/slow?slowMs=1500`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 200));
    // Version 2 of the plugin config (validated as a whole bootstrap first).
    const next = make("2");
    expect((await validateBootstrap(next, binary)).ok).toBe(true);
    update(listenerOf(next));
    const e = envoy;
    await waitFor(async () => (await e.stat("listener_manager.lds.update_success")) === 2);
    // A new connection gets the new config; the connection opened before keeps the old listener's
    // filter chain (and so the old plugin config) until it drains.
    expect((await get(port, "/v1/b")).status).toBe(200);
    expect((await get(port, "/v1/old-connection", keepAlive)).status).toBe(200);
    keepAlive.destroy();
    const slow = await inflight;
    expect(slow.status).toBe(200);
    expect(slow.body).toContain('"server":"up"');
    const versions = up.requests.map((r) => [r.path, new Map(r.headers).get("x-config-version")]);
    expect(versions).toEqual([["/v1/a", "1"], ["/v1/slow?slowMs=1500", "1"], ["/v1/b", "2"], ["/v1/old-connection", "1"]]);
    // A refused config in an update: Envoy rejects the update and keeps serving the last good one.
    update(listenerOf(make("3", { bogusField: 1 })));
    await waitFor(async () => (await e.stat("listener_manager.lds.update_rejected")) === 1);
    expect((await get(port, "/v1/c")).status).toBe(200);
    expect(new Map(up.requests.at(-1)!.headers).get("x-config-version")).toBe("2");
    const refused = e.logs().find((l) => l.includes("plugin configuration refused"));
    expect(refused).toContain("$.bogusField");
    console.log(`[envoy] refused config in an LDS update: rejected (lds.update_rejected 1), last good listener keeps serving`);
  });
});

/** GET on a fresh connection, or through `agent`. */
function get(port: number, path: string, agent: Agent | false = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function freeListenPort(): Promise<number> {
  const { createServer } = await import("node:net");
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}
