import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvCache, SimCluster, renderChat, blockHashes } from "../../src/sim/index.js";
import { parsePrometheusText } from "./prometheus-format.js";

let cluster: SimCluster;
let base: string;

beforeAll(async () => {
  cluster = await SimCluster.start({ servers: 1, params: { speedup: 50, orca: "on-request" } });
  base = `http://${cluster.addresses[0]}`;
});
afterAll(async () => {
  await cluster.stop();
});

const system = "You are the support assistant of an online shop. ".repeat(40);

function chat(content: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ model: "sim-llm", max_tokens: 8, messages: [{ role: "system", content: system }, { role: "user", content }], ...extra });
}

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

describe("simulated model server", () => {
  it("answers a chat completion and reuses the prefix cache for a shared system prompt", async () => {
    const a = await post("/v1/chat/completions", chat("first question"));
    expect(a.status).toBe(200);
    expect(a.headers.get("x-sim-server")).toBe("sim-0");
    const ja = (await a.json()) as { object: string; choices: { message: { role: string; content: string } }[]; usage: { completion_tokens: number; prompt_tokens_details: { cached_tokens: number } } };
    expect(ja.object).toBe("chat.completion");
    expect(ja.choices[0]!.message.role).toBe("assistant");
    expect(ja.choices[0]!.message.content.length).toBeGreaterThan(0);
    expect(ja.usage.completion_tokens).toBe(8);
    expect(ja.usage.prompt_tokens_details.cached_tokens).toBe(0);
    const b = await post("/v1/chat/completions", chat("second question"));
    const jb = (await b.json()) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } };
    // The system prompt (about 500 tokens) is now cached; the different question is not.
    expect(jb.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(400);
    expect(jb.usage.prompt_tokens_details.cached_tokens).toBeLessThan(jb.usage.prompt_tokens);
  });

  it("streams SSE chunks ending with [DONE] for stream: true", async () => {
    const r = await post("/v1/chat/completions", chat("stream please", { stream: true, stream_options: { include_usage: true } }));
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    const text = await r.text();
    const events = text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: { delta?: { content?: string }; finish_reason: string | null }[]; usage?: unknown });
    expect(chunks[0]!.object).toBe("chat.completion.chunk");
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(content.split(" ").filter(Boolean)).toHaveLength(8);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "length")).toBe(true);
    expect(chunks.at(-1)!.usage).toBeDefined();
  });

  it("serves /v1/completions with a prompt string", async () => {
    const r = await post("/v1/completions", JSON.stringify({ model: "sim-llm", prompt: "Once upon a time", max_tokens: 3 }));
    const j = (await r.json()) as { object: string; choices: { text: string }[] };
    expect(r.status).toBe(200);
    expect(j.object).toBe("text_completion");
    expect(j.choices[0]!.text.trim().split(" ")).toHaveLength(3);
  });

  it("rejects bad input with OpenAI-style errors", async () => {
    expect((await post("/v1/chat/completions", "{not json")).status).toBe(400);
    expect((await post("/v1/chat/completions", JSON.stringify({ model: "sim-llm" }))).status).toBe(400);
    expect((await post("/v1/chat/completions", JSON.stringify({ model: "sim-llm", messages: [{ role: "user", content: "x" }], max_tokens: -1 }))).status).toBe(400);
    const unknown = await post("/v1/chat/completions", JSON.stringify({ model: "nope", messages: [{ role: "user", content: "x" }] }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain("nope");
    expect((await fetch(base + "/v1/chat/completions")).status).toBe(405);
    expect((await fetch(base + "/nowhere")).status).toBe(404);
  });

  it("sends an ORCA endpoint-load-metrics header when asked, in TEXT or JSON", async () => {
    const t = await post("/v1/chat/completions", chat("orca"), { "endpoint-load-metrics-format": "text" });
    expect(t.headers.get("endpoint-load-metrics")).toMatch(/^TEXT named_metrics\.kv_cache_usage_perc=[\d.]+, named_metrics\.num_requests_waiting=\d+, named_metrics\.num_requests_running=\d+$/);
    const j = await post("/v1/chat/completions", chat("orca"), { "endpoint-load-metrics-format": "json" });
    const v = j.headers.get("endpoint-load-metrics")!;
    expect(v.startsWith("JSON ")).toBe(true);
    expect(JSON.parse(v.slice(5)).named_metrics).toHaveProperty("kv_cache_usage_perc");
    const none = await post("/v1/chat/completions", chat("orca"));
    expect(none.headers.get("endpoint-load-metrics")).toBeNull();
  });

  it("exposes vLLM-named metrics, including running LoRA adapters while a request runs", async () => {
    // A long LoRA request keeps its adapter running while /metrics is read.
    const long = post("/v1/chat/completions", JSON.stringify({ model: "sql-lora", max_tokens: 200, messages: [{ role: "user", content: "long" }] }));
    let seen: ReturnType<typeof parsePrometheusText> | undefined;
    for (let i = 0; i < 200 && !seen; i++) {
      const m = parsePrometheusText(await (await fetch(base + "/metrics")).text());
      const lora = m.find((s) => s.name === "vllm:lora_requests_info");
      if (lora?.labels.running_lora_adapters === "sql-lora") seen = m;
      else await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen).toBeDefined();
    const names = new Set(seen!.map((s) => s.name));
    for (const n of ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:lora_requests_info"]) {
      expect(names.has(n), n).toBe(true);
    }
    const get = (n: string) => seen!.find((s) => s.name === n)!;
    expect(get("vllm:num_requests_running").value).toBeGreaterThanOrEqual(1);
    expect(get("vllm:kv_cache_usage_perc").value).toBeGreaterThan(0);
    expect(get("vllm:kv_cache_usage_perc").value).toBeLessThanOrEqual(1);
    const lora = get("vllm:lora_requests_info");
    expect(lora.labels).toMatchObject({ max_lora: "2", running_lora_adapters: "sql-lora", waiting_lora_adapters: "" });
    expect((await long).status).toBe(200);
    expect(get("vllm:prefix_cache_hits_total").value).toBeLessThanOrEqual(get("vllm:prefix_cache_queries_total").value);
  });
});

