/**
 * Which VMs and root contexts exist, and which of them tick and scrape: the harness with
 * `mainThread: true` against real Envoy 1.40 with two workers. Envoy (proxy-wasm-cpp-host
 * `createWasm`, `canary`, `getOrCreateThreadLocalPlugin`; the thread-local slot also runs on the main
 * thread) makes a base VM, a configuration canary that is configured and dropped, the main thread's
 * own VM, then one VM per worker. The plugin numbers its VMs in creation order (a shared counter).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvoyProcess, pointConfigAt, standaloneBootstrap } from "../../src/envoy/index.js";
import { MAIN_THREAD, ProxyWasmHost } from "../../src/host/index.js";
import { describeEnvoy } from "./helpers.js";
import { PLUGIN, eventually } from "./stack.js";
import { RecordingUpstream } from "./upstream.js";

const WORKERS = 2;

const pluginConfig = (addresses: string[]) =>
  pointConfigAt(
    {
      logLevel: "debug",
      pools: [
        {
          name: "pool",
          match: { pathPrefix: "/v1/" },
          endpoints: [],
          steering: { mode: "endpoint", maxEndpoints: 2 },
          scrape: { engine: "vllm", path: "/metrics", intervalMs: 100, cluster: "pool" },
          profile: { filters: [{ type: "health-filter" }], scorers: [{ type: "queue-scorer", weight: 1 }], picker: { type: "max-score-picker" } },
        },
      ],
    },
    addresses,
  );

/** What is compared: per thread, how many times the plugin was configured, and who took the scrape lease. */
interface Shape {
  created: number;
  active: number;
  /** "main" or "worker", one entry per `plugin configured` line, in order. */
  configured: string[];
  /** The VM token the plugin logged at configure, per thread kind. */
  tokens: Record<string, number[]>;
  /** Thread kind and VM token of the scrape lease holder. */
  lease: { thread: string; token: number };
}

const TOKEN = /worker token (\d+)/;
const LEASE = /worker (\d+) takes the scrape lease/;

function harnessShape(host: ProxyWasmHost): Shape {
  const kind = (w: number) => (w === MAIN_THREAD ? "main" : "worker");
  const entries = host.logs.entries.filter((e) => e.source === "plugin");
  const tokens: Record<string, number[]> = { main: [], worker: [] };
  for (const e of entries) {
    const m = TOKEN.exec(e.message);
    if (m) tokens[kind(e.worker)]!.push(Number(m[1]));
  }
  const lease = entries.find((e) => LEASE.test(e.message))!;
  return {
    created: host.vmsCreated,
    active: host.vmsActive,
    configured: entries.filter((e) => e.message.includes("plugin configured")).map((e) => kind(e.worker)),
    tokens,
    lease: { thread: kind(lease.worker), token: Number(LEASE.exec(lease.message)![1]) },
  };
}

/** The same from Envoy's log (`[thread id]` column; the main thread logs `starting main dispatch loop`) and `/stats`. */
async function envoyShape(envoy: EnvoyProcess): Promise<Shape> {
  const lines = envoy.logs();
  const thread = (l: string) => /^\[[^\]]+\]\[(\d+)\]/.exec(l)?.[1];
  const mainThread = thread(lines.find((l) => l.includes("starting main dispatch loop"))!);
  const kind = (l: string) => (thread(l) === mainThread ? "main" : "worker");
  const plugin = lines.filter((l) => l.includes("wasm log"));
  const tokens: Record<string, number[]> = { main: [], worker: [] };
  for (const l of plugin) {
    const m = TOKEN.exec(l);
    if (m) tokens[kind(l)]!.push(Number(m[1]));
  }
  const lease = plugin.find((l) => LEASE.test(l))!;
  const stats = (await envoy.admin("/stats")).body;
  const stat = (name: string) => Number(new RegExp(`^${name.replace(/\./g, "\\.")}: (\\d+)$`, "m").exec(stats)?.[1]);
  return {
    created: stat("wasm.envoy.wasm.runtime.v8.created"),
    active: stat("wasm.envoy.wasm.runtime.v8.active"),
    configured: plugin.filter((l) => l.includes("plugin configured")).map(kind),
    tokens,
    lease: { thread: kind(lease), token: Number(LEASE.exec(lease)![1]) },
  };
}

