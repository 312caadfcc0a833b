/**
 * The near-zero-latency model server of the routing-overhead measurement: `count` HTTP servers on
 * free ports of 127.0.0.1. Each answers POST /v1/* with a one-token SSE stream as soon as the
 * request body has arrived, and GET /metrics with an idle vLLM metrics page (so the EPP's and the
 * plugin's scrapes succeed). stub-server.ts runs it as its own process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

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

/** Listens on `count` loopback ports; resolves with their addresses and a close function. */
export async function listenStub(count: number): Promise<{ addresses: string[]; close(): Promise<void> }> {
  const servers: Server[] = [];
  const addresses: string[] = [];
  const close = () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => undefined);
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer({ keepAliveTimeout: 60_000 }, handle);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      servers.push(server);
      const a = server.address();
      if (a && typeof a === "object") addresses.push(`127.0.0.1:${a.port}`);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { addresses, close };
}
