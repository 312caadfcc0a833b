/**
 * `proxy_http_call` as Envoy implements it (`Context::httpCall`): the call belongs to the root
 * context of the calling context; the cluster must be known and the headers must carry `:method`,
 * `:path` and `:authority` (else BadArgument, as is a negative timeout); tokens are 4, 8, 12, ...
 * per VM; the answer arrives later (never inside the dispatching callback) at
 * `proxy_on_http_call_response(root_id, token, n_headers, body_size, n_trailers)`.
 *
 * A test answers calls with a handler per cluster: a canned response, a function (sync or async),
 * a loopback base URL (`"http://127.0.0.1:8080"`, sent with node:http), or `"manual"` (the call
 * stays pending until `call.respond()`/`call.fail()`). Outcomes as in Envoy:
 * - timeout (virtual clock passes `timeout_ms`): a 504 response with body `upstream request timeout`
 *   (the router's local reply inside Envoy's async client);
 * - loopback connection failure: a 503 with Envoy's `upstream connect error ...` body;
 * - `"reset"` (or a handler that throws): the failure path, zero headers, zero body, zero trailers,
 *   and `proxy_get_status` reports BrokenConnection / "reset".
 */
import http from "node:http";
import { WasmResult } from "./abi.js";
import { concatBytes } from "./buffers.js";
import { HeaderMap, decodePairs, type HeaderInput } from "./headers.js";
import { fromUtf8, utf8, type GuestMemory } from "./memory.js";

/** A call as the cluster (upstream) receives it. */
export interface HttpCallRequest {
  cluster: string;
  token: number;
  worker: number;
  method: string;
  path: string;
  authority: string;
  headers: HeaderMap;
  body: Uint8Array;
  bodyText: string;
  trailers: HeaderMap;
  /** 0 means no timeout. */
  timeoutMs: number;
}

/** A response a handler gives. `status` defaults to 200. */
export interface HttpCallResponse {
  status?: number;
  headers?: HeaderInput;
  body?: string | Uint8Array;
  trailers?: HeaderInput;
}

/** What a handler may produce: a response, or an Envoy failure mode. */
export type HttpCallOutcome = HttpCallResponse | "reset" | "timeout" | "pending";

/**
 * How a cluster answers: a canned response, a function, a loopback base URL, or `"manual"`.
 */
export type ClusterHandler =
  | HttpCallResponse
  | string
  | ((request: HttpCallRequest) => HttpCallOutcome | Promise<HttpCallOutcome>);

export type HttpCallState = "pending" | "answered" | "failed" | "timed-out" | "cancelled";

/** The response as delivered to the plugin. */
export interface DeliveredHttpResponse {
  headers: HeaderMap;
  body: Uint8Array;
  trailers: HeaderMap;
}

/** One dispatched call; tests can inspect it and, for `"manual"` clusters, answer it. */
export class HttpCallRecord {
  state: HttpCallState = "pending";
  /** What the plugin received (undefined until answered; null for the failure path). */
  delivered?: DeliveredHttpResponse | null;

  constructor(
    readonly request: HttpCallRequest,
    readonly rootContextId: number,
    private readonly deliver: (record: HttpCallRecord, response: DeliveredHttpResponse | null, state: HttpCallState) => void,
  ) {}

  get token(): number {
    return this.request.token;
  }
  get cluster(): string {
    return this.request.cluster;
  }

  /** Answers a pending call (no-op when it is no longer pending). */
  respond(response: HttpCallResponse = {}): void {
    if (this.state !== "pending") return;
    this.deliver(this, toDelivered(response), "answered");
  }

  /** Fails a pending call the way a reset does (zero headers and body). */
  fail(): void {
    if (this.state !== "pending") return;
    this.deliver(this, null, "failed");
  }
}

/** Builds the response the plugin sees: `:status` first, then the given headers. */
export function toDelivered(response: HttpCallResponse): DeliveredHttpResponse {
  const headers = new HeaderMap();
  headers.add(":status", String(response.status ?? 200));
  for (const [k, v] of new HeaderMap(response.headers).toPairs()) if (k !== ":status") headers.add(k, v);
  const body = typeof response.body === "string" ? utf8(response.body) : (response.body ?? new Uint8Array(0));
  return { headers, body, trailers: new HeaderMap(response.trailers) };
}

/** Envoy's router local reply, as its async client hands it to the plugin. */
export function envoyLocalReply(status: number, body: string): DeliveredHttpResponse {
  return toDelivered({
    status,
    headers: [
      ["content-length", String(utf8(body).length)],
      ["content-type", "text/plain"],
    ],
    body,
  });
}

const CONNECT_FAILURE_BODY = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

/**
 * Sends a call to a loopback base URL with node:http. The call's body is complete, so its real
 * length replaces any `content-length` the plugin copied from elsewhere (a stale one would leave
 * the upstream waiting). A connection failure is Envoy's 503 local reply; `realTimeoutMs` (for
 * hosts on real time, such as the local proxy) ends the call with Envoy's 504 timeout reply.
 */
