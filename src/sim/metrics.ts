/**
 * Prometheus text exposition of a simulated server's state, in vLLM's metric names.
 */
import type { SimStats } from "./engine.js";

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function num(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** Renders `/metrics` the way vLLM (v1 engine) names its series. */
export function renderVllmMetrics(model: string, maxLoras: number, s: SimStats, nowSeconds: number): string {
  const l = `model_name="${esc(model)}"`;
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${l}} ${num(value)}`);
  };
  const counter = (name: string, help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}{${l}} ${num(value)}`);
  };
  gauge("vllm:num_requests_running", "Number of requests in model execution batches.", s.running);
  gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", s.waiting);
  gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", s.kvUsage);
  counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", s.prefixQueriedTokens);
  counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", s.prefixHitTokens);
  counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", s.promptTokens);
  counter("vllm:generation_tokens_total", "Number of generation tokens processed.", s.generationTokens);
  lines.push(
    "# HELP vllm:request_success_total Count of successfully processed requests.",
    "# TYPE vllm:request_success_total counter",
    `vllm:request_success_total{finished_reason="length",${l}} ${num(s.requestsFinished)}`,
  );
  lines.push(
    "# HELP vllm:lora_requests_info Running stats on lora requests.",
    "# TYPE vllm:lora_requests_info gauge",
    `vllm:lora_requests_info{max_lora="${maxLoras}",running_lora_adapters="${esc(s.runningAdapters.join(","))}",waiting_lora_adapters="${esc(s.waitingAdapters.join(","))}"} ${nowSeconds.toExponential(9)}`,
  );
  return lines.join("\n") + "\n";
}

/**
 * An ORCA `endpoint-load-metrics` header value in the TEXT or JSON form vLLM sends
 * (`named_metrics.<name>=<value>` joined by ", ").
 */
export function renderOrca(format: "text" | "json", s: SimStats): string {
  const named = { kv_cache_usage_perc: s.kvUsage, num_requests_waiting: s.waiting, num_requests_running: s.running };
  if (format === "json") return "JSON " + JSON.stringify({ named_metrics: named });
  return "TEXT " + Object.entries(named).map(([k, v]) => `named_metrics.${k}=${v}`).join(", ");
}
