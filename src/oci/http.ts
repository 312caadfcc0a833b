/**
 * The HTTP exchange under the registry client, on `node:http`/`node:https` rather than `fetch` so
 * that redirects are never followed behind our back (each hop is checked for a downgrade and
 * loses its Authorization across origins), bodies are streamed with a byte cap instead of read
 * whole, and a private CA can be trusted per client.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { OciError } from "./errors.js";

/** One response: status, lower-cased headers, and the body still unread. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** The URL that answered. */
  url: URL;
}

export interface HttpSendOptions {
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Idle timeout: the request fails when no byte moves for this long (ms). */
  timeoutMs: number;
  /** CA certificates (PEM) trusted for HTTPS instead of the default roots. */
  ca?: string | Buffer;
}

/** Sends one request; resolves when the response headers arrived. Never follows redirects. */
export function send(url: URL, opts: HttpSendOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const make = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = make(
      url,
      { method: opts.method, headers: opts.headers, ...(url.protocol === "https:" && opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        // The idle timeout keeps guarding the body: a registry that stalls mid-blob fails the read.
        res.setTimeout(opts.timeoutMs, () => res.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      },
    );
    req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** First value of a response header. */
export function headerValue(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Discards a body so the socket can be reused; never throws. */
export function discard(res: HttpResponse): void {
  res.body.resume();
  res.body.on("error", () => undefined);
}

/**
 * Reads a body of at most `cap` bytes. A declared or actual length over the cap aborts the
 * transfer at once (the socket is destroyed, so at most one more chunk is buffered) with
 * E_TOO_LARGE naming `what`.
 */
export async function readCapped(res: HttpResponse, cap: number, what: string): Promise<Buffer> {
  const declared = Number(headerValue(res, "content-length") ?? NaN);
  const tooLarge = (n: string) => new OciError("E_TOO_LARGE", `${what} is larger than the ${cap} bytes allowed (${n})`);
  if (Number.isFinite(declared) && declared > cap) {
    res.body.destroy();
    throw tooLarge(`Content-Length ${declared}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > cap) {
        res.body.destroy();
        throw tooLarge(`more than ${cap} bytes were sent`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof OciError) throw err;
    throw new OciError("E_UNREACHABLE", `${what}: the transfer failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!res.body.complete) throw new OciError("E_UNREACHABLE", `${what}: the connection closed before the body was complete`);
  return Buffer.concat(chunks, total);
}

/** Reads a body as text, keeping at most `cap` bytes (for error details); never throws. */
export async function readSomeText(res: HttpResponse, cap = 64 << 10): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= cap) {
        res.body.destroy();
        break;
      }
    }
  } catch {
    /* a broken error body is no worse than none */
  }
  return Buffer.concat(chunks).subarray(0, cap).toString("utf8");
}
