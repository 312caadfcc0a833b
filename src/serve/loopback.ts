/**
 * Sends one of the plugin's http calls to a real upstream over loopback TCP and hands the answer
 * back in the harness's delivered form. Connection failures become Envoy's 503 local reply.
 */
import { request } from "node:http";
import { HeaderMap, type DeliveredHttpResponse, type HttpCallRequest } from "../host/index.js";

const CONNECT_FAILURE = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

function localReply(status: number, body: string): DeliveredHttpResponse {
  const headers = new HeaderMap([[":status", String(status)], ["content-length", String(Buffer.byteLength(body))], ["content-type", "text/plain"]]);
  return { headers, body: new TextEncoder().encode(body), trailers: new HeaderMap() };
}

export function sendToLoopbackForServe(base: string, req: HttpCallRequest): Promise<DeliveredHttpResponse> {
  const url = new URL(req.path.startsWith("/") ? req.path : `/${req.path}`, base);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of req.headers.toPairs()) {
    if (k.startsWith(":")) continue;
    const cur = headers[k];
    headers[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  headers["host"] = req.authority;
  // The call's body is complete: its real length wins over a copied content-length header.
  delete headers["transfer-encoding"];
  headers["content-length"] = String(req.body.length);
  return new Promise((resolve) => {
    const r = request(url, { method: req.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const out = new HeaderMap([[":status", String(res.statusCode ?? 502)]]);
        for (let i = 0; i < res.rawHeaders.length; i += 2) out.add(res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!);
        resolve({ headers: out, body: new Uint8Array(Buffer.concat(chunks)), trailers: new HeaderMap() });
      });
      res.on("error", () => resolve(localReply(503, CONNECT_FAILURE)));
    });
    r.on("error", () => resolve(localReply(503, CONNECT_FAILURE)));
    if (req.timeoutMs > 0) r.setTimeout(req.timeoutMs, () => r.destroy());
    if (req.body.length) r.write(req.body);
    r.end();
  });
}
