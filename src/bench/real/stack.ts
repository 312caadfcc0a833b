/**
 * Starts one policy's stack over running simulators: Envoy with the policy's bootstrap, plus the
 * EPP for the EPP policy. Stops everything it started, also when a start fails half way.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EnvoyBinary, EnvoyProcess } from "../../envoy/index.js";
import { buildEnvoyConfig } from "../../manifest/envoy.js";
import { configEnvoyPools } from "../../manifest/generate.js";
import { METRICS_CLUSTER } from "../filters.js";
import { eppBootstrap, plainBootstrap } from "./bootstrap.js";
import { type EppCounters, scrapeEpp, startEpp } from "./epp.js";
import type { PeerBinary } from "./peers.js";
import { freePorts } from "./ports.js";
import type { PeerProcess } from "./process.js";
import type { RealPolicy } from "./policies.js";

export interface StackContext {
  repoRoot: string;
  envoy: EnvoyBinary;
  epp: PeerBinary;
  /** Envoy worker threads (one Wasm VM each). */
  workers: number;
}

/** What the routing layer itself counted (server side, for "did it really steer"). */
export interface SteeringCounters {
  /** Requests Envoy sent upstream to the model servers (cluster upstream_rq_total). */
  upstreamRequests?: number;
  /** The EPP's own metrics. */
  epp?: EppCounters;
  /** The wayroute plugin's pick and shed counters (all pools). */
  pluginPicks?: number;
  /** The plugin's picks per endpoint port (its per-endpoint counters). */
  pluginPickedByPort?: Record<string, number>;
  pluginSheds?: number;
  /** Requests the plugin let through unsteered (FailOpen: Envoy's own balancer picked). */
  pluginFailOpen?: number;
}

export interface RunningStack {
  policy: RealPolicy;
  /** `127.0.0.1:port` clients send to. */
  target: string;
  envoyPid: number;
  eppPid?: number;
  counters(): Promise<SteeringCounters>;
  /** Last log lines of Envoy and the EPP, for a failed run. */
  logTail(n?: number): string;
  stop(): Promise<void>;
}

/** A policy that cannot run here (a peer binary is missing, the wasm is not built). */
export class PolicyUnavailable extends Error {
  readonly code = "E_POLICY_UNAVAILABLE";
}

/** Limits far above the load, so the benchmark measures routing and not Envoy's 1024 default. */
const CIRCUIT_BREAKERS = { thresholds: [{ max_connections: 100000, max_pending_requests: 100000, max_requests: 100000, max_retries: 100 }] };

/** Binds every listener to loopback and lifts circuit-breaker limits on every cluster. */
function loopbackAndLimits(bootstrap: Record<string, unknown>): Record<string, unknown> {
  const sr = bootstrap.static_resources as { listeners?: { address?: { socket_address?: { address?: string } } }[]; clusters?: Record<string, unknown>[] };
  for (const l of sr.listeners ?? []) if (l.address?.socket_address) l.address.socket_address.address = "127.0.0.1";
  for (const c of sr.clusters ?? []) c.circuit_breakers ??= CIRCUIT_BREAKERS;
  return bootstrap;
}

/** The wayroute bootstrap: the plugin in endpoint mode, override_host cluster over the simulators. */
export function wayrouteBootstrap(policy: Extract<RealPolicy, { kind: "wayroute" }>, endpoints: string[], model: string, repoRoot: string): Record<string, unknown> {
  const wasmPath = join(repoRoot, policy.policy.wasm ?? "build/plugin.wasm");
  if (!existsSync(wasmPath)) throw new PolicyUnavailable(`${policy.policy.wasm ?? "build/plugin.wasm"} is missing: run npm run build:wasm`);
  const pluginConfig = policy.policy.config!({ endpoints, metricsCluster: METRICS_CLUSTER, model }, repoRoot) as Record<string, unknown>;
  return loopbackAndLimits(buildEnvoyConfig({
    pluginName: "wayroute", wasmPath, pluginConfig, pools: configEnvoyPools(pluginConfig),
    listenPort: 0, adminPort: 0,
    // Requests the plugin lets through unsteered (FailOpen) take Envoy's round-robin.
    fallback: "round_robin", failStrategy: "FAIL_OPEN",
  }));
}