describe("KV cache model", () => {
  it("shares cached prefix blocks, evicts least recently used unpinned blocks, never pinned ones", () => {
    const kv = new KvCache(4);
    expect(kv.fits([1, 2], 1)).toBe(true);
    expect(kv.acquire([1, 2], 1, 40, 16)).toBe(0);
    expect(kv.used).toBe(3);
    // While the first request is still prefilling, its blocks are not reusable yet.
    expect(kv.matched([1, 2])).toBe(0);
    kv.computed([1, 2]);
    // A second request with the same first block shares it.
    expect(kv.acquire([1], 0, 16, 16)).toBe(1);
    expect(kv.used).toBe(3);
    expect(kv.fits([3, 4], 0)).toBe(false); // only one block free
    kv.release([1, 2], 1);
    kv.release([1], 0);
    expect(kv.used).toBe(0);
    expect(kv.size).toBe(2); // still cached
    kv.acquire([5, 6, 7], 0, 48, 16); // one eviction: block 2 was released before block 1, so 2 goes
    expect(kv.size).toBe(4);
    expect(kv.matched([1])).toBe(1);
    expect(kv.matched([2])).toBe(0);
    expect(kv.hitTokens).toBe(16);
    expect(kv.queriedTokens).toBe(40 + 16 + 48);
  });

  it("renders follow-up chat turns as an extension of the previous prompt and reply", () => {
    const first = renderChat([{ role: "system", content: "s" }, { role: "user", content: "q1" }]);
    const second = renderChat([{ role: "system", content: "s" }, { role: "user", content: "q1" }, { role: "assistant", content: " a b" }, { role: "user", content: "q2" }]);
    expect(second.startsWith(first + " a b\n")).toBe(true);
    const h1 = blockHashes("x".repeat(64) + "y".repeat(64), 64, "m");
    const h2 = blockHashes("x".repeat(64) + "z".repeat(64), 64, "m");
    const h3 = blockHashes("x".repeat(64), 64, "lora");
    expect(h1[0]).toBe(h2[0]);
    expect(h1[1]).not.toBe(h2[1]);
    expect(h3[0]).not.toBe(h1[0]);
  });
});