export function sendToLoopback(base: string, req: HttpCallRequest, realTimeoutMs = 0): Promise<DeliveredHttpResponse> {
  const url = new URL(req.path.startsWith("/") ? req.path : `/${req.path}`, base);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of req.headers.toPairs()) {
    if (k.startsWith(":")) continue;
    const cur = headers[k];
    headers[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  headers["host"] = req.authority;
  delete headers["transfer-encoding"];
  headers["content-length"] = String(req.body.length);
  return new Promise((resolve) => {
    let timedOut = false;
    const r = http.request(url, { method: req.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const out = new HeaderMap();
        out.add(":status", String(res.statusCode ?? 502));
        for (let i = 0; i < res.rawHeaders.length; i += 2) out.add(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        resolve({ headers: out, body: new Uint8Array(Buffer.concat(chunks)), trailers: new HeaderMap(res.rawTrailers.length ? Object.fromEntries(pairsOf(res.rawTrailers)) : undefined) });
      });
      res.on("error", () => resolve(timedOut ? envoyLocalReply(504, "upstream request timeout") : envoyLocalReply(503, CONNECT_FAILURE_BODY)));
    });
    r.on("error", () => resolve(timedOut ? envoyLocalReply(504, "upstream request timeout") : envoyLocalReply(503, CONNECT_FAILURE_BODY)));
    if (realTimeoutMs > 0) {
      r.setTimeout(realTimeoutMs, () => {
        timedOut = true;
        r.destroy();
      });
    }
    if (req.body.length) r.write(req.body);
    r.end();
  });
}

function pairsOf(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** `proxy_http_call` and the gRPC calls (which answer Unimplemented: no gRPC clusters here). */
/** What the http-call imports need from the VM that links them. */
export interface HttpCallVm {
  readonly mem: GuestMemory;
  readonly worker: number;
  readonly core: { hasCluster(name: string): boolean };
  nextHttpCallToken(): number;
  startHttpCall(request: HttpCallRequest): void;
}

export function httpCallImports(vm: HttpCallVm): Record<string, (...args: number[]) => number> {
  const mem = vm.mem;
  return {
    proxy_http_call(up, us, hp, hs, bp, bs, tp, ts, timeout, tokenPtr) {
      const cluster = mem.readString(up, us);
      const body = mem.read(bp, bs);
      const headerBytes = mem.read(hp, hs);
      const trailerBytes = mem.read(tp, ts);
      if (cluster === null || body === null || headerBytes === null || trailerBytes === null) {
        return WasmResult.InvalidMemoryAccess;
      }
      // Envoy writes the token slot first to validate it before starting anything.
      if (!mem.setU32(tokenPtr, 0)) return WasmResult.InvalidMemoryAccess;
      const timeoutMs = timeout | 0;
      if (timeoutMs < 0) return WasmResult.BadArgument;
      if (!vm.core.hasCluster(cluster)) return WasmResult.BadArgument;
      const headers = new HeaderMap(decodePairs(headerBytes));
      const method = headers.get(":method");
      const path = headers.get(":path");
      const authority = headers.get(":authority");
      if (method === undefined || path === undefined || authority === undefined) return WasmResult.BadArgument;
      // Envoy: `setContentLength` on the message, which keeps the header where the plugin put it.
      if (body.length > 0) headers.setInPlace("content-length", String(body.length));
      const token = vm.nextHttpCallToken();
      const request: HttpCallRequest = {
        cluster,
        token,
        worker: vm.worker,
        method,
        path,
        authority,
        headers,
        body,
        bodyText: fromUtf8(body),
        trailers: new HeaderMap(decodePairs(trailerBytes)),
        timeoutMs,
      };
      vm.startHttpCall(request);
      mem.setU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    proxy_grpc_call(...args) {
      return grpcUnimplemented(vm, [args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!, args[7]!, args[8]!, args[9]!]);
    },
    proxy_grpc_stream(...args) {
      return grpcUnimplemented(vm, args.slice(0, 8));
    },
    proxy_grpc_send(_token, mp, ms) {
      if (mem.read(mp!, ms!) === null) return WasmResult.InvalidMemoryAccess;
      return WasmResult.NotFound;
    },
    proxy_grpc_cancel() {
      return WasmResult.NotFound;
    },
    proxy_grpc_close() {
      return WasmResult.NotFound;
    },
  };
}

function grpcUnimplemented(vm: HttpCallVm, ptrSizes: number[]): number {
  for (let i = 0; i + 1 < ptrSizes.length; i += 2) {
    if (vm.mem.read(ptrSizes[i]!, ptrSizes[i + 1]!) === null) return WasmResult.InvalidMemoryAccess;
  }
  return WasmResult.Unimplemented;
}

export { concatBytes };
