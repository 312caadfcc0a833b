/**
 * Cold start in real Envoy: the time from starting Envoy to the first request it serves, and from
 * a config push (the listener rewritten in a watched LDS file) to the first request served by the
 * new listener, with the plugin in the filter chain or without it. Loopback only; Envoy and the
 * upstream are always stopped.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "yaml";
import { type EnvoyBinary, EnvoyProcess, standaloneBootstrap } from "../envoy/index.js";

export interface ColdStartOptions {
  binary: EnvoyBinary;
  /** The module; ignored when `plugin` is false. */
  wasmPath: string;
  /** Whether the listener runs the plugin (else only the router). */
  plugin: boolean;
  /** Plugin config (default: one request header rule). */
  pluginConfig?: Record<string, unknown>;
  /** Envoy workers, one Wasm VM each (default 2). */
  workers?: number;
  /** Give up after this long per phase (default 30 s). */
  timeoutMs?: number;
}

export interface ColdStart {
  /** Envoy process start to the first 200 on the listener. */
  startMs: number;
  /** LDS file replaced to the first 200 carrying the new listener's config version. */
  pushMs: number;
}

const VERSION_HEADER = "x-footprint-version";

/** Answers every request with the config version header it received. */
function versionEcho(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end(String(req.headers[VERSION_HEADER] ?? "")));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** One GET on a new connection: the body, or null when nothing answered 200. */
function probe(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/v1/models", agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 ? body : null));
    });
    req.on("error", () => resolve(null));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
}

/** Probes until the listener answers 200 with `version`; returns when it did. */
async function waitServed(port: number, version: string, deadline: number): Promise<number> {
  for (;;) {
    if ((await probe(port)) === version) return performance.now();
    if (performance.now() > deadline) throw new Error(`no request served with config ${version} in time`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

type Listener = Record<string, unknown> & { address: { socket_address: { port_value: number } } };

function listenerFor(o: ColdStartOptions, upstream: string, port: number, version: string): Listener {
  const bootstrap = standaloneBootstrap({
    pluginConfig: o.pluginConfig ?? { headers: { request: { set: { "x-footprint-plugin": version } } } },
    wasmPath: o.wasmPath,
    upstreams: [upstream],
  }) as { static_resources: { listeners: Listener[] } };
  const listener = bootstrap.static_resources.listeners[0]!;
  listener.address.socket_address.port_value = port;
  const hcm = (listener["filter_chains"] as Array<{ filters: Array<{ typed_config: Record<string, unknown> }> }>)[0]!.filters[0]!.typed_config;
  if (!o.plugin) hcm["http_filters"] = (hcm["http_filters"] as Array<{ name: string }>).filter((f) => f.name !== "envoy.filters.http.wasm");
  // The version rides on a route header, so both variants show which listener served.
  const routeConfig = hcm["route_config"] as { virtual_hosts: Array<Record<string, unknown>> };
  routeConfig.virtual_hosts[0]!["request_headers_to_add"] = [{ header: { key: VERSION_HEADER, value: version }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }];
  return listener;
}

/** Measures one Envoy start and one config push. */
export async function measureColdStart(o: ColdStartOptions): Promise<ColdStart> {
  const timeout = o.timeoutMs ?? 30_000;
  const dir = mkdtempSync(join(tmpdir(), "wayroute-cold-start-"));
  const upstream = await versionEcho();
  let envoy: EnvoyProcess | undefined;
  let starting: Promise<EnvoyProcess> | undefined;
  try {
    const upstreamAddress = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const port = await freePort();
    const ldsPath = join(dir, "lds.yaml");
    const writeListener = (listener: Listener) => {
      const tmp = join(dir, ".lds.yaml.tmp");
      const resource = { "@type": "type.googleapis.com/envoy.config.listener.v3.Listener", ...listener };
      writeFileSync(tmp, new Document({ resources: [resource] }).toString());
      renameSync(tmp, ldsPath); // Envoy watches the directory for a move onto the file
    };
    const first = standaloneBootstrap({ pluginConfig: {}, wasmPath: o.wasmPath, upstreams: [upstreamAddress] }) as Record<string, unknown> & { static_resources: { listeners?: unknown } };
    delete first.static_resources.listeners;
    first["node"] = { id: "wayroute-cold-start", cluster: "wayroute-cold-start" };
    first["dynamic_resources"] = { lds_config: { resource_api_version: "V3", path_config_source: { path: ldsPath, watched_directory: { path: dir } } } };
    writeListener(listenerFor(o, upstreamAddress, port, "1"));

    const started = performance.now();
    starting = EnvoyProcess.start({ bootstrap: first, concurrency: o.workers ?? 2, binary: o.binary, workDir: dir, readyTimeoutMs: timeout });
    starting.catch(() => undefined);
    const served = await Promise.race([waitServed(port, "1", started + timeout), starting.then(() => new Promise<never>(() => undefined))]);
    envoy = await starting;
    const startMs = served - started;

    const pushed = performance.now();
    writeListener(listenerFor(o, upstreamAddress, port, "2"));
    const servedNew = await waitServed(port, "2", pushed + timeout);
    return { startMs, pushMs: servedNew - pushed };
  } finally {
    if (!envoy && starting) envoy = await starting.catch(() => undefined);
    await envoy?.stop();
    await new Promise((resolve) => upstream.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Milliseconds V8 takes to compile the module eagerly with one tier (`turbofan`: the optimising
 * compiler; `liftoff`: the baseline one), the median of `runs` fresh Node processes (V8 caches a
 * compiled module by its bytes, so only a process's first compile counts).
 */
export function compileMs(wasmPath: string, tier: "turbofan" | "liftoff", runs = 3): number {
  const flags = tier === "turbofan" ? ["--no-liftoff"] : ["--liftoff", "--no-wasm-tier-up"];
  const script =
    "const b=require('fs').readFileSync(process.argv[1]);const s=performance.now();" +
    "new WebAssembly.Module(b);process.stdout.write(String(performance.now()-s))";
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    times.push(Number(execFileSync(process.execPath, ["--no-wasm-lazy-compilation", ...flags, "-e", script, wasmPath], { encoding: "utf8" })));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}
