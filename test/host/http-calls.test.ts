/** proxy_http_call validation, tokens, delivery to the root context, handlers. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MapType, WasmResult, encodePairs } from "../../src/index.js";
import { testHost, type Guest } from "./helpers/test-module.js";

function dispatch(g: Guest, cluster: string, headers: Array<[string, string]>, body = "", timeout = 1000): [number, number] {
  const [c, cl] = g.put(cluster);
  const [h, hl] = g.put(encodePairs(headers));
  const [b, bl] = body ? g.put(body) : [0, 0];
  const [t, tl] = g.put(encodePairs([]));
  const out = g.slot(4);
  const st = g.call("proxy_http_call", c, cl, h, hl, b, bl, t, tl, timeout, out);
  return [st, g.u32(out)];
}

const GOOD: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/x"],
  [":authority", "svc"],
];

let server: http.Server;
let base = "";
beforeAll(async () => {
  // Like a model server, it reads the whole request body before answering.
  server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("x-upstream-path", req.url ?? "");
      res.end(`hello ${req.headers.host}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("proxy_http_call", () => {
  it("validates like Envoy and hands out tokens 4, 8, ... per VM", async () => {
    const r: unknown[] = [];
    await testHost(
      {
        proxy_on_vm_start: (g) => {
          r.push(dispatch(g, "unknown", GOOD));
          r.push(dispatch(g, "c", GOOD.filter(([k]) => k !== ":path")));
          r.push(dispatch(g, "c", GOOD.filter(([k]) => k !== ":method")));
          r.push(dispatch(g, "c", GOOD.filter(([k]) => k !== ":authority")));
          r.push(dispatch(g, "c", [...GOOD.filter(([k]) => k !== ":authority"), ["host", "svc"]]));
          r.push(dispatch(g, "c", GOOD, "", -1));
          r.push(dispatch(g, "c", GOOD));
          r.push(dispatch(g, "c", [...GOOD.slice(0, 2), [":authority", ""]]));
          return 1;
        },
      },
      { clusters: { c: "manual" } },
    );
    const bad = [WasmResult.BadArgument, 0];
    const oneVm = [bad, bad, bad, bad, bad, bad, [0, 4], [0, 8]];
    // The canary, the main thread's VM and the worker's each start, each with its own tokens.
    expect(r).toEqual([...oneVm, ...oneVm, ...oneVm]);
  });

  it("delivers answers to the root context later, with headers, body and trailers readable there", async () => {
    const seen: string[] = [];
    const { host } = await testHost(
      {
        proxy_on_request_headers: (g) => {
          const [st, token] = dispatch(g, "svc", GOOD, "ping");
          seen.push(`dispatched ${st} ${token}`);
          return 1; // stop until the answer
        },
        proxy_on_http_call_response: (g, root, token, nh, nb) => {
          const out = g.slot(8);
          g.call("proxy_get_header_map_pairs", MapType.HttpCallResponseHeaders, out, out + 4);
          const headers = new TextDecoder().decode(g.result(out, out + 4)).replace(/\0/g, "|");
          g.call("proxy_get_buffer_bytes", 4, 0, nb, out, out + 4);
          seen.push(`response root=${root} token=${token} headers=${nh} body=${g.text(out, out + 4)} ${headers.slice(-26)}`);
          // Resume the stream that made the call.
          g.call("proxy_set_effective_context", 2);
          g.call("proxy_continue_stream", 0);
        },
      },
      { clusters: { svc: async (req) => ({ status: 202, headers: { "x-got": req.bodyText }, body: "pong", trailers: { t: "1" } }) } },
    );
    const res = await host.request();
    expect(seen[0]).toBe("dispatched 0 4");
    expect(seen[1]).toMatch(/^response root=1 token=4 headers=2 body=pong /);
    expect(seen[1]).toContain("x-got|ping|");
    expect(host.httpCalls[0]!.request.headers.get("content-length")).toBe("4");
    expect(host.httpCalls[0]!.state).toBe("answered");
    expect(res.upstreamCalled).toBe(true);
  });

  it("sends to a loopback upstream over real HTTP", async () => {
    let body = "";
    const { host } = await testHost(
      {
        proxy_on_vm_start: (g) => (dispatch(g, "real", [[":method", "GET"], [":path", "/p?q=1"], [":authority", "my.svc"]]), 1),
        proxy_on_http_call_response: (g, _root, _token, _nh, nb) => {
          const out = g.slot(8);
          g.call("proxy_get_buffer_bytes", 4, 0, nb, out, out + 4);
          body = g.text(out, out + 4);
        },
      },
      { clusters: { real: base } },
    );
    await host.settle();
    expect(body).toBe("hello my.svc");
    expect(host.httpCalls[0]!.delivered?.headers.get("x-upstream-path")).toBe("/p?q=1");
  });

  it("sends the real body length to a loopback upstream, not a content-length the plugin copied", async () => {
    let body = "";
    const { host } = await testHost(
      {
        proxy_on_vm_start: (g) => (dispatch(g, "real", [[":method", "GET"], [":path", "/m"], [":authority", "my.svc"], ["content-length", "100"]]), 1),
        proxy_on_http_call_response: (g, _root, _token, _nh, nb) => {
          const out = g.slot(8);
          g.call("proxy_get_buffer_bytes", 4, 0, nb, out, out + 4);
          body = g.text(out, out + 4);
        },
      },
      { clusters: { real: base } },
    );
    await host.settle();
    expect(body).toBe("hello my.svc");
  });

  it("a recorded call keeps the plugin's header order; content-length is set where the plugin put it", async () => {
    const { host } = await testHost(
      {
        proxy_on_vm_start: (g) => {
          dispatch(g, "c", [[":method", "POST"], [":path", "/a"], [":authority", "svc"], ["x-first", "1"], ["content-length", "999"], ["x-last", "2"]], "abc");
          dispatch(g, "c", [[":method", "POST"], [":path", "/b"], [":authority", "svc"], ["x-first", "1"]], "abcd");
          return 1;
        },
      },
      { clusters: { c: "manual" } },
    );
    expect(host.httpCalls[0]!.request.headers.toPairs()).toEqual([
      [":method", "POST"], [":path", "/a"], [":authority", "svc"], ["x-first", "1"], ["content-length", "3"], ["x-last", "2"],
    ]);
    expect(host.httpCalls[1]!.request.headers.toPairs()).toEqual([
      [":method", "POST"], [":path", "/b"], [":authority", "svc"], ["x-first", "1"], ["content-length", "4"],
    ]);
  });

  it("request() forwards to a loopback upstream over real HTTP", async () => {
    const { host } = await testHost({});
    const res = await host.request({ headers: { ":path": "/up", ":authority": "up.svc" }, upstream: base });
    expect(res.response.status).toBe(200);
    expect(res.response.bodyText).toBe("hello up.svc");
    expect(res.response.headers.get("x-upstream-path")).toBe("/up");
  });

  it("timeout gives Envoy's 504 local reply at the virtual deadline; reset gives zero headers and BrokenConnection status", async () => {
    const seen: string[] = [];
    const { host } = await testHost(
      {
        proxy_on_vm_start: (g) => {
          dispatch(g, "slow", GOOD, "", 300);
          dispatch(g, "broken", GOOD, "", 300);
          return 1;
        },
        proxy_on_http_call_response: (g, _root, token, nh, nb) => {
          const code = g.slot(4);
          const out = g.slot(8);
          g.call("proxy_get_status", code, out, out + 4);
          const now = g.slot(8);
          g.call("proxy_get_current_time_nanoseconds", now);
          const ms = Number(g.u64(now) / 1_000_000n) - Date.UTC(2026, 0, 1);
          seen.push(`${token}:${nh}:${nb}:${g.u32(code)}:${g.text(out, out + 4)}@${ms}`);
        },
      },
      { clusters: { slow: () => "pending", broken: () => "reset" } },
    );
    // The canary, the main thread's VM and the worker's each made both calls; only the two live
    // VMs hear the answers (the canary was dropped), but every call is recorded.
    await host.settle();
    expect(seen).toEqual(["8:0:0:11:reset@0", "8:0:0:11:reset@0"]);
    await host.advance(299);
    expect(seen).toHaveLength(2);
    await host.advance(1);
    expect(seen.slice(2)).toEqual(["4:3:24:504:@300", "4:3:24:504:@300"]);
    expect(host.httpCalls.map((c) => c.state)).toEqual(["timed-out", "failed", "timed-out", "failed", "timed-out", "failed"]);
  });
});
