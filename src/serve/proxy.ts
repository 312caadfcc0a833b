/**
 * The local proxy: an HTTP/1.1 server on 127.0.0.1 that runs every request through a filter
 * (a proxy-wasm plugin on one of several workers, as Envoy would) and forwards it to the upstream
 * the plugin chose:
 * - endpoint mode: `x-gateway-destination-endpoint: ip:port[,ip:port...]`, primary then fallbacks
 *   on connect failure;
 * - route mode: a configured header names a backend, whose endpoints come from the config;
 * - otherwise the proxy's own load balancer over the default cluster.
 * Request and response bodies stream through; local replies from the plugin are sent as they are.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { isAddress, resolveServeConfig, type ServeConfig } from "./config.js";
import { type FilterFactory, type HeaderPairs, PassThroughFilterFactory, type StreamFilter, type Verdict } from "./filter.js";
import { AgentPool, LoadBalancer, UpstreamRequest } from "./upstream.js";

/** Headers that describe one hop and are never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"]);

/** Counters the proxy keeps (for the report and tests). */
export interface ProxyStats {
  requests: number;
  localReplies: number;
  upstreamErrors: number;
  badRequests: number;
  /** Requests forwarded per upstream address. */
  perUpstream: Record<string, number>;
  /** How the upstream was chosen. */
  steering: { endpoint: number; route: number; default: number };
  fallbacks: number;
  /** Streams the plugin reset. */
  resets: number;
}

function json(status: number, message: string): { status: number; headers: HeaderPairs; body: Uint8Array } {
  const body = Buffer.from(JSON.stringify({ error: { message, code: status } }));
  return { status, headers: [["content-type", "application/json"]], body };
}

function toNodeHeaders(pairs: HeaderPairs): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    if (k.startsWith(":") || HOP_BY_HOP.has(k)) continue;
    const cur = out[k];
    out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return out;
}

/** A verdict that ends the exchange: a local reply or a reset. */
function isFinal(v: Verdict): v is Extract<Verdict, { kind: "local" | "reset" }> {
  return v.kind === "local" || v.kind === "reset";
}

function header(pairs: HeaderPairs, name: string): string | undefined {
  for (const [k, v] of pairs) if (k === name) return v;
  return undefined;
}

/** Resolves once `res` can take more (its buffer drained) or is gone: back-pressure to the caller's loop. */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Writes `data`, waiting when the client is slower than the upstream (never buffers a whole body). */
async function writeBody(res: ServerResponse, data: Uint8Array): Promise<void> {
  if (data.length === 0 || res.destroyed) return;
  if (!res.write(data)) await drained(res);
}

