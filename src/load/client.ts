/**
 * One streaming chat-completions call over HTTP/1.1, timing the first token (TTFT) and the whole
 * exchange, and collecting the reply text so the next turn can resend it.
 */
import { Agent, request } from "node:http";

/** Outcome of one request. */
export interface RequestRecord {
  /** Sequence number within the run. */
  id: number;
  /** Request class ("default", "sheddable", ...). */
  class: string;
  /** Start, relative to the run's start (ms). */
  startMs: number;
  /** Time to the first content token (ms); undefined when none arrived. */
  ttftMs?: number;
  /** Time to the end of the response (ms). */
  e2eMs: number;
  /** HTTP status (0 when the connection failed). */
  status: number;
  /** Shed by the router: 429, or 503 with no upstream reached. */
  shed: boolean;
  /** Output tokens received (SSE content chunks' text / 4 chars). */
  outputChars: number;
  /** Simulator that served it (its `x-sim-server` header), when known. */
  server?: string;
  /** What went wrong, for errors. */
  error?: string;
}

export interface ChatCall {
  target: string;
  path: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  timeoutMs: number;
  agent: Agent;
}

export interface ChatResult {
  status: number;
  ttftMs?: number;
  e2eMs: number;
  text: string;
  server?: string;
  error?: string;
  /** True when the reply came from the simulator (had `x-sim-server`). */
  upstream: boolean;
}

/** Sends one request with `stream: true` and reads the SSE reply. Never rejects. */
export function chatCall(call: ChatCall): Promise<ChatResult> {
  const [host, port] = call.target.split(":");
  const payload = Buffer.from(JSON.stringify({ ...call.body, stream: true }));
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<ChatResult, "e2eMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, e2eMs: performance.now() - t0 });
    };
    const req = request(
      {
        host, port: Number(port), method: "POST", path: call.path, agent: call.agent,
        headers: { "content-type": "application/json", "content-length": payload.length, ...call.headers },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const server = res.headers["x-sim-server"] as string | undefined;
        let ttft: number | undefined;
        let text = "";
        let buf = "";
        let raw = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (status !== 200) {
            raw += chunk;
            return;
          }
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf("\n\n")) >= 0) {
            const event = buf.slice(0, nl);
            buf = buf.slice(nl + 2);
            for (const line of event.split("\n")) {
              if (!line.startsWith("data:")) continue;
              const data = line.slice(5).trim();
              if (data === "[DONE]") continue;
              try {
                const j = JSON.parse(data) as { choices?: { delta?: { content?: string }; text?: string }[] };
                const piece = j.choices?.[0]?.delta?.content ?? j.choices?.[0]?.text ?? "";
                if (piece && ttft === undefined) ttft = performance.now() - t0;
                text += piece;
              } catch {
                /* a malformed event: ignore, the status and timing still count */
              }
            }
          }
        });
        res.on("end", () => finish({ status, ...(ttft !== undefined ? { ttftMs: ttft } : {}), text, ...(server ? { server } : {}), upstream: !!server, ...(status !== 200 ? { error: raw.slice(0, 200) } : {}) }));
        res.on("error", (e) => finish({ status, text, upstream: !!server, error: `response: ${e.message}` }));
        res.on("aborted", () => finish({ status, text, upstream: !!server, error: "response aborted" }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${call.timeoutMs} ms`));
    }, call.timeoutMs);
    req.on("error", (e) => finish({ status: 0, text: "", upstream: false, error: e.message }));
    req.end(payload);
  });
}