async function envoyCounters(envoy: EnvoyProcess, kind: RealPolicy["kind"]): Promise<SteeringCounters> {
  const r = await envoy.admin("/stats?format=json");
  const stats = (JSON.parse(r.body) as { stats?: { name?: string; value?: number }[] }).stats ?? [];
  const out: SteeringCounters = {};
  let upstream = 0;
  let picks: number | undefined;
  let sheds: number | undefined;
  let failOpen: number | undefined;
  const byPort: Record<string, number> = {};
  for (const s of stats) {
    if (!s.name || typeof s.value !== "number") continue;
    // Model-server clusters only (not the EPP's gRPC cluster).
    const m = /^cluster\.([^.]+)\.upstream_rq_total$/.exec(s.name);
    if (m && m[1] !== "epp") upstream += s.value;
    // The pool's total is wayroute_picker_<pool>_picks_total; each endpoint also has
    // wayroute_picker_<pool>_endpoint_<ip_port>_picks_total.
    const ep = /wayroute_picker_.*_endpoint_.*_(\d+)_picks_total$/.exec(s.name);
    if (ep) byPort[ep[1]!] = (byPort[ep[1]!] ?? 0) + s.value;
    else if (/wayroute_picker_.*_picks_total$/.test(s.name)) picks = (picks ?? 0) + s.value;
    if (/wayroute_picker_.*_shed_total$/.test(s.name)) sheds = (sheds ?? 0) + s.value;
    if (/wayroute_picker_.*_fail_open_total$/.test(s.name)) failOpen = (failOpen ?? 0) + s.value;
  }
  out.upstreamRequests = upstream;
  if (kind === "wayroute") {
    if (picks !== undefined) out.pluginPicks = picks;
    out.pluginPickedByPort = byPort;
    if (sheds !== undefined) out.pluginSheds = sheds;
    if (failOpen !== undefined) out.pluginFailOpen = failOpen;
  }
  return out;
}

/** Starts Envoy (and the EPP) for `policy` in front of `endpoints`. */
export async function startStack(policy: RealPolicy, endpoints: string[], model: string, ctx: StackContext): Promise<RunningStack> {
  let epp: PeerProcess | undefined;
  let eppMetrics: string | undefined;
  let envoy: EnvoyProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "wayroute-real-"));
  const stop = async () => {
    await envoy?.stop();
    await epp?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let bootstrap: Record<string, unknown>;
    switch (policy.kind) {
      case "envoy":
        bootstrap = plainBootstrap("127.0.0.1:0", endpoints, policy.lb);
        break;
      case "epp": {
        if (!ctx.epp.ok) throw new PolicyUnavailable(ctx.epp.reason);
        const [grpc, health, metrics] = await freePorts(3);
        epp = await startEpp(ctx.epp.path, dir, endpoints, { grpc: grpc!, health: health!, metrics: metrics! }, { flowControl: policy.flowControl === true });
        eppMetrics = `127.0.0.1:${metrics}`;
        bootstrap = eppBootstrap("127.0.0.1:0", `127.0.0.1:${grpc}`);
        break;
      }
      case "wayroute":
        bootstrap = wayrouteBootstrap(policy, endpoints, model, ctx.repoRoot);
        break;
    }
    envoy = await EnvoyProcess.start({ bootstrap, binary: ctx.envoy, concurrency: ctx.workers, workDir: dir, logLevel: "warning", componentLogLevel: "wasm:warning" });
  } catch (err) {
    const tail = envoy ? envoy.lastLogLines(15) : "";
    await stop();
    if (tail && err instanceof Error) err.message += `\nEnvoy's last log lines:\n${tail}`;
    throw err;
  }
  const running = envoy;
  return {
    policy,
    target: running.listenerAddress(),
    envoyPid: running.pid,
    ...(epp?.pid ? { eppPid: epp.pid } : {}),
    async counters() {
      const c = await envoyCounters(running, policy.kind);
      if (eppMetrics) {
        const e = await scrapeEpp(eppMetrics);
        if (e) c.epp = e;
      }
      return c;
    },
    logTail(n = 15) {
      return [`Envoy:\n${running.lastLogLines(n)}`, ...(epp ? [`EPP:\n${epp.tail(n).join("\n")}`] : [])].join("\n");
    },
    stop,
  };
}
