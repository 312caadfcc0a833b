/**
 * A near-zero-latency model server for the routing-overhead measurement, run as its own process:
 * `node stub-server.js <count> <file>` listens on `count` free ports of 127.0.0.1 and writes their
 * addresses to `file` as a JSON array (renamed into place, so a reader never sees half of it). Each port answers POST /v1/* with a one-token SSE stream as soon as
 * the request body has arrived, and GET /metrics with an idle vLLM metrics page (so the EPP's and
 * the plugin's scrapes succeed). One process serves every endpoint, so 1,024 endpoints cost one
 * process, not 1,024.
 */
import { renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

const METRICS = [
  "# TYPE vllm:num_requests_running gauge", 'vllm:num_requests_running{model_name="sim-llm"} 0',
  "# TYPE vllm:num_requests_waiting gauge", 'vllm:num_requests_waiting{model_name="sim-llm"} 0',
  "# TYPE vllm:kv_cache_usage_perc gauge", 'vllm:kv_cache_usage_perc{model_name="sim-llm"} 0',
  "# TYPE vllm:cache_config_info gauge", 'vllm:cache_config_info{block_size="16",num_gpu_blocks="4096"} 1',
  "# TYPE vllm:lora_requests_info gauge", 'vllm:lora_requests_info{max_lora="2",running_lora_adapters="",waiting_lora_adapters=""} 1',
  "",
].join("\n");
const REPLY = 'data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\ndata: [DONE]\n\n';

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(req.url?.startsWith("/metrics") ? METRICS : "ok\n");
    return;
  }
  req.on("data", () => undefined);
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(REPLY);
  });
}

const count = Number(process.argv[2] ?? "8");
const out = process.argv[3];
if (!Number.isInteger(count) || count < 1 || count > 4096 || !out) {
  process.stderr.write(`usage: stub-server <count 1..4096> <addresses file>\n`);
  process.exit(2);
}
const addresses: string[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer({ keepAliveTimeout: 60_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const a = server.address();
  if (a && typeof a === "object") addresses.push(`127.0.0.1:${a.port}`);
}
writeFileSync(`${out}.tmp`, JSON.stringify(addresses));
renameSync(`${out}.tmp`, out);
