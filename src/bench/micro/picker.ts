/**
 * Per-request cost of the endpoint picker: `build/plugin.wasm` with a `pools` section (GIE's
 * default profile: queue 2, kv-cache 2, prefix-cache 3, max-score; metrics scraped through one
 * cluster) over pools of 8, 64 and 1024 endpoints, for headers-only requests and for chat bodies
 * of 4 KB and 220 KB (prompt hashed, prefix index matched and learned, decision journaled for
 * the other workers), each against `build/passthrough.wasm` on the same request. Also reports
 * the linear memory of one VM with 1024 endpoints and a full prefix index.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ProxyWasmHost } from "../../host/index.js";
import { BenchError, compare, measurePair, type MicroResult, type MicroSuite } from "../suite.js";

function addresses(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`10.${(i >> 8) & 255}.${i & 255}.1:8000`);
  return out;
}

function metricsFor(i: number): string {
  return `vllm:num_requests_waiting ${i % 7}\nvllm:num_requests_running ${i % 5}\nvllm:kv_cache_usage_perc ${((i * 37) % 100) / 100}\n`;
}

function chatBody(bytes: number, seed: string): string {
  const messages: Array<{ role: string; content: string }> = [{ role: "system", content: `You are assistant ${seed}.` }];
  let size = 120;
  for (let i = 0; size < bytes; i++) {
    const content = `Turn ${i} ${seed}: ` + "Summarise the quarterly report and list three risks. ".repeat(3);
    messages.push({ role: i % 2 === 0 ? "user" : "assistant", content });
    size += content.length + 32;
  }
  return JSON.stringify({ model: "bench-model", messages });
}

function config(n: number): Record<string, unknown> {
  const addrs = addresses(n);
  return {
    pools: [{ name: "bench", endpoints: addrs.map((address) => ({ address })), scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 }, steering: { maxEndpoints: 2 } }],
  };
}

async function pickerHost(plugin: string, n: number): Promise<ProxyWasmHost> {
  const addrs = addresses(n);
  const index = new Map(addrs.map((a, i) => [a, i]));
  const h = await ProxyWasmHost.create({
    module: plugin,
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: config(n),
    clusters: { pool: (req) => ({ status: 200, body: metricsFor(index.get(req.headers.get("x-gateway-destination-endpoint") ?? "") ?? 0) }) },
    upstream: { status: 200, body: "{}" },
  });
  if (!h.configured) throw new BenchError(`plugin.wasm refused the picker benchmark configuration (${n} endpoints)`);
  await h.advance(60);
  await h.settle();
  return h;
}

async function plainHost(module: string): Promise<ProxyWasmHost> {
  const h = await ProxyWasmHost.create({ module, rootId: "wayroute", logLevel: "error", upstream: { status: 200, body: "{}" } });
  if (!h.configured) throw new BenchError(`${module} did not start`);
  return h;
}

function memoryBytes(h: ProxyWasmHost): number {
  const exports = (h.worker(0).vm as unknown as { exports: Record<string, unknown> }).exports;
  const mem = exports["memory"];
  return mem instanceof WebAssembly.Memory ? mem.buffer.byteLength : 0;
}

const SIZES: Array<[string, number]> = [["headers only", 0], ["4 KB chat", 4096], ["220 KB chat", 220 * 1024]];

export const pickerSuite: MicroSuite = {
  name: "picker",
  description: "endpoint picker (GIE default profile) per request vs passthrough.wasm, 8/64/1024 endpoints; VM memory with a full prefix index",
  async run(ctx): Promise<MicroResult[]> {
    const pass = join(ctx.repoRoot, "build/passthrough.wasm");
    const plugin = join(ctx.repoRoot, "build/plugin.wasm");
    for (const f of [pass, plugin]) if (!existsSync(f)) throw new BenchError(`${f} is missing: run 'npm run build:wasm'`);
    const base = await plainHost(pass);
    const rows: MicroResult[] = [];
    const rounds = ctx.quick ? 1 : 3;
    for (const n of [8, 64, 1024]) {
      const h = await pickerHost(plugin, n);
      for (const [label, size] of SIZES) {
        const body = size > 0 ? chatBody(size, "bench") : undefined;
        const headers = { ":method": size > 0 ? "POST" : "GET", ":path": "/v1/chat/completions", ":authority": "llm.example", "content-type": "application/json" };
        const send = (x: ProxyWasmHost) => () => x.request({ headers, body });
        const probe = await send(h)();
        if (!probe.request?.headers.get("x-gateway-destination-endpoint")) throw new BenchError(`no endpoint was picked for ${n} endpoints, ${label}`);
        ctx.log(`picker, ${n} endpoints, ${label}`);
        const [p, b] = await measurePair(send(h), send(base), ctx.durationMs, rounds, size > 100_000 ? 2 : 16);
        rows.push(compare(`picker: ${n} endpoints, ${label}`, "passthrough.wasm", p, b, size > 0 ? `${body!.length} bytes` : "GET"));
      }
      h.close();
    }
    // Memory: 1024 endpoints, prefix index filled (distinct 16 KB prompts, 256 blocks each).
    ctx.log("picker memory, 1024 endpoints, full prefix index");
    const m = await pickerHost(plugin, 1024);
    const before = memoryBytes(m);
    const fill = ctx.quick ? 80 : 600;
    for (let i = 0; i < fill; i++) {
      await m.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "llm.example", "content-type": "application/json" }, body: chatBody(16 * 1024, `prompt-${i}`) });
    }
    const after = memoryBytes(m);
    m.close();
    base.close();
    rows.push({
      case: "picker memory: 1024 endpoints, prefix index filled",
      baseline: "",
      opsPerSec: 0,
      notes: `linear memory ${(before / 1048576).toFixed(1)} MiB after configure, ${(after / 1048576).toFixed(1)} MiB after ${fill} distinct 16 KB prompts (index capacity 98304 blocks, the default)`,
    });
    return rows;
  },
};

/** Standalone entry (when the suite runner is not used). */
export async function benchPicker(repoRoot: string, quick = true): Promise<MicroResult[]> {
  return pickerSuite.run({ repoRoot, durationMs: quick ? 300 : 2000, quick, log: () => undefined });
}
