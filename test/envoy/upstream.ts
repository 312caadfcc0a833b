/**
 * A recording model-server stand-in for the Envoy suite: it keeps every request it receives
 * (method, path, raw header pairs in order, body bytes), answers POSTs with a small JSON naming
 * itself, and serves vLLM-style `/metrics` whose values a test sets. Loopback only.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the upstream saw it. */
export interface Received {
  method: string;
  path: string;
  /** Header pairs in arrival order, names lower-cased. */
  headers: [string, string][];
  body: Buffer;
  /** Arrival order across every upstream of the process. */
  seq: number;
}

let arrivals = 0;

/** Metric scrapes (`/metrics`, with or without a `?name[]=` filter query). */
const isScrape = (path: string) => path === "/metrics" || path.startsWith("/metrics?");

/** vLLM gauges served on /metrics. */
export interface FakeLoad {
  waiting: number;
  running: number;
  kv: number;
  /** Running LoRA adapters (`vllm:lora_requests_info`). */
  loras?: string[];
}

export class RecordingUpstream {
  readonly received: Received[] = [];
  /** GET /metrics count (filtered or not). */
  scrapes = 0;
  load: FakeLoad = { waiting: 0, running: 0, kv: 0 };
  /** Status for non-metrics requests (e.g. 500 to test passive ejection). */
  status = 200;
  /** Extra response headers (e.g. an ORCA `endpoint-load-metrics`). */
  responseHeaders: Record<string, string> = {};
  /** Scripted answers, used first-in first-out before the default JSON answer. */
  answers: { status?: number; headers?: [string, string][]; body?: string }[] = [];
  private server!: Server;
  address = "";

  constructor(readonly name: string) {}

  static async start(name: string): Promise<RecordingUpstream> {
    const u = new RecordingUpstream(name);
    // A request Envoy resets midway (a local reply after the headers left) is simply not recorded.
    u.server = createServer((req, res) => void u.handle(req, res).catch(() => res.destroy()));
    u.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => u.server.listen(0, "127.0.0.1", r));
    u.address = `127.0.0.1:${(u.server.address() as AddressInfo).port}`;
    return u;
  }

  /** Requests other than metrics scrapes. */
  get requests(): Received[] {
    return this.received.filter((r) => !isScrape(r.path));
  }

  header(r: Received, name: string): string | undefined {
    return r.headers.find(([k]) => k === name)?.[1];
  }

  private async handle(req: IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    const path = req.url ?? "/";
    this.received.push({ method: req.method ?? "", path, headers, body: Buffer.concat(chunks), seq: ++arrivals });
    if (isScrape(path)) {
      this.scrapes++;
      const l = this.load;
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(
        `# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="m"} ${l.waiting}\n` +
          `# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="m"} ${l.running}\n` +
          `# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{model_name="m"} ${l.kv}\n` +
          (l.loras ? `# TYPE vllm:lora_requests_info gauge\nvllm:lora_requests_info{max_lora="2",running_lora_adapters="${l.loras.join(",")}",waiting_lora_adapters=""} 1\n` : ""),
      );
      return;
    }
    const scripted = this.answers.shift();
    if (scripted) {
      const body = Buffer.from(scripted.body ?? "");
      res.writeHead(scripted.status ?? 200, [...(scripted.headers ?? []), ["content-length", String(body.length)]].flat());
      res.end(body);
      return;
    }
    // `?slowMs=N`: stream the answer in two parts N ms apart (an in-flight stream).
    const slow = Number(new URL(path, "http://x").searchParams.get("slowMs") ?? 0);
    res.writeHead(this.status, { "content-type": "application/json", "x-upstream": this.name, ...this.responseHeaders });
    if (slow > 0) {
      res.write(`{"server":"${this.name}",`);
      await new Promise((r) => setTimeout(r, slow));
    }
    res.end(`${slow > 0 ? "" : `{"server":"${this.name}",`}"bytes":${Buffer.concat(chunks).length}}`);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
