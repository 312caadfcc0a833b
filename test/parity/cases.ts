/**
 * Differential-test cases: endpoint states (queue, KV use, staleness), a prefix history
 * (earlier requests and the endpoint each went to), and one request (path, body, sheddable,
 * candidate subset hint). The same cases go to the EPP's own code (test/parity/main.go) and to
 * plugin.wasm. Generated from a seed, so a failing case is reproducible by its id.
 */

export interface CaseEndpoint {
  address: string;
  waiting: number;
  kv: number;
  stale: boolean;
  /** LoRA adapters (vllm:lora_requests_info); the case's model doubles as the adapter name. */
  loras?: { running: string[]; waiting: string[]; max: number };
}

export interface CaseRequest {
  path: string;
  body: string;
  sheddable: boolean;
  subset?: string[];
  /** History only: the endpoint this earlier request went to. */
  endpoint?: string;
}

export interface ParityCase {
  id: string;
  model: string;
  endpoints: CaseEndpoint[];
  history: CaseRequest[];
  request: CaseRequest;
  /**
   * A documented deliberate difference this case exercises (docs/picker.md parity table);
   * the test checks the case disagrees exactly there.
   */
  expect?: "health-filter" | "unknown-queue" | "unknown-path";
  /** Endpoint whose recent responses were 5xx (wayroute's passive health ejects it; the EPP has no such signal). */
  failing?: string;
  /** Endpoint whose /metrics has no queue series (the EPP keeps its last value, 0 at first; wayroute: unknown). */
  noQueue?: string;
}

/** The pool both sides schedule over (cases use a subset of it). */
export const POOL = Array.from({ length: 8 }, (_, i) => `10.1.0.${i + 1}:8000`);

/** mulberry32: small, seedable, identical everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["alpha", "beta", "gamma", "delta", "kv", "cache", "route", "token", "prefix", "waypoint", "ümlaut", "日本", "<tag>", "a&b", "tab\t", "line\n"];

function text(r: () => number, bytes: number): string {
  let s = "";
  while (Buffer.byteLength(s) < bytes) s += WORDS[Math.floor(r() * WORDS.length)] + " ";
  return s;
}

const TOOLS = [{ type: "function", function: { name: "get_weather", description: "Weather <now> & later", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
const TOOLS_REORDERED = [{ function: { description: "Weather <now> & later", name: "get_weather", parameters: { properties: { city: { type: "string" } }, type: "object" } }, type: "function" }];

/** Image URLs: a plain URL (default size) and data URLs whose header gives the size (PNG 64x32, JPEG 128x48, GIF 300x200), a PNG without its IHDR checksum and a broken one. */
const IMAGES = [
  "https://img.example/cat.png",
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAEAAAAAgCAYAAACinX6E",
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAEAAAAAgCAYAAAA=",
  "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/wAARCAAwAIADASIAAhEBAxEB",
  "data:image/gif;base64,R0lGODlhLAHIAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==",
  "data:image/png;base64,iVBORw0KGgo!",
];

type Shape = "chat" | "chat-tools" | "chat-parts" | "completions" | "completions-multi" | "messages" | "responses" | "conversations";
const SHAPES: Shape[] = ["chat", "chat", "chat-tools", "chat-parts", "completions", "completions-multi", "messages", "responses", "conversations"];

