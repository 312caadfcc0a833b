/**
 * Test helpers for the endpoint picker: a pool of fake vLLM servers whose /metrics the plugin
 * scrapes through one cluster (endpoint mode: the destination header names the server), and a
 * host running the real plugin.wasm on several workers.
 */
import { ProxyWasmHost, type ConfigInput, type HttpCallRequest, type HttpCallOutcome } from "../../src/host/index.js";
import { wasmBytes } from "../build/wasm-files.js";

let compiled: WebAssembly.Module | undefined;

export async function pluginModule(): Promise<WebAssembly.Module> {
  if (!compiled) compiled = await WebAssembly.compile(wasmBytes("plugin.wasm") as Uint8Array<ArrayBuffer>);
  return compiled;
}

/** Load one fake model server reports. */
export interface ServerLoad {
  waiting?: number;
  running?: number;
  kv?: number;
  loras?: { running: string[]; waiting: string[]; max: number };
  /** Answer scrapes with this status instead (500, or 0 for a reset). */
  fail?: number;
  /** Raw body instead of generated metrics. */
  raw?: string;
}

export function vllmMetrics(l: ServerLoad): string {
  let text =
    "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n" +
    "# TYPE vllm:num_requests_waiting gauge\n" +
    `vllm:num_requests_waiting{model_name="m"} ${l.waiting ?? 0}.0\n` +
    `vllm:num_requests_running{model_name="m"} ${l.running ?? 0}.0\n` +
    `vllm:kv_cache_usage_perc{model_name="m"} ${l.kv ?? 0}\n`;
  if (l.loras) {
    text += `vllm:lora_requests_info{max_lora="${l.loras.max}",running_lora_adapters="${l.loras.running.join(",")}",waiting_lora_adapters="${l.loras.waiting.join(",")}"} 1.7e+09\n`;
  }
  return text;
}

/** A fake pool: address → load, served through cluster `pool` keyed by the destination header. */
export class FakePool {
  readonly loads = new Map<string, ServerLoad>();
  scrapes: HttpCallRequest[] = [];

  constructor(addresses: string[]) {
    for (const a of addresses) this.loads.set(a, {});
  }

  set(address: string, load: ServerLoad): void {
    this.loads.set(address, load);
  }

  handler = (req: HttpCallRequest): HttpCallOutcome => {
    this.scrapes.push(req);
    const addr = req.headers.get("x-gateway-destination-endpoint") ?? req.authority;
    const l = this.loads.get(addr);
    if (!l) return { status: 404, body: "unknown endpoint" };
    if (l.fail === 0) return "reset";
    if (l.fail) return { status: l.fail, body: "error" };
    return { status: 200, headers: { "content-type": "text/plain" }, body: l.raw ?? vllmMetrics(l) };
  };
}

export const ADDRS = ["10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"];

export function poolConfig(extra: Record<string, unknown> = {}, addrs: string[] = ADDRS): Record<string, unknown> {
  return {
    pools: [
      {
        name: "llm",
        endpoints: addrs.map((address) => ({ address })),
        scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 },
        ...extra,
      },
    ],
  };
}

export async function pickerHost(pluginConfig: ConfigInput, pool: FakePool, workers = 1): Promise<ProxyWasmHost> {
  const host = await ProxyWasmHost.create({
    module: await pluginModule(),
    pluginConfig,
    workers,
    rootId: "wayroute",
    clusters: { pool: pool.handler },
  });
  return host;
}

/** Runs ticks until every worker has seen a scrape round and the shared snapshot. */
export async function scrapeRound(host: ProxyWasmHost): Promise<void> {
  await host.advance(60);
  await host.settle();
  await host.advance(60);
  await host.settle();
}

export function chat(content: string, model = "m"): string {
  return JSON.stringify({ model, messages: [{ role: "user", content }] });
}

export function steering(r: { request: { headers: { get(k: string): string | undefined } } | null }): string | undefined {
  return r.request?.headers.get("x-gateway-destination-endpoint");
}

export function metric(host: ProxyWasmHost, name: string): number {
  const m = host.metrics.get(name);
  return m ? Number(m.value) : 0;
}