/** Host names a browser on this machine uses for the proxy; anything else may be DNS rebinding. */
function isLoopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
  return name === "localhost" || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export class ProxyServer {
  readonly config: ServeConfig;
  readonly stats: ProxyStats = { requests: 0, localReplies: 0, upstreamErrors: 0, badRequests: 0, perUpstream: {}, steering: { endpoint: 0, route: 0, default: 0 }, fallbacks: 0, resets: 0 };
  private server: Server | undefined;
  private port = 0;
  private readonly agents = new AgentPool();
  private readonly lb: LoadBalancer;
  private readonly workerOf = new WeakMap<Socket, number>();
  private nextWorker = 0;
  private clock: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    config: Partial<ServeConfig> & Pick<ServeConfig, "defaultCluster">,
    readonly filters: FilterFactory = new PassThroughFilterFactory(config.workers ?? 2),
  ) {
    this.config = resolveServeConfig(config);
    this.lb = new LoadBalancer(this.config.defaultCluster.endpoints, this.config.defaultCluster.lb);
  }

  /** `127.0.0.1:port` once listening. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer({ requestTimeout: 120_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // Last resort: a bug must cost one request, never the proxy.
        this.stats.upstreamErrors++;
        if (!res.headersSent) {
          const r = json(500, `proxy internal error: ${(err as Error)?.message ?? String(err)}`);
          res.writeHead(r.status, Object.fromEntries(r.headers));
          res.end(r.body);
        } else res.destroy();
      });
    });
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
      // Malformed request line or headers: 400 and close, as Envoy's codec does; headers over the
      // size limit: 431 Request Header Fields Too Large, as Envoy answers past max_request_headers_kb.
      this.stats.badRequests++;
      const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      else socket.destroy();
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.config.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    if (this.filters.advance) {
      let last = performance.now();
      this.clock = setInterval(() => {
        if (this.ticking) return;
        this.ticking = true;
        const now = performance.now();
        const ms = now - last;
        last = now;
        this.filters.advance!(ms).finally(() => (this.ticking = false));
      }, this.config.clockStepMs);
      this.clock.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.clock) clearInterval(this.clock);
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    this.agents.destroy();
    await this.filters.close();
  }

  private workerFor(socket: Socket): number {
    let w = this.workerOf.get(socket);
    if (w === undefined) {
      w = this.nextWorker++ % this.filters.workers.length;
      this.workerOf.set(socket, w);
    }
    return w;
  }

  private sendLocal(res: ServerResponse, v: { status: number; headers: HeaderPairs; body: Uint8Array }): void {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string | string[]> = toNodeHeaders(v.headers);
    headers["content-length"] = String(v.body.length);
    res.writeHead(v.status, headers);
    res.end(v.body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const socket = req.socket;
    const requestId = (req.headers["x-request-id"] as string | undefined) ?? randomUUID();
    const pairs: HeaderPairs = [
      [":authority", req.headers.host ?? this.address],
      [":path", req.url ?? "/"],
      [":method", req.method ?? "GET"],
      [":scheme", "http"],
    ];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]!.toLowerCase();
      if (k === "host" || k === "connection" || k === "keep-alive" || k === "transfer-encoding" || k === "x-request-id") continue;
      pairs.push([k, req.rawHeaders[i + 1]!]);
    }
    pairs.push(["x-request-id", requestId], ["x-forwarded-proto", "http"]);
    const host = (req.headers.host ?? "").toLowerCase();
    if (!this.hostAllowed(host)) {
      // A web page that rebinds its DNS name to 127.0.0.1 still sends its own name as Host.
      this.stats.badRequests++;
      req.resume();
      this.sendLocal(res, json(421, `Host ${JSON.stringify(host)} is not served here; the proxy answers to localhost and 127.0.0.1 (add other names to allowedHosts in the serve config)`));
      return;
    }
    if (!(req.url ?? "").startsWith("/")) {
      this.stats.badRequests++;
      this.sendLocal(res, json(400, "request path must start with '/'"));
      return;
    }
    const hasBody = req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined;
    const worker = this.filters.workers[this.workerFor(socket)]!;
    const filter = worker.createStream({ source: `${socket.remoteAddress}:${socket.remotePort}`, destination: this.address, requestId });
    let ended = false;
    const endStream = () => {
      if (ended) return;
      ended = true;
      filter.end();
    };
    res.on("close", endStream);
    try {
      await this.run(req, res, filter, pairs, hasBody);
    } finally {
      if (res.writableFinished || res.destroyed) endStream();
    }
  }

  /** Whether `host` (the Host header, lower-cased) names this proxy. */
  private hostAllowed(host: string): boolean {
    if (host === "" || isLoopbackHost(host)) return true;
    const allowed = this.config.allowedHosts ?? [];
    if (allowed.includes("*")) return true;
    const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
    return allowed.some((a) => a.toLowerCase() === name || a.toLowerCase() === host);
  }

  /** Upstreams the configuration names: the default cluster and every route backend. */
  private configuredUpstreams(): Set<string> {
    return new Set([...this.config.defaultCluster.endpoints, ...Object.values(this.config.routes?.backends ?? {}).flat()]);
  }

  private chooseUpstream(headers: HeaderPairs): { addresses: string[]; how: "endpoint" | "route" | "default" } | { error: string } {
    const ep = header(headers, this.config.endpointHeader);
    if (ep !== undefined && ep.trim() !== "") {
      const list = ep.split(",").map((s) => s.trim()).filter((s) => s !== "");
      const bad = list.find((a) => !isAddress(a));
      if (bad !== undefined) return { error: `${this.config.endpointHeader} holds ${JSON.stringify(bad)}, not ip:port` };
      if (this.filters.steers !== true) {
        // No plugin stripped or set the header: it is the client's, and may name only configured upstreams.
        const known = this.configuredUpstreams();
        const foreign = list.find((a) => !known.has(a));
        if (foreign !== undefined) return { error: `${this.config.endpointHeader} names ${JSON.stringify(foreign)}, which is not a configured upstream` };
      }
      return { addresses: list, how: "endpoint" };
    }
    if (this.config.routes) {
      const backend = header(headers, this.config.routes.header);
      if (backend !== undefined) {
        // Own names only: "__proto__" or "toString" must not find Object.prototype's members.
        const eps = Object.hasOwn(this.config.routes.backends, backend) ? this.config.routes.backends[backend] : undefined;
        if (!Array.isArray(eps)) return { error: `no backend named ${JSON.stringify(backend)} for ${this.config.routes.header}` };
        return { addresses: [...eps], how: "route" };
      }
    }
    const order = this.lb.order();
    if (order.length === 0) return { error: "no healthy upstream: the default cluster has no endpoints" };
    return { addresses: order, how: "default" };
  }

  private async run(req: IncomingMessage, res: ServerResponse, filter: StreamFilter, pairs: HeaderPairs, hasBody: boolean): Promise<void> {
    // ---- request headers
    let v: Verdict = await filter.requestHeaders(pairs, !hasBody);
    if (isFinal(v)) return this.local(res, v, req);
    let released: HeaderPairs | undefined = v.kind === "continue" ? (v.headers ?? pairs) : undefined;
    let upstream: UpstreamRequest | undefined;
    let bodyBytes = 0;
    const open = (headers: HeaderPairs): boolean => {
      const choice = this.chooseUpstream(headers);
      if ("error" in choice) {
        this.stats.upstreamErrors++;
        this.sendLocal(res, json(503, choice.error));
        return false;
      }
      this.stats.steering[choice.how]++;
      upstream = new UpstreamRequest(choice.addresses, {
        method: header(headers, ":method") ?? "GET",
        path: header(headers, ":path") ?? "/",
        headers: { ...toNodeHeaders(headers), host: header(headers, ":authority") ?? this.address },
        connectTimeoutMs: this.config.connectTimeoutMs,
        agentFor: (a) => this.agents.get(a),
      });
      return true;
    };
    if (released && !open(released)) return;

    // ---- request body, streamed through the filter
    if (hasBody) {
      for await (const c of req as AsyncIterable<Buffer>) {
        bodyBytes += c.length;
        if (bodyBytes > this.config.maxRequestBodyBytes) {
          upstream?.abort();
          this.sendLocal(res, json(413, `request body over ${this.config.maxRequestBodyBytes} bytes`));
          req.resume();
          return;
        }
        v = await filter.requestData(new Uint8Array(c.buffer, c.byteOffset, c.length), false);
        if (isFinal(v)) {
          upstream?.abort();
          return this.local(res, v, req);
        }
        if (v.kind === "continue") {
          if (!released) {
            released = v.headers ?? pairs;
            if (!open(released)) return;
          }
          if (v.data && !upstream!.write(v.data)) await upstream!.drained();
        } // "wait": the filter buffers the bytes
      }
      if (res.destroyed) {
        upstream?.abort();
        return;
      }
      v = await filter.requestData(new Uint8Array(0), true);
      if (isFinal(v)) {
        upstream?.abort();
        return this.local(res, v, req);
      }
      if (v.kind === "wait") {
        // End of stream and the filter still holds everything: Envoy would wait for the plugin to
        // resume; a plugin that never resumes leaves the request hanging. Answer instead.
        upstream?.abort();
        this.stats.upstreamErrors++;
        return this.sendLocal(res, json(500, "the plugin paused the request at end of stream and never resumed it"));
      }
      if (!released) {
        released = v.headers ?? pairs;
        if (!open(released)) return;
      }
      if (v.data) upstream!.write(v.data);
    } else if (!released) {
      this.stats.upstreamErrors++;
      return this.sendLocal(res, json(500, "the plugin paused request headers of a body-less request and never resumed it"));
    }
    const up = upstream!;
    up.end();
    res.on("close", () => {
      if (!res.writableFinished) up.abort();
    });

    // ---- upstream response
    const outcome = await up.response;
    if (outcome.attempts.length > 1) this.stats.fallbacks += outcome.attempts.filter((a) => a.error).length;
    if (!outcome.ok) {
      if (outcome.message === "aborted") return;
      this.stats.upstreamErrors++;
      // Envoy's router local reply; it goes through the response path of the plugin too.
      const status = outcome.connectFailure ? 503 : 502;
      const body = Buffer.from(outcome.message);
      const rh: HeaderPairs = [[":status", String(status)], ["content-type", "text/plain"], ["content-length", String(body.length)]];
      const hv = await filter.responseHeaders(rh, false);
      if (isFinal(hv)) return this.local(res, hv);
      const bv = await filter.responseData(new Uint8Array(body), true);
      if (isFinal(bv)) return this.local(res, bv);
      return this.sendLocal(res, { status, headers: (hv.kind === "continue" && hv.headers) || rh, body: bv.kind === "continue" && bv.data ? bv.data : body });
    }
    const ures = outcome.response;
    this.stats.perUpstream[outcome.address] = (this.stats.perUpstream[outcome.address] ?? 0) + 1;
    const rpairs: HeaderPairs = [[":status", String(ures.statusCode ?? 502)]];
    for (let i = 0; i < ures.rawHeaders.length; i += 2) {
      const k = ures.rawHeaders[i]!.toLowerCase();
      if (k === "connection" || k === "keep-alive" || k === "transfer-encoding") continue;
      rpairs.push([k, ures.rawHeaders[i + 1]!]);
    }
    const emptyBody = ures.headers["content-length"] === "0";
    let rv = await filter.responseHeaders(rpairs, emptyBody);
    if (isFinal(rv)) {
      ures.destroy();
      return this.local(res, rv);
    }
    let sentHeaders = false;
    let outHeaders: HeaderPairs = rv.kind === "continue" ? (rv.headers ?? rpairs) : rpairs;
    const writeHeaders = (headers: HeaderPairs, knownLength: boolean) => {
      if (sentHeaders || res.destroyed) return;
      sentHeaders = true;
      const status = Number(header(headers, ":status") ?? 200);
      const h = toNodeHeaders(headers);
      // Body changes by the plugin invalidate the upstream's length: stream chunked instead.
      if (!knownLength) delete h["content-length"];
      res.writeHead(status, h);
      res.flushHeaders();
    };
    if (rv.kind === "continue") writeHeaders(outHeaders, emptyBody);
    try {
      for await (const c of ures as AsyncIterable<Buffer>) {
        if (res.destroyed) {
          ures.destroy();
          return;
        }
        rv = await filter.responseData(new Uint8Array(c.buffer, c.byteOffset, c.length), false);
        if (isFinal(rv)) {
          ures.destroy();
          return this.local(res, rv);
        }
        if (rv.kind === "continue") {
          if (!sentHeaders) outHeaders = rv.headers ?? outHeaders;
          writeHeaders(outHeaders, false);
          // Back-pressure end to end: the next upstream chunk is read only once the client took this one.
          if (rv.data && rv.data.length) await writeBody(res, rv.data);
        }
      }
    } catch {
      // Upstream reset mid-body: Envoy resets the downstream stream. Do the same, cleanly.
      this.stats.upstreamErrors++;
      if (!sentHeaders) return this.sendLocal(res, json(502, "upstream reset before the response completed"));
      res.destroy();
      return;
    }
    if (!ures.complete) {
      this.stats.upstreamErrors++;
      if (!sentHeaders) return this.sendLocal(res, json(502, "upstream reset before the response completed"));
      res.destroy();
      return;
    }
    rv = await filter.responseData(new Uint8Array(0), true);
    if (isFinal(rv)) return this.local(res, rv);
    if (rv.kind === "continue") {
      if (!sentHeaders) outHeaders = rv.headers ?? outHeaders;
      writeHeaders(outHeaders, false);
      if (rv.data && rv.data.length) res.write(rv.data);
    } else writeHeaders(outHeaders, false);
    res.end();
  }

  private local(res: ServerResponse, v: Extract<Verdict, { kind: "local" | "reset" }>, req?: IncomingMessage): void {
    req?.resume();
    if (v.kind === "reset") {
      this.stats.resets++;
      res.destroy();
      return;
    }
    this.stats.localReplies++;
    this.sendLocal(res, v);
  }
}