/** A conversation: shared turns (the prefix), then turns of its own. */
function body(shape: Shape, model: string, turns: string[], salt: string | undefined, tools: unknown[] = TOOLS): { path: string; body: string } {
  const extra: Record<string, unknown> = salt ? { cache_salt: salt } : {};
  switch (shape) {
    case "chat":
    case "chat-tools":
      return {
        path: "/v1/chat/completions",
        body: JSON.stringify({ model, ...(shape === "chat-tools" ? { tools } : {}), messages: turns.map((t, i) => ({ role: i % 2 ? "assistant" : "user", content: t })), ...extra }),
      };
    case "chat-parts":
      return {
        path: "/v1/chat/completions",
        body: JSON.stringify({
          model,
          messages: turns.map((t, i) => ({
            role: "user",
            content: i === 1 ? [{ type: "text", text: t }, { type: "image_url", image_url: { url: IMAGES[t.length % IMAGES.length] } }] : [{ type: "text", text: t }],
          })),
          ...extra,
        }),
      };
    case "completions":
      return { path: "/v1/completions", body: JSON.stringify({ model, prompt: turns.join(""), ...extra }) };
    case "completions-multi":
      return { path: "/v1/completions", body: JSON.stringify({ model, prompt: turns, ...extra }) };
    case "messages":
      return {
        path: "/v1/messages",
        body: JSON.stringify({ model, max_tokens: 16, system: "You are terse.", messages: turns.map((t, i) => ({ role: i % 2 ? "assistant" : "user", content: t })), ...extra }),
      };
    case "conversations":
      return { path: "/v1/conversations", body: JSON.stringify({ model, items: turns.map((t, i) => ({ type: "message", role: i % 2 ? "assistant" : "user", content: [{ type: "input_text", text: t }] })), ...extra }) };
    case "responses":
      return { path: "/v1/responses", body: JSON.stringify({ model, instructions: "Be brief & <exact>.", input: turns.map((t) => ({ role: "user", content: t })), ...extra }) };
  }
}

/** `count` generated cases from `seed`. */
export function generate(seed: number, count: number): ParityCase[] {
  const r = rng(seed);
  const out: ParityCase[] = [];
  for (let c = 0; c < count; c++) {
    const id = `g${seed}-${c}`;
    const model = `model-${id}`;
    const n = 2 + Math.floor(r() * 5);
    const picked = [...POOL].sort(() => r() - 0.5).slice(0, n).sort();
    const endpoints = picked.map((address) => ({
      address,
      waiting: r() < 0.3 ? 0 : Math.floor(r() * 9),
      kv: Math.round(r() * 100) / 100,
      stale: r() < 0.08,
    }));
    const shape = SHAPES[Math.floor(r() * SHAPES.length)];
    const salt = r() < 0.15 ? `salt-${Math.floor(r() * 2)}` : undefined;
    // A shared stem of 0..3 turns; history and request branch from it.
    const stem = Array.from({ length: Math.floor(r() * 4) }, () => text(r, 40 + Math.floor(r() * 700)));
    const history: CaseRequest[] = [];
    const h = Math.floor(r() * 4);
    for (let i = 0; i < h; i++) {
      const keep = Math.floor(r() * (stem.length + 1));
      const turns = [...stem.slice(0, keep), text(r, 20 + Math.floor(r() * 400))];
      const hsalt = r() < 0.8 ? salt : undefined;
      history.push({ ...body(shape, model, turns, hsalt), sheddable: false, endpoint: picked[Math.floor(r() * n)] });
    }
    const turns = [...stem, text(r, 10 + Math.floor(r() * 300))];
    const request: CaseRequest = { ...body(shape, model, turns, salt), sheddable: r() < 0.35 };
    if (r() < 0.15) {
      const sub = picked.filter(() => r() < 0.6);
      if (r() < 0.2) sub.push("10.9.9.9:8000");
      request.subset = sub.map((a) => (r() < 0.5 ? a : a.split(":")[0]));
    }
    // LoRA state from its own stream, so adding it left the other draws as they were.
    const lr = rng(seed * 7919 + c);
    if (lr() < 0.5) {
      for (const e of endpoints) {
        if (lr() < 0.3) continue;
        const pool = [model, "other-a", "other-b", "other-c"];
        const running = pool.filter(() => lr() < 0.35);
        const waiting = pool.filter((a) => !running.includes(a) && lr() < 0.2);
        e.loras = { running, waiting, max: Math.floor(lr() * 4) };
      }
    }
    out.push({ id, model, endpoints, history, request });
  }
  return out;
}

/**
 * Recorded traces: hand-written sequences from the picker's use (a growing chat on one
 * endpoint, a system-prompt fleet, a saturated pool with a sheddable batch job, and the
 * deliberate key-order difference in tools).
 */
