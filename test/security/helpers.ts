/**
 * Attack fixtures for the security suites: loopback HTTP and HTTPS servers (a self-signed
 * certificate for 127.0.0.1 and localhost, made with openssl) that record what reached them, and
 * a minimal registry whose every answer a test can bend.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTool, whichTool } from "../oci/helpers.js";

/** One request a fake server received. */
export interface Seen {
  method: string;
  path: string;
  authorization?: string;
}

export interface FakeServer {
  /** `http(s)://127.0.0.1:PORT` */
  origin: string;
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A self-signed certificate valid for 127.0.0.1 and localhost, or undefined when openssl is missing. */
export function selfSignedCert(): { key: string; cert: string } | undefined {
  const openssl = whichTool("openssl");
  if (!requireTool(openssl, "openssl (HTTPS registry)")) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "wayroute-cert-"));
  try {
    execFileSync(openssl, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts a loopback server (HTTPS with `tls`) that records each request, then runs `handler`. */
export async function startServer(handler: Handler, tls?: { key: string; cert: string }): Promise<FakeServer> {
  const seen: Seen[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks)));
  };
  const server: Server = tls ? createHttpsServer(tls, onRequest) : createHttpServer(onRequest);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Streams zeros until the client goes away or `limit` bytes went out, honouring back-pressure; resolves with the bytes written. */
export function streamZeros(res: ServerResponse, limit: number): Promise<number> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 << 10);
    let sent = 0;
    const done = () => resolve(sent);
    res.on("close", done);
    const pump = () => {
      while (sent < limit && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once("drain", pump);
          return;
        }
      }
      if (sent >= limit) res.end();
    };
    pump();
  });
}

/** Sends a registry error body. */
export function registryError(res: ServerResponse, status: number, headers: Record<string, string> = {}, message = "denied"): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify({ errors: [{ code: "DENIED", message }] }));
}

/** Test-process-wide: the credentials a test pushes with (never a real secret). */
export const USER = "alice";
export const PASSWORD = "correct-horse-battery";
export const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