describe("harness VM shape with mainThread: true", () => {
  let host: ProxyWasmHost;
  beforeAll(async () => {
    host = await ProxyWasmHost.create({
      module: PLUGIN,
      workers: WORKERS,
      mainThread: true,
      logLevel: "debug",
      pluginConfig: pluginConfig(["127.0.0.1:18001", "127.0.0.1:18002"]),
      clusters: { pool: { status: 200, body: "vllm:num_requests_waiting 0\nvllm:num_requests_running 0\nvllm:kv_cache_usage_perc 0\n" } },
    });
    await host.advance(350);
  });
  afterAll(() => host?.close());

  it("base VM (start functions only), canary (configured, dropped), main-thread VM, one VM per worker", () => {
    const m = host.mainThread!;
    expect(m.baseVm.rootContextId).toBe(0);
    expect(m.baseVm.configured).toBe(false);
    expect(m.canaryConfigured).toBe(true);
    expect(m.canary.discarded).toBe(true);
    expect(m.vm!.configured).toBe(true);
    expect(host.configured).toBe(true);
    expect(host.vmsCreated).toBe(WORKERS + 3);
    expect(host.vmsActive).toBe(WORKERS + 2);
  });

  it("only the main-thread VM's root scrapes (it takes the lease first); the dropped canary never ticks", () => {
    const scrapers = new Set(host.httpCalls.map((c) => c.request.worker));
    expect(host.httpCalls.length).toBeGreaterThan(0);
    expect([...scrapers]).toEqual([MAIN_THREAD]);
    expect(harnessShape(host).lease).toEqual({ thread: "main", token: 2 });
  });
});

describeEnvoy("VM shape: harness against Envoy 1.40 (two workers)", (binary) => {
  const upstreams: RecordingUpstream[] = [];
  let envoy: EnvoyProcess | undefined;
  let host: ProxyWasmHost | undefined;
  afterAll(async () => {
    host?.close();
    await envoy?.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  });

  it("same VM counts, same configure calls per thread; the lease goes to one live VM, never the canary", async () => {
    for (let i = 0; i < 2; i++) upstreams.push(await RecordingUpstream.start(`up-${i}`));
    const addresses = upstreams.map((u) => u.address);
    const config = pluginConfig(addresses);
    const bootstrap = standaloneBootstrap({ wasmPath: PLUGIN, pluginConfig: config, upstreams: addresses });
    envoy = await EnvoyProcess.start({ bootstrap, concurrency: WORKERS, binary, componentLogLevel: "wasm:debug,main:info" });
    const e = envoy;
    expect(await eventually(() => e.logs().some((l) => LEASE.test(l)))).toBe(true);
    const real = await envoyShape(e);

    host = await ProxyWasmHost.create({
      module: PLUGIN,
      workers: WORKERS,
      mainThread: true,
      logLevel: "debug",
      pluginConfig: config,
      clusters: { pool: { status: 200, body: "vllm:num_requests_waiting 0\n" } },
    });
    await host.advance(350);
    const modelled = harnessShape(host);

    // Which live VM takes the lease is a race in Envoy: every root ticks soon after configure,
    // and the main thread, still busy starting the server, often but not always fires first. So
    // Envoy is held to "one live VM, never the dropped canary"; the harness fires the main
    // thread's first tick first, the usual outcome.
    const { lease: realLease, ...realRest } = real;
    const { lease: modelledLease, ...modelledRest } = modelled;
    expect(realRest).toEqual({
      created: WORKERS + 3,
      active: WORKERS + 2,
      configured: ["main", "main", "worker", "worker"],
      tokens: { main: [1, 2], worker: [3, 4] },
    });
    expect(modelledRest).toEqual(realRest);
    expect([
      { thread: "main", token: 2 },
      { thread: "worker", token: 3 },
      { thread: "worker", token: 4 },
    ]).toContainEqual(realLease);
    expect(modelledLease).toEqual({ thread: "main", token: 2 });
  });
});
