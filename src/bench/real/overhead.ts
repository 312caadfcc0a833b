/**
 * Routing overhead on its own: a near-zero-latency stub behind each policy's stack, requests at a
 * fixed rate (open loop), and the latency each routing layer adds over plain Envoy round-robin at
 * p50 and p99, plus the CPU time Envoy and the EPP spend per 1,000 requests (from /proc). Run for
 * a minimal body, a 4 KB chat body and a 220 KB chat body, at several endpoint counts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chatCall, fillerText, quantile, Rng } from "../../load/index.js";
import { cpuMs } from "./cpu.js";
import type { RealPolicy } from "./policies.js";
import { PeerProcess, PeerStartError } from "./process.js";
import { PolicyUnavailable, type StackContext, startStack } from "./stack.js";
import { listenStub } from "./stub.js";
import type { OverheadRow } from "./types.js";

/** A request body size: the user message gets `bytes` characters of filler. */
export interface BodySize {
  name: string;
  bytes: number;
}

export const OVERHEAD_BODIES: BodySize[] = [
  { name: "headers only", bytes: 0 },
  { name: "4 KB", bytes: 4 * 1024 },
  { name: "220 KB", bytes: 220 * 1024 },
];

export interface OverheadOptions {
  ctx: StackContext;
  /** The first policy is the baseline the others are compared with (plain Envoy). */
  policies: RealPolicy[];
  bodies: BodySize[];
  endpointCounts: number[];
  /** Requests per second (fixed, open loop) and how many are measured after `warmup`. */
  rate: number;
  requests: number;
  warmup: number;
  model: string;
  onProgress?(label: string): void;
  /** One line per finished case (the progress bar shows only the current one). */
  log?(line: string): void;
  onSkip?(policy: RealPolicy, reason: string): void;
}

/** The running stub: its addresses, and how to stop it. */
interface Stub {
  addresses: string[];
  stop(): Promise<void>;
}

/**
 * Starts the stub with `count` endpoints in its own process (stub-server.ts beside this file);
 * in a bundled build, where that file is not beside it, in this process instead.
 */
async function startStub(count: number, log?: (line: string) => void): Promise<Stub> {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith(".ts");
  const script = join(dirname(self), `stub-server.${ts ? "ts" : "js"}`);
  if (!/overhead\.(ts|js)$/.test(self) || !existsSync(script)) {
    log?.(`overhead: the stub runs in the benchmark's own process (${script} not found)`);
    const inProcess = await listenStub(count);
    return { addresses: inProcess.addresses, stop: inProcess.close };
  }
  const dir = mkdtempSync(join(tmpdir(), "wayroute-stub-"));
  const file = join(dir, "addresses.json");
  const proc = new PeerProcess({ name: `zero-latency stub (${count} endpoints)`, command: process.execPath, args: [...(ts ? ["--import", "tsx"] : []), script, String(count), file] });
  proc.start();
  try {
    await proc.waitReady(async () => existsSync(file), 60_000);
    return { addresses: JSON.parse(readFileSync(file, "utf8")) as string[], stop: () => proc.stop() };
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bodyFor(size: BodySize, rng: Rng, model: string): Record<string, unknown> {
  const text = size.bytes === 0 ? "hi" : fillerText(rng, Math.ceil(size.bytes / 4)).slice(0, size.bytes);
  return { model, max_tokens: 1, messages: [{ role: "user", content: `${rng.int(1e9)} ${text}` }] };
}

/**
 * `p`, or `fallback` after `ms`: a request whose connection stalls in a way that emits no event
 * (seen once under heavy machine load) must not stall the whole measurement.
 */
function settleWithin<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]).finally(() => clearTimeout(timer));
}

/** Sends `n` requests at `rate` per second; resolves with each one's latency (NaN when it failed). */
async function fixedRate(target: string, n: number, rate: number, size: BodySize, model: string, seed: number): Promise<number[]> {
  const rng = new Rng(seed);
  const bodies = Array.from({ length: n }, () => bodyFor(size, rng, model));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const t0 = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const call = chatCall({ target, path: "/v1/chat/completions", body: bodies[i]!, headers: {}, timeoutMs: 30_000, agent })
      .then((r) => (r.status === 200 && !r.error ? r.e2eMs : NaN));
    pending.push(settleWithin(call, 35_000, NaN));
  }
  const out = await Promise.all(pending);
  agent.destroy();
  return out;
}

export async function runOverhead(o: OverheadOptions): Promise<{ rows: OverheadRow[]; skipped: { policy: string; workload: string; reason: string }[] }> {
  const rows: OverheadRow[] = [];
  const skipped: { policy: string; workload: string; reason: string }[] = [];
  const dead = new Map<string, string>();
  for (const count of o.endpointCounts) {
    const stub = await startStub(count, o.log);
    try {
      for (const body of o.bodies) {
        let baseline: { p50: number; p99: number } | undefined;
        for (const [pi, p] of o.policies.entries()) {
          const label = `overhead: ${body.name}, ${count} endpoints, ${p.name}`;
          if (dead.has(p.name)) {
            skipped.push({ policy: p.name, workload: label, reason: dead.get(p.name)! });
            continue;
          }
          o.onProgress?.(label);
          let stack;
          try {
            stack = await startStack(p, stub.addresses, o.model, o.ctx);
          } catch (err) {
            if (err instanceof PolicyUnavailable || err instanceof PeerStartError || (err as { code?: string }).code?.startsWith("E_ENVOY")) {
              if (!dead.has(p.name)) o.onSkip?.(p, (err as Error).message);
              dead.set(p.name, (err as Error).message);
              skipped.push({ policy: p.name, workload: label, reason: (err as Error).message });
              continue;
            }
            throw err;
          }
          try {
            await fixedRate(stack.target, o.warmup, o.rate, body, o.model, 7);
            const envoyBefore = cpuMs(stack.envoyPid) ?? NaN;
            const eppBefore = stack.eppPid ? cpuMs(stack.eppPid) ?? NaN : undefined;
            const lat = await fixedRate(stack.target, o.requests, o.rate, body, o.model, 11);
            const envoyAfter = cpuMs(stack.envoyPid) ?? NaN;
            const eppAfter = stack.eppPid ? cpuMs(stack.eppPid) ?? NaN : undefined;
            const ok = lat.filter((x) => Number.isFinite(x));
            const p50 = quantile(ok, 0.5);
            const p99 = quantile(ok, 0.99);
            if (pi === 0) baseline = { p50, p99 };
            o.log?.(`${label}: ${ok.length}/${lat.length} ok, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
            rows.push({
              body: body.name, endpoints: count, policy: p.name, rate: o.rate, requests: lat.length, ok: ok.length, errors: lat.length - ok.length,
              p50Ms: p50, p99Ms: p99,
              addedP50Ms: pi === 0 || !baseline ? NaN : p50 - baseline.p50,
              addedP99Ms: pi === 0 || !baseline ? NaN : p99 - baseline.p99,
              envoyCpuMsPer1k: ((envoyAfter - envoyBefore) / lat.length) * 1000,
              ...(eppBefore !== undefined && eppAfter !== undefined ? { eppCpuMsPer1k: ((eppAfter - eppBefore) / lat.length) * 1000 } : {}),
            });
          } finally {
            await stack.stop();
          }
        }
      }
    } finally {
      await stub.stop();
    }
  }
  return { rows, skipped };
}
