/**
 * One simulated OpenAI-compatible model server on 127.0.0.1: `POST /v1/chat/completions`,
 * `POST /v1/completions` (streaming with SSE or not), `GET /v1/models`, `GET /health` and
 * `GET /metrics` in vLLM's metric names. Every response carries `x-sim-server: <name>`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SimEngine, type SimStats } from "./engine.js";
import { renderOrca, renderVllmMetrics } from "./metrics.js";
import { resolveSimParams, type SimParams } from "./params.js";
import { parsePrompt, SimRequestError } from "./prompt.js";

/** Largest request body accepted (bytes). */
const MAX_BODY = 8 << 20;

export interface SimServerOptions {
  /** Name reported in `x-sim-server` and in the report. */
  name: string;
  /** Port on 127.0.0.1 (0 picks a free one). */
  port?: number;
  params?: Partial<SimParams>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function openAiError(res: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
  sendJson(res, status, { error: { message, type: status === 404 ? "NotFoundError" : "BadRequestError", code: status } }, headers);
}

export class SimServer {
  readonly engine: SimEngine;
  readonly params: SimParams;
  private server: Server | undefined;
  private port = 0;
  private ids = 0;

  constructor(readonly options: SimServerOptions) {
    this.params = resolveSimParams(options.params);
    this.engine = new SimEngine(this.params);
  }

  /** `127.0.0.1:port`, once listening. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get name(): string {
    return this.options.name;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 0, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.engine.start();
  }

  async stop(): Promise<void> {
    this.engine.stop();
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  stats(): SimStats {
    return this.engine.stats();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const base = { "x-sim-server": this.options.name };
    const url = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && url === "/metrics") {
      const text = renderVllmMetrics(this.params.model, this.params.maxLoras, this.engine.stats(), Date.now() / 1000);
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4", ...base });
      res.end(text);
      return;
    }
    if (req.method === "GET" && url === "/health") {
      res.writeHead(200, base);
      res.end();
      return;
    }
    if (req.method === "GET" && url === "/v1/models") {
      const ids = [this.params.model, ...this.params.adapters];
      sendJson(res, 200, { object: "list", data: ids.map((id) => ({ id, object: "model", owned_by: "wayroute-sim" })) }, base);
      return;
    }
    const kind = url === "/v1/chat/completions" ? "chat" : url === "/v1/completions" ? "completions" : null;
    if (!kind) {
      openAiError(res, 404, `no route ${req.method} ${url}`, base);
      return;
    }
    if (req.method !== "POST") {
      openAiError(res, 405, `${url} takes POST`, base);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        openAiError(res, 413, `request body over ${MAX_BODY} bytes`, base);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      if (res.headersSent) return;
      try {
        this.serve(kind, Buffer.concat(chunks).toString("utf8"), req, res, base);
      } catch (err) {
        if (err instanceof SimRequestError) openAiError(res, err.status, err.message, base);
        else openAiError(res, 500, String(err), base);
      }
    });
  }

  private serve(kind: "chat" | "completions", raw: string, req: IncomingMessage, res: ServerResponse, base: Record<string, string>): void {
    const p = this.params;
    const prompt = parsePrompt(kind, raw);
    let adapter: string | null = null;
    if (prompt.model !== p.model) {
      if (!p.adapters.includes(prompt.model)) throw new SimRequestError(`The model \`${prompt.model}\` does not exist.`, 404);
      adapter = prompt.model;
    }
    const maxTokens = Math.min(prompt.maxTokens ?? p.defaultMaxTokens, p.maxOutputTokens);
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${this.options.name}-${++this.ids}`;
    const created = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { ...base };
    const orcaFormat = req.headers["endpoint-load-metrics-format"];
    const wantOrca = p.orca === "always" || (p.orca === "on-request" && typeof orcaFormat === "string");
    const orca = (): Record<string, string> => (wantOrca ? { "endpoint-load-metrics": renderOrca(orcaFormat === "json" ? "json" : "text", this.engine.stats()) } : {});
    let out = "";
    let started = false;
    const chunk = (delta: string, finish: string | null) =>
      kind === "chat"
        ? { id, object: "chat.completion.chunk", created, model: prompt.model, choices: [{ index: 0, delta: started ? { content: delta } : { role: "assistant", content: delta }, finish_reason: finish }] }
        : { id, object: "text_completion", created, model: prompt.model, choices: [{ index: 0, text: delta, finish_reason: finish }] };
    const usage = () => ({
      prompt_tokens: ticket.promptTokens,
      completion_tokens: maxTokens,
      total_tokens: ticket.promptTokens + maxTokens,
      prompt_tokens_details: { cached_tokens: ticket.cachedTokens },
    });
    const result = this.engine.submit({
      adapter,
      text: prompt.text,
      maxTokens,
      sink: {
        tokens: (texts) => {
          if (res.destroyed) return;
          const t = texts.join("");
          out += t;
          if (!prompt.stream) return;
          if (!started) {
            res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers, ...orca() });
          }
          res.write(`data: ${JSON.stringify(chunk(t, null))}\n\n`);
          started = true;
        },
        done: () => {
          if (res.destroyed) return;
          if (prompt.stream) {
            if (!started) res.writeHead(200, { "content-type": "text/event-stream", ...headers, ...orca() });
            let tail = `data: ${JSON.stringify(chunk("", "length"))}\n\n`;
            if (prompt.includeUsage) tail += `data: ${JSON.stringify({ id, object: kind === "chat" ? "chat.completion.chunk" : "text_completion", created, model: prompt.model, choices: [], usage: usage() })}\n\n`;
            res.end(tail + "data: [DONE]\n\n");
            return;
          }
          const choice = kind === "chat"
            ? { index: 0, message: { role: "assistant", content: out }, finish_reason: "length" }
            : { index: 0, text: out, finish_reason: "length" };
          sendJson(res, 200, { id, object: kind === "chat" ? "chat.completion" : "text_completion", created, model: prompt.model, choices: [choice], usage: usage() }, { ...headers, ...orca() });
        },
      },
    });
    if (result === "too-long") throw new SimRequestError(`prompt plus max_tokens exceeds the KV cache (${p.kvBlocks} blocks of ${p.blockTokens} tokens)`);
    if (result === null) {
      openAiError(res, 503, "server overloaded: waiting queue full", headers);
      return;
    }
    const ticket = result;
    res.on("close", () => {
      if (!res.writableFinished) ticket.cancel();
    });
  }
}
