/**
 * A pool of model-server stand-ins for measuring the state plane through a real Envoy: one
 * HTTP server per endpoint on free ports of 127.0.0.1, all in this process. Each serves a
 * `/metrics` page and counts the scrapes it receives (server side, so the count is what the
 * model servers really pay), and answers POST /v1/* with a small chat completion. A page can be
 * served as prometheus_client serves it (a `?name[]=` scrape gets the filtered page) or as a
 * server that ignores the filter (every scrape gets the whole page).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** Options of {@link MetricsPool.start}. */
export interface MetricsPoolOptions {
  /** Endpoints (servers) to start. */
  count: number;
  /** The whole `/metrics` page. */
  page: string;
  /**
   * What a `?name[]=` scrape gets; undefined: the server ignores the filter and sends `page`.
   * Changeable while running ({@link MetricsPool.serve}).
   */
  filteredPage?: string;
  /**
   * How long (ms) an idle keep-alive connection stays open. Default 5,000, uvicorn's default
   * (`timeout_keep_alive`), which vLLM's API server runs on.
   */
  keepAliveMs?: number;
  /** Keep each scrape's arrival time (`performance.now()`) in {@link MetricsPool.scrapeTimes}. */
  recordTimes?: boolean;
}

const isScrape = (url: string) => url === "/metrics" || url.startsWith("/metrics?");
const REPLY = JSON.stringify({ object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] });

export class MetricsPool {
  readonly addresses: string[] = [];
  /** Scrapes received, per endpoint (index as in `addresses`). */
  readonly scrapesPerEndpoint: Uint32Array;
  /** Arrival times of scrapes (only with `recordTimes`). */
  readonly scrapeTimes: number[] = [];
  /** Scrapes that asked for `?name[]=` filters. */
  filteredScrapes = 0;
  /** Non-scrape requests, per endpoint. */
  readonly requestsPerEndpoint: Uint32Array;
  private readonly servers: Server[] = [];
  private page: string;
  private filtered: string | undefined;
  /** Extra response headers of every non-scrape reply (e.g. an ORCA `endpoint-load-metrics`). */
  replyHeaders: Record<string, string> = {};

  private constructor(private readonly o: MetricsPoolOptions) {
    this.scrapesPerEndpoint = new Uint32Array(o.count);
    this.requestsPerEndpoint = new Uint32Array(o.count);
    this.page = o.page;
    this.filtered = o.filteredPage;
  }

  /** Starts `count` servers; on a failure the ones already started are closed. */
  static async start(o: MetricsPoolOptions): Promise<MetricsPool> {
    const pool = new MetricsPool(o);
    try {
      for (let i = 0; i < o.count; i++) await pool.listen(i);
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  /** Total scrapes so far. */
  get scrapes(): number {
    let n = 0;
    for (const c of this.scrapesPerEndpoint) n += c;
    return n;
  }

  /** Total non-scrape requests so far. */
  get requests(): number {
    let n = 0;
    for (const c of this.requestsPerEndpoint) n += c;
    return n;
  }

  /** Changes the pages served from now on (`filteredPage` undefined: ignore the filter). */
  serve(page: string, filteredPage?: string): void {
    this.page = page;
    this.filtered = filteredPage;
  }

  /** Clears every count. */
  reset(): void {
    this.scrapesPerEndpoint.fill(0);
    this.requestsPerEndpoint.fill(0);
    this.scrapeTimes.length = 0;
    this.filteredScrapes = 0;
  }

  private async listen(i: number): Promise<void> {
    const server = createServer({ keepAliveTimeout: this.o.keepAliveMs ?? 5_000 }, (req, res) => this.handle(i, req, res));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const a = server.address();
    if (!a || typeof a !== "object") throw new Error("a metrics-pool server has no address");
    this.addresses.push(`127.0.0.1:${a.port}`);
  }

  private handle(i: number, req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    if (req.method === "GET" && isScrape(url)) {
      this.scrapesPerEndpoint[i]!++;
      if (this.o.recordTimes) this.scrapeTimes.push(performance.now());
      const asked = url.includes("name[]=") || url.includes("name%5B%5D=");
      if (asked) this.filteredScrapes++;
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(asked && this.filtered !== undefined ? this.filtered : this.page);
      return;
    }
    this.requestsPerEndpoint[i]!++;
    req.on("data", () => undefined);
    req.on("end", () => {
      res.writeHead(200, { ...this.replyHeaders, "content-type": "application/json", "x-upstream": String(i) });
      res.end(REPLY);
    });
  }

  /** Closes every server and its connections; idempotent. */
  async stop(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(servers.map((s) => {
      s.closeAllConnections();
      return new Promise<void>((r) => s.close(() => r()));
    }));
  }
}
