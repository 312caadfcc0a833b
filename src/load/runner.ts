/**
 * Runs a workload against an OpenAI-compatible endpoint (the local proxy) and records every
 * request. Bounded: at most LOAD_LIMITS.maxRequests requests and maxDurationMs of wall time.
 */
import { Agent } from "node:http";
import { chatCall, type RequestRecord } from "./client.js";
import { fillerText, Rng } from "./random.js";
import { LOAD_LIMITS, plannedRequests, type RequestClass, type Workload } from "./workload.js";

export interface RunLoadOptions {
  /** `127.0.0.1:port` of the proxy. */
  target: string;
  workload: Workload;
  /** Base model name for non-LoRA requests. */
  model?: string;
  seed?: number;
  /** Called after every completed request with (done, planned). */
  onProgress?: (done: number, planned: number) => void;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  maxDurationMs?: number;
  requestTimeoutMs?: number;
}

export interface LoadRun {
  workload: string;
  startedAt: string;
  durationMs: number;
  records: RequestRecord[];
}

type Message = { role: string; content: string };

function pickClass(rng: Rng, classes: RequestClass[]): RequestClass | null {
  let x = rng.next();
  for (const c of classes) {
    if (x < c.share) return c;
    x -= c.share;
  }
  return null;
}

export async function runLoad(opts: RunLoadOptions): Promise<LoadRun> {
  const w = opts.workload;
  const model = opts.model ?? "sim-llm";
  const rng = new Rng(opts.seed ?? 42);
  const planned = Math.min(plannedRequests(w), LOAD_LIMITS.maxRequests);
  const deadline = performance.now() + Math.min(opts.maxDurationMs ?? LOAD_LIMITS.maxDurationMs, LOAD_LIMITS.maxDurationMs);
  const timeoutMs = opts.requestTimeoutMs ?? LOAD_LIMITS.requestTimeoutMs;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const records: RequestRecord[] = [];
  const t0 = performance.now();
  let nextId = 0;

  const send = async (body: Record<string, unknown>, cls: RequestClass | null, extra: Record<string, string> = {}): Promise<string | null> => {
    if (nextId >= planned || performance.now() > deadline) return null;
    const id = nextId++;
    const startMs = performance.now() - t0;
    const r = await chatCall({
      target: opts.target, path: "/v1/chat/completions", body,
      headers: { ...(opts.headers ?? {}), ...extra, ...(cls?.headers ?? {}) }, timeoutMs, agent,
    });
    const shed = r.status === 429 || (r.status === 503 && !r.upstream);
    records.push({
      id, class: cls?.name ?? "default", startMs, e2eMs: r.e2eMs, status: r.status, shed, outputChars: r.text.length,
      ...(r.ttftMs !== undefined ? { ttftMs: r.ttftMs } : {}),
      ...(r.server ? { server: r.server } : {}),
      ...(r.error && !shed ? { error: r.error } : {}),
    });
    opts.onProgress?.(records.length, planned);
    return r.status === 200 ? r.text : null;
  };
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

  const users: Promise<void>[] = [];
  switch (w.kind) {
    case "shared-prefix": {
      const systems = Array.from({ length: w.groups }, (_, g) => `Tenant ${g} instructions. ` + fillerText(rng, w.systemPromptTokens));
      for (let u = 0; u < w.groups * w.usersPerGroup; u++) {
        const g = u % w.groups;
        const questions = Array.from({ length: w.turns }, () => fillerText(rng, w.questionTokens));
        const startDelay = rng.next() * (w.rampMs ?? 50);
        users.push((async () => {
          await sleep(startDelay);
          const history: Message[] = [{ role: "system", content: systems[g]! }];
          for (let t = 0; t < w.turns; t++) {
            history.push({ role: "user", content: questions[t]! });
            const reply = await send({ model, messages: history, max_tokens: w.outputTokens }, null, w.sessionHeader ? { [w.sessionHeader]: `tenant-${g}` } : {});
            if (reply === null) return;
            history.push({ role: "assistant", content: reply });
            if (w.thinkMs) await sleep(w.thinkMs);
          }
        })());
      }
      break;
    }
    case "unique":
    case "multi-lora": {
      const weights = w.kind === "multi-lora" ? w.adapters.map((_, i) => 1 / (i + 1)) : [];
      const total = weights.reduce((a, b) => a + b, 0);
      for (let u = 0; u < w.users; u++) {
        const prompts = Array.from({ length: w.requestsPerUser }, () => {
          let m = model;
          if (w.kind === "multi-lora") {
            let x = rng.next() * total;
            let i = 0;
            while (i < weights.length - 1 && x >= weights[i]!) x -= weights[i++]!;
            m = w.adapters[i]!;
          }
          return { m, text: `Request ${rng.int(1e9)}. ` + fillerText(rng, w.promptTokens) };
        });
        users.push((async () => {
          for (const p of prompts) {
            const ok = await send({ model: p.m, messages: [{ role: "user", content: p.text }], max_tokens: w.outputTokens }, null);
            if (ok === null && (nextId >= planned || performance.now() > deadline)) return;
          }
        })());
      }
      break;
    }
    case "bursty-tenants": {
      const steady: RequestClass = { name: "tenant-a", share: 0, headers: { [w.tenantHeader]: "a" } };
      const bursty: RequestClass = { name: "tenant-b", share: 0, headers: { [w.tenantHeader]: "b" } };
      const arrivals: { at: number; cls: RequestClass }[] = [];
      for (let at = rng.exp(1000 / w.steadyRate); at < w.durationMs; at += rng.exp(1000 / w.steadyRate)) arrivals.push({ at, cls: steady });
      let at = w.burstAtMs;
      for (let i = 0; i < w.burst; i++) {
        arrivals.push({ at, cls: bursty });
        at += rng.exp(1000 / w.burstRate);
      }
      arrivals.sort((x, y) => x.at - y.at);
      for (const a of arrivals) {
        const wait = a.at - (performance.now() - t0);
        if (wait > 0) await sleep(wait);
        if (performance.now() > deadline) break;
        const text = `Job ${rng.int(1e9)}. ` + fillerText(rng, w.promptTokens);
        users.push(send({ model, messages: [{ role: "user", content: text }], max_tokens: w.outputTokens }, a.cls).then(() => undefined));
      }
      break;
    }
    case "overload": {
      const arrivals: { at: number; text: string; cls: RequestClass | null }[] = [];
      let at = 0;
      for (let i = 0; i < planned; i++) {
        at += rng.exp(1000 / w.rate);
        arrivals.push({ at, text: `Job ${rng.int(1e9)}. ` + fillerText(rng, w.promptTokens), cls: pickClass(rng, w.classes) });
      }
      for (const a of arrivals) {
        const wait = a.at - (performance.now() - t0);
        if (wait > 0) await sleep(wait);
        if (performance.now() > deadline) break;
        users.push(send({ model, messages: [{ role: "user", content: a.text }], max_tokens: w.outputTokens }, a.cls).then(() => undefined));
      }
      break;
    }
  }
  await Promise.all(users);
  agent.destroy();
  records.sort((a, b) => a.id - b.id);
  return { workload: w.name, startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(), durationMs: performance.now() - t0, records };
}