export function traces(): ParityCase[] {
  const all = POOL.map((address, i) => ({ address, waiting: i % 3, kv: 0.1 * (i % 5), stale: false }));
  const sys = "You are a support agent for the waypoint product. Answer in two sentences. ".repeat(12);
  const chat = (model: string, turns: string[], tools?: unknown[]) => body(tools ? "chat-tools" : "chat", model, turns, undefined, tools);
  const out: ParityCase[] = [];
  // A growing conversation that always went to endpoint 3.
  const conv = [sys, "How do I attach the plugin?", "Use targetRefs on the Gateway. ".repeat(10), "And the image?"];
  out.push({
    id: "trace-growing-chat", model: "trace-a", endpoints: all,
    history: [1, 2, 3].map((k) => ({ ...chat("trace-a", conv.slice(0, k)), sheddable: false, endpoint: POOL[2] })),
    request: { ...chat("trace-a", conv), sheddable: false },
  });
  // Two tenants sharing a system prompt on different endpoints.
  out.push({
    id: "trace-shared-system", model: "trace-b", endpoints: all,
    history: [
      { ...chat("trace-b", [sys, "tenant one question ".repeat(20)]), sheddable: false, endpoint: POOL[0] },
      { ...chat("trace-b", [sys, "tenant two question ".repeat(20)]), sheddable: false, endpoint: POOL[5] },
    ],
    request: { ...chat("trace-b", [sys, "tenant three question ".repeat(20)]), sheddable: false },
  });
  // A saturated pool: mean saturation over the candidates >= 1 sheds the batch job.
  const busy = POOL.map((address, i) => ({ address, waiting: i < 6 ? 7 : 0, kv: i < 6 ? 0.9 : 0.1, stale: i === 7 }));
  out.push({ id: "trace-saturated-batch", model: "trace-c", endpoints: busy, history: [], request: { ...chat("trace-c", ["nightly batch summarise"]), sheddable: true } });
  out.push({ id: "trace-saturated-online", model: "trace-c", endpoints: busy, history: [], request: { ...chat("trace-c", ["online question"]), sheddable: false } });
  // The same tools with keys in another order: both re-encode them with sorted keys.
  out.push({
    id: "trace-tools-key-order", model: "trace-d", endpoints: all,
    history: [{ ...chat("trace-d", [sys, "first"], TOOLS), sheddable: false, endpoint: POOL[4] }],
    request: { ...chat("trace-d", [sys, "second"], TOOLS_REORDERED), sheddable: false },
  });
  // Deliberate difference: the endpoint holding the prefix has been failing (5xx). wayroute's
  // passive health ejects it; the EPP still scores (and here picks) it.
  out.push({
    id: "trace-health-ejected", model: "trace-e", endpoints: all,
    history: [{ ...chat("trace-e", [sys, "first"]), sheddable: false, endpoint: POOL[6] }],
    request: { ...chat("trace-e", [sys, "second"]), sheddable: false },
    failing: POOL[6],
    expect: "health-filter",
  });
  // Deliberate difference: an engine that stops exporting its queue. The EPP keeps the last value
  // (0 before any), so that endpoint looks idle; wayroute scores the unknown queue neutrally.
  const mixed = POOL.slice(0, 4).map((address, i) => ({ address, waiting: [3, 1, 4, 2][i], kv: 0.2, stale: false }));
  out.push({
    id: "trace-unknown-queue", model: "trace-f", endpoints: mixed, history: [],
    request: { ...chat("trace-f", ["q"]), sheddable: false },
    noQueue: POOL[2],
    expect: "unknown-queue",
  });
  // Deliberate difference: a path the EPP has no parser for is read as completions there (and
  // refused without a prompt); wayroute reads the body by its keys and routes it.
  out.push({
    id: "trace-unknown-path", model: "trace-g", endpoints: all, history: [],
    request: { path: "/generate-chat", body: JSON.stringify({ model: "trace-g", messages: [{ role: "user", content: "hi" }] }), sheddable: false },
    expect: "unknown-path",
  });
  return out;
}
