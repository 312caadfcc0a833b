/**
 * Linear memory of one plugin VM, measured through the harness: after configure, and after each
 * request of a body mix. Wasm memory never shrinks, so its size is the VM's high-water mark.
 */
import { ProxyWasmHost, type ProxyWasmHostOptions } from "../host/index.js";

export const PAGE_BYTES = 65_536;

/** Size of the VM's linear memory in bytes (its high-water mark). */
export function linearMemoryBytes(host: ProxyWasmHost, worker = 0): number {
  const memory = host.workers[worker]!.vm.instance!.exports["memory"];
  return memory instanceof WebAssembly.Memory ? memory.buffer.byteLength : 0;
}

/** `n` endpoint addresses, distinct, 10.x.y.1:8000. */
export function endpointAddresses(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`10.${(i >> 8) & 255}.${i & 255}.1:8000`);
  return out;
}

/**
 * A plugin config with one pool of `endpoints` endpoints under the GIE default profile (queue,
 * kv-cache, prefix-cache, max-score), metrics scraped through cluster "pool", body routing with a
 * model rewrite, and the request headers held for the body so the picker reads the prompt.
 */
export function footprintConfig(endpoints: number): Record<string, unknown> {
  return {
    holdHeadersForBody: true,
    bodyRouting: { maxBodyBytes: 2 * 1048576, modelRewrites: [{ targets: [{ modelRewrite: "footprint-model-v2" }] }] },
    pools: [
      {
        name: "footprint",
        endpoints: endpointAddresses(endpoints).map((address) => ({ address })),
        scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 },
        steering: { maxEndpoints: 2 },
        profile: {
          filters: [{ type: "health-filter" }],
          scorers: [
            { type: "queue-scorer", weight: 2 },
            { type: "kv-cache-utilization-scorer", weight: 2 },
            { type: "prefix-cache-scorer", weight: 3 },
          ],
          picker: { type: "max-score-picker" },
        },
      },
    ],
  };
}

/** A chat body of at least `bytes` bytes whose prompt is distinct per `seed`. */
export function chatBodyOf(bytes: number, seed: string): string {
  const turn = "Summarise the quarterly report and list three risks for the board. ";
  const messages: Array<{ role: string; content: string }> = [{ role: "system", content: `You are assistant ${seed}.` }];
  let size = 80;
  for (let i = 0; size < bytes; i++) {
    const content = `${seed} turn ${i}: ${turn.repeat(Math.max(1, Math.min(64, Math.floor((bytes - size) / turn.length))))}`;
    messages.push({ role: i % 2 === 0 ? "user" : "assistant", content });
    size += content.length + 32;
  }
  return JSON.stringify({ model: "footprint-model", messages });
}

/** Starts one worker with `footprintConfig(endpoints)` and a scrape answer for every endpoint. */
export async function footprintHost(module: Uint8Array | string, endpoints: number, extra: Partial<ProxyWasmHostOptions> = {}): Promise<ProxyWasmHost> {
  const host = await ProxyWasmHost.create({
    module,
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: footprintConfig(endpoints),
    clusters: { pool: () => ({ status: 200, body: "vllm:num_requests_waiting 1\nvllm:num_requests_running 2\nvllm:kv_cache_usage_perc 0.25\n" }) },
    upstream: { status: 200, body: "{}" },
    // Envoy 1.35+'s allow_on_headers_stop_iteration, which holdHeadersForBody needs.
    allowOnHeadersStopIteration: true,
    ...extra,
  });
  return host;
}

/** Sends one chat POST with `body`. */
export function sendChat(host: ProxyWasmHost, body: string) {
  return host.request({
    headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "llm.example", "content-type": "application/json", "content-length": String(body.length) },
    body,
  });
}
