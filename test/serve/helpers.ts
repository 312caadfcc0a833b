/** Loopback upstreams and a raw HTTP client for the proxy tests. */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";

export interface Upstream {
  name: string;
  address: string;
  /** Requests received: method, path, headers, body. */
  seen: { method: string; path: string; headers: IncomingMessage["headers"]; body: string }[];
  close(): Promise<void>;
}

/** A loopback upstream answering with `handler` (default: 200 JSON naming itself). */
export async function startUpstream(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<Upstream> {
  const seen: Upstream["seen"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      if (handler) return handler(req, res, body);
      const text = JSON.stringify({ upstream: name, path: req.url, body });
      res.writeHead(200, { "content-type": "application/json", "x-upstream": name, "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    name, address, seen,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A 127.0.0.1 port with nothing listening (bound, then closed). */
export async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
  /** Body chunks as they arrived. */
  chunks: string[];
  error?: string;
}

/** One request through the proxy; resolves (never rejects) with what the client saw. */
export function send(target: string, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; onChunk?: (chunk: string, reply: Reply) => void } = {}): Promise<Reply> {
  const [host, port] = target.split(":");
  return new Promise((resolve) => {
    const reply: Reply = { status: 0, headers: {}, body: "", chunks: [] };
    const req = request({ host, port: Number(port), method: opts.method ?? "POST", path: opts.path ?? "/v1/chat/completions", headers: opts.headers ?? {}, agent: false }, (res) => {
      reply.status = res.statusCode ?? 0;
      reply.headers = res.headers;
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        reply.chunks.push(c);
        reply.body += c;
        opts.onChunk?.(c, reply);
      });
      res.on("end", () => resolve(reply));
      res.on("aborted", () => resolve({ ...reply, error: "aborted" }));
      res.on("error", (e) => resolve({ ...reply, error: reply.error ?? e.message }));
    });
    req.on("error", (e) => resolve({ ...reply, error: e.message }));
    req.end(opts.body);
  });
}

/** Writes raw bytes to the proxy and returns everything it answers before closing. */
export function rawExchange(target: string, bytes: string): Promise<string> {
  const [host, port] = target.split(":");
  return new Promise((resolve) => {
    const sock = connect(Number(port), host!, () => sock.end(bytes));
    let out = "";
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => (out += d));
    sock.on("close", () => resolve(out));
    sock.on("error", () => resolve(out));
  });
}
