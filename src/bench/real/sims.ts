/**
 * The model servers behind Envoy in the real-stack benchmark: llm-d-inference-sim processes (the
 * simulator llm-d and GIE test with) when its binary is installed, otherwise wayroute's own
 * simulator, labelled as such in every result. Both are given the same model: a batch of 8, a
 * KV cache of `kvBlocks` blocks of 16 tokens with prefix caching, prefill time per prompt token
 * not in the cache, and a fixed time per output token (wall-clock figures).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimCluster } from "../../sim/index.js";
import { PeerProcess, httpText, stopAll } from "./process.js";
import { parseProm, sumOf, type PromSample } from "./prom.js";

/** Wall-clock behaviour shared by both simulators. */
export interface RealSimModel {
  model: string;
  adapters: string[];
  maxLoras: number;
  maxBatch: number;
  kvBlocks: number;
  blockTokens: number;
  /** Prefill time per prompt token that misses the prefix cache (wall µs). */
  prefillUsPerToken: number;
  /** Time per output token (wall µs). */
  interTokenUs: number;
  /** Context window, tokens (must hold the largest prompt). */
  maxModelLen: number;
}

/**
 * Defaults: wayroute's simulator defaults (docs/simulator.md) run 4x faster than real time:
 * 0.37 ms per uncached prompt token -> 92 µs, 25 ms per decode step -> 6.25 ms.
 */
export const REAL_SIM_DEFAULTS: RealSimModel = {
  model: "sim-llm",
  adapters: ["sql-lora", "chat-lora", "code-lora", "math-lora"],
  maxLoras: 2,
  maxBatch: 8,
  kvBlocks: 512,
  blockTokens: 16,
  prefillUsPerToken: 92,
  interTokenUs: 6250,
  maxModelLen: 131_072,
};

/** Near-zero latency, for measuring what routing adds. */
export const ZERO_LATENCY: Partial<RealSimModel> = { prefillUsPerToken: 0, interTokenUs: 0, maxBatch: 256 };

/** What a simulator's own metrics say it served. */
export interface ServerCounters {
  /** Requests completed (vllm:request_success_total, every finish reason). */
  requests: number;
  /** Prompt tokens looked up in its prefix cache, and found there. */
  prefixQueries: number;
  prefixHits: number;
}

/** Reads {@link ServerCounters} from a vLLM-style metrics page (either simulator's names). */
export function serverCounters(samples: PromSample[]): ServerCounters {
  return {
    requests: sumOf(samples, ["vllm:request_success_total", "vllm:request_success"]) ?? 0,
    prefixQueries: sumOf(samples, ["vllm:prefix_cache_queries", "vllm:prefix_cache_queries_total"]) ?? 0,
    prefixHits: sumOf(samples, ["vllm:prefix_cache_hits", "vllm:prefix_cache_hits_total"]) ?? 0,
  };
}

/** A running set of simulators. */
export interface SimPool {
  /** "llm-d-inference-sim v0.9.2" or "wayroute sim (llm-d-inference-sim not installed)". */
  label: string;
  /** `127.0.0.1:port` of every server. */
  addresses: string[];
  /** Each server's counters, by address (from its /metrics page). */
  counters(): Promise<Map<string, ServerCounters>>;
  /** Process ids of simulator processes (empty for the in-process simulator). */
  pids(): number[];
  stop(): Promise<void>;
}

async function scrapeAll(addresses: string[]): Promise<Map<string, ServerCounters>> {
  const out = new Map<string, ServerCounters>();
  await Promise.all(addresses.map(async (a) => {
    const text = await httpText(a, "/metrics", 5000);
    if (text !== undefined) out.set(a, serverCounters(parseProm(text)));
  }));
  return out;
}

/** The llm-d-inference-sim command line for one server. */
export function llmdSimArgs(port: number, m: RealSimModel, seed: number): string[] {
  return [
    "--port", String(port),
    "--model", m.model,
    // A made-up model name: the simulator's built-in tokenizer, nothing downloaded.
    "--mode", "random",
    "--seed", String(seed),
    "--max-num-seqs", String(m.maxBatch),
    "--max-loras", String(m.maxLoras),
    ...(m.adapters.length ? ["--lora-modules", ...m.adapters.map((a) => JSON.stringify({ name: a, path: `/${a}`, base_model_name: m.model }))] : []),
    "--max-model-len", String(m.maxModelLen),
    "--enable-kvcache", "--kv-cache-size", String(m.kvBlocks), "--block-size", String(m.blockTokens),
    // Prefill counts only the prompt tokens that miss the simulator's prefix cache.
    "--latency-calculator", "per-token",
    "--prefill-time-per-token", `${m.prefillUsPerToken}us`,
    "--inter-token-latency", `${m.interTokenUs}us`,
  ];
}

/** Starts `n` llm-d-inference-sim processes on the given loopback ports. */
export async function startLlmdSims(binary: string, version: string, ports: number[], model: RealSimModel, seed = 1): Promise<SimPool> {
  const dir = mkdtempSync(join(tmpdir(), "wayroute-llmd-sim-"));
  const procs = ports.map((port, i) => new PeerProcess({
    name: `llm-d-inference-sim ${i}`,
    command: binary,
    args: llmdSimArgs(port, model, seed + i),
    cwd: dir,
    // Its KV-cache model refuses to start without a pod address (it labels KV events with it).
    env: { POD_IP: "127.0.0.1" },
  }));
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  try {
    for (const p of procs) p.start();
    await Promise.all(procs.map((p, i) => p.waitReady(async () => (await httpText(addresses[i]!, "/metrics", 1000)) !== undefined, 30_000)));
  } catch (err) {
    await stopAll(procs);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    label: `llm-d-inference-sim ${version}`,
    addresses,
    counters: () => scrapeAll(addresses),
    pids: () => procs.map((p) => p.pid ?? -1).filter((p) => p > 0),
    async stop() {
      await stopAll(procs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** wayroute's own simulator, in this process, with the same wall-clock model (speedup 1). */
export async function startOwnSims(n: number, model: RealSimModel, why: string): Promise<SimPool> {
  const cluster = await SimCluster.start({
    servers: n,
    params: {
      model: model.model, adapters: model.adapters, maxLoras: model.maxLoras, maxBatch: model.maxBatch,
      kvBlocks: model.kvBlocks, blockTokens: model.blockTokens, speedup: 1,
      prefillMsPerToken: model.prefillUsPerToken / 1000, decodeBaseMs: model.interTokenUs / 1000, decodePerSeqMs: 0,
      tickMs: model.interTokenUs === 0 ? 1 : Math.min(5, model.interTokenUs / 1000),
      maxOutputTokens: 4096,
    },
  });
  return {
    label: `wayroute sim (${why})`,
    addresses: cluster.addresses,
    counters: () => scrapeAll(cluster.addresses),
    pids: () => [],
    stop: () => cluster.stop(),
  };
}
