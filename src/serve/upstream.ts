/**
 * Forwarding one request to an upstream over TCP, trying an ordered list of endpoints: on a
 * connect failure (refused, unreachable, connect timeout) the next endpoint gets the request,
 * with the body bytes already sent replayed. Once an upstream accepted the connection there is
 * no retry (as Envoy's `x-gateway-destination-endpoint` fallbacks are for connect failures).
 */
import { Agent, type IncomingMessage, request, type ClientRequest } from "node:http";

const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EADDRNOTAVAIL", "E_CONNECT_TIMEOUT"]);

export interface UpstreamAttempt {
  address: string;
  error?: string;
}

export interface ForwardOptions {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  connectTimeoutMs: number;
  agentFor(address: string): Agent;
}

/** Result of {@link UpstreamRequest.response}. */
export type UpstreamOutcome =
  | { ok: true; response: IncomingMessage; address: string; attempts: UpstreamAttempt[] }
  | { ok: false; attempts: UpstreamAttempt[]; connectFailure: boolean; message: string };

export class UpstreamRequest {
  private readonly sent: Uint8Array[] = [];
  private ended = false;
  private current: ClientRequest | undefined;
  private index = -1;
  private readonly attempts: UpstreamAttempt[] = [];
  private settle!: (o: UpstreamOutcome) => void;
  private done = false;
  /** Resolves when an upstream answered with headers, or every endpoint failed. */
  readonly response: Promise<UpstreamOutcome>;

  constructor(
    private readonly addresses: string[],
    private readonly opts: ForwardOptions,
  ) {
    this.response = new Promise((resolve) => (this.settle = resolve));
    this.next();
  }

  private next(): void {
    this.index++;
    const address = this.addresses[this.index];
    if (address === undefined) {
      this.finish({ ok: false, attempts: this.attempts, connectFailure: true, message: "upstream connect error or disconnect/reset before headers. reset reason: connection failure" });
      return;
    }
    const attempt: UpstreamAttempt = { address };
    this.attempts.push(attempt);
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(address.slice(colon + 1));
    let connected = false;
    const req = request({ host, port, method: this.opts.method, path: this.opts.path, headers: this.opts.headers, agent: this.opts.agentFor(address) });
    this.current = req;
    const connectTimer = setTimeout(() => {
      if (!connected) req.destroy(Object.assign(new Error("connect timeout"), { code: "E_CONNECT_TIMEOUT" }));
    }, this.opts.connectTimeoutMs);
    req.on("socket", (socket) => {
      if (!socket.connecting) {
        connected = true;
        clearTimeout(connectTimer);
      } else {
        socket.once("connect", () => {
          connected = true;
          clearTimeout(connectTimer);
        });
      }
    });
    req.on("response", (res) => {
      clearTimeout(connectTimer);
      this.finish({ ok: true, response: res, address, attempts: this.attempts });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      attempt.error = err.code ?? err.message;
      if (this.done) return;
      if (!connected && CONNECT_ERRORS.has(err.code ?? "")) {
        this.next();
        return;
      }
      this.finish({ ok: false, attempts: this.attempts, connectFailure: !connected, message: `upstream reset before response headers: ${err.code ?? err.message}` });
    });
    for (const chunk of this.sent) req.write(chunk);
    if (this.ended) req.end();
  }

  private finish(o: UpstreamOutcome): void {
    if (this.done) return;
    this.done = true;
    this.settle(o);
  }

  /**
   * Sends request body bytes (kept for replay until a response arrives; the proxy bounds them by
   * its request body limit). False when the upstream socket is full: await {@link drained}.
   */
  write(chunk: Uint8Array): boolean {
    if (chunk.length === 0) return true;
    if (!this.done) this.sent.push(chunk);
    return this.current ? this.current.write(chunk) : true;
  }

  /** Resolves when the current upstream request can take more body, or is gone. */
  drained(): Promise<void> {
    const req = this.current;
    if (!req || req.destroyed || req.writableEnded || !req.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        req.off("drain", done);
        req.off("close", done);
        resolve();
      };
      req.on("drain", done);
      req.on("close", done);
    });
  }

  end(): void {
    this.ended = true;
    this.current?.end();
  }

  /** Abandons the request (client went away). */
  abort(): void {
    this.finish({ ok: false, attempts: this.attempts, connectFailure: false, message: "aborted" });
    this.current?.destroy();
  }
}

/** Keep-alive agents per upstream address. */
export class AgentPool {
  private readonly agents = new Map<string, Agent>();
  get(address: string): Agent {
    let a = this.agents.get(address);
    if (!a) {
      a = new Agent({ keepAlive: true, maxSockets: 512, timeout: 30_000 });
      this.agents.set(address, a);
    }
    return a;
  }
  destroy(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

/** The proxy's own load balancer over a cluster's endpoints. */
export class LoadBalancer {
  private rr = 0;
  constructor(
    readonly endpoints: string[],
    readonly policy: "round-robin" | "random",
  ) {}
  /** Endpoints in the order to try: the pick first, then the rest as fallbacks. */
  order(): string[] {
    const n = this.endpoints.length;
    if (n === 0) return [];
    const first = this.policy === "random" ? Math.floor(Math.random() * n) : this.rr++ % n;
    return Array.from({ length: n }, (_, i) => this.endpoints[(first + i) % n]!);
  }
}
