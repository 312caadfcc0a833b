/** The HTTP stream lifecycle as Envoy drives a Wasm filter. */
import { describe, expect, it } from "vitest";
import { BufferType, MapType, WasmResult, encodePairs } from "../../src/index.js";
import { testHost, type Guest } from "./helpers/test-module.js";

function body(g: Guest, type: number, size: number): string {
  const out = g.slot(8);
  g.call("proxy_get_buffer_bytes", type, 0, size, out, out + 4);
  return g.text(out, out + 4);
}

describe("stream lifecycle", () => {
  it("creates the context lazily and ends with on_log, on_done, on_delete", async () => {
    const { host, calls } = await testHost({});
    calls.length = 0;
    await host.request({ headers: { a: "b" }, body: ["x", "yz"], trailers: { t: "1" }, upstream: { body: "resp", trailers: { rt: "2" } } });
    expect(calls).toEqual([
      "proxy_on_context_create(2,1)",
      "proxy_on_request_headers(2,5,0)",
      "proxy_on_request_body(2,1,0)",
      "proxy_on_request_body(2,2,0)",
      "proxy_on_request_trailers(2,1)",
      "proxy_on_response_headers(2,1,0)",
      "proxy_on_response_body(2,4,0)",
      "proxy_on_response_trailers(2,1)",
      "proxy_on_log(2)",
      "proxy_on_done(2)",
      "proxy_on_delete(2)",
    ]);
  });

  it("body Pause (StopIterationAndBuffer) buffers; the callback sees the total size; Continue forwards all", async () => {
    const seen: string[] = [];
    const { host, calls } = await testHost({
      proxy_on_request_body: (g, _ctx, size, eos) => {
        seen.push(`${size}:${eos}:${body(g, BufferType.HttpRequestBody, size)}`);
        return eos ? 0 : 1;
      },
    });
    const res = await host.request({ headers: {}, body: ["ab", "cd", "e"] });
    expect(seen).toEqual(["2:0:ab", "4:0:abcd", "5:1:abcde"]);
    expect(res.request?.bodyText).toBe("abcde");
    expect(calls.filter((c) => c.startsWith("proxy_on_request_body"))).toHaveLength(3);
  });

  it("headers StopIteration holds body and trailers until proxy_continue_stream, then delivers them as one chunk", async () => {
    const seen: string[] = [];
    const { host } = await testHost({
      proxy_on_vm_start: (g) => (g.call("proxy_set_tick_period_milliseconds", 100), 1),
      proxy_on_request_headers: () => 1,
      proxy_on_request_body: (g, _ctx, size, eos) => {
        seen.push(`body ${size}:${eos}:${body(g, BufferType.HttpRequestBody, size)}`);
        return 0;
      },
      proxy_on_request_trailers: (_g, _ctx, n) => (seen.push(`trailers ${n}`), 0),
      proxy_on_tick: (g) => {
        // The main thread's VM ticks first and has no stream: context 2 is unknown there.
        if (g.call("proxy_set_effective_context", 2) !== 0) return void seen.push("tick without the stream");
        seen.push("tick");
        // While the stream is stopped, its request headers are still held: modify them.
        const [k, kl] = g.put("x-added-on-tick");
        const [v, vl] = g.put("1");
        seen.push(`add ${g.call("proxy_add_header_map_value", MapType.RequestHeaders, k, kl, v, vl)}`);
        g.call("proxy_continue_stream", 0);
      },
    });
    const pending = host.request({ headers: {}, body: ["ab", "cd"], trailers: { t: "1" } });
    await host.settle();
    expect(seen).toEqual([]);
    await host.advance(100);
    const res = await pending;
    expect(seen).toEqual(["tick without the stream", "tick", "add 0", "body 4:0:abcd", "trailers 1"]);
    expect(res.request?.headers.get("x-added-on-tick")).toBe("1");
    expect(res.request?.bodyText).toBe("abcd");
    expect(res.request?.trailers.get("t")).toBe("1");
  });

  it("a local reply sent for another (effective) stream stops the running callback's stream too (VM-wide stopNextIteration)", async () => {
    // Stream 2 pauses; stream 3's request-headers callback answers stream 2 with 429 through the
    // effective context and returns Continue. proxy-wasm-cpp-host raises stopNextIteration for
    // the VM on any send_local_response, so stream 3's Continue becomes StopAllIterationAndWatermark.
    const { host } = await testHost({
      proxy_on_request_headers: (g, ctx) => {
        if (ctx === 2) return 1;
        expect(g.call("proxy_set_effective_context", 2)).toBe(0);
        const [b, bl] = g.put("expired");
        const [d, dl] = g.put("expired");
        expect(g.call("proxy_send_local_response", 429, d, dl, b, bl, 0, 0, -1)).toBe(0);
        expect(g.call("proxy_set_effective_context", ctx)).toBe(0);
        return 0;
      },
    });
    const first = host.worker(0).newStream();
    expect(first.requestHeaders({ ":method": "GET", ":path": "/", ":authority": "a", ":scheme": "http" }, true)).toBe("pause");
    const second = host.worker(0).newStream();
    expect(second.requestHeaders({ ":method": "GET", ":path": "/", ":authority": "a", ":scheme": "http" }, true)).toBe("pause");
    expect(first.result().response.status).toBe(429);
    expect(second.forwardedRequest).toBeUndefined();
    expect(second.paused("request")).toBe(true);
  });

  it("a local reply from request headers: return value ignored, response callbacks run on the reply, no upstream", async () => {
    const { host, calls } = await testHost({
      proxy_on_request_headers: (g) => {
        const [b, bl] = g.put("denied");
        const [h, hl] = g.put(encodePairs([["X-Reason", "policy"]]));
        const [d, dl] = g.put("my details");
        expect(g.call("proxy_send_local_response", 429, d, dl, b, bl, h, hl, -1)).toBe(0);
        return 0; // ignored: Envoy stops the stream after a local reply
      },
      proxy_on_response_headers: (g) => {
        const [k, kl] = g.put("x-from-response-callback");
        const [v, vl] = g.put("yes");
        g.call("proxy_add_header_map_value", MapType.ResponseHeaders, k, kl, v, vl);
        return 0;
      },
      proxy_on_response_body: (g, _c, size) => {
        const [p, pl] = g.put("!");
        g.call("proxy_set_buffer_bytes", BufferType.HttpResponseBody, size, 0, p, pl);
        return 0;
      },
    });
    calls.length = 0;
    const res = await host.request({ headers: {}, body: "never seen" });
    expect(res.upstreamCalled).toBe(false);
    expect(res.request).toBeNull();
    expect(res.localReply).toMatchObject({ status: 429, bodyText: "denied", details: "my_details", headers: [["x-reason", "policy"]] });
    expect(res.response.status).toBe(429);
    expect(res.response.bodyText).toBe("denied!");
    // Envoy 1.40 (observed): the plugin's headers right after :status, then content-length and
    // content-type.
    expect(res.response.headers.toPairs()).toEqual([
      [":status", "429"],
      ["x-reason", "policy"],
      ["content-length", "6"],
      ["content-type", "text/plain"],
      ["x-from-response-callback", "yes"],
    ]);
    expect(calls.some((c) => c.startsWith("proxy_on_request_body"))).toBe(false);
  });

  it("a local reply whose plugin headers carry a content-type gets no text/plain (as Envoy 1.40)", async () => {
    const { host } = await testHost({
      proxy_on_request_headers: (g) => {
        const [b, bl] = g.put('{"error":"shed"}');
        const [h, hl] = g.put(encodePairs([["content-type", "application/json"], ["x-reason", "shed"]]));
        g.call("proxy_send_local_response", 429, 0, 0, b, bl, h, hl, -1);
        return 0;
      },
    });
    const res = await host.request({ headers: {} });
    expect(res.response.headers.toPairs()).toEqual([
      [":status", "429"],
      ["content-type", "application/json"],
      ["x-reason", "shed"],
      ["content-length", "16"],
    ]);
  });

  it("a local reply from response headers replaces the response directly", async () => {
    const { host, calls } = await testHost({
      proxy_on_response_headers: (g) => {
        const [b, bl] = g.put("replaced");
        g.call("proxy_send_local_response", 502, 0, 0, b, bl, 0, 0, -1);
        return 0;
      },
    });
    calls.length = 0;
    const res = await host.request({ upstream: { status: 200, body: "original" } });
    expect(res.upstreamCalled).toBe(true);
    expect(res.response.status).toBe(502);
    expect(res.response.bodyText).toBe("replaced");
    expect(calls.filter((c) => c.startsWith("proxy_on_response"))).toEqual(["proxy_on_response_headers(2,1,0)"]);
  });

  it("set_buffer_bytes conventions: prepend (0,0), replace (0,>=size), append (>=size), middle is BadArgument; reads clamp", async () => {
    const r: unknown[] = [];
    const { host } = await testHost({
      proxy_on_request_body: (g, _c, size) => {
        const [p, pl] = g.put("<");
        const [a, al] = g.put(">");
        r.push(g.call("proxy_set_buffer_bytes", 0, 0, 0, p, pl));
        r.push(g.call("proxy_set_buffer_bytes", 0, 0x7fffffff, 0, a, al));
        r.push(g.call("proxy_set_buffer_bytes", 0, 1, 1, a, al));
        r.push(body(g, 0, 0x7fffffff));
        r.push(body(g, 0, 2));
        const out = g.slot(8);
        r.push([g.call("proxy_get_buffer_bytes", 0, 100, 5, out, out + 4), g.u32(out)]);
        const status = g.slot(8);
        r.push([g.call("proxy_get_buffer_status", 0, status, status + 4), g.u32(status)]);
        r.push(g.call("proxy_get_buffer_bytes", BufferType.HttpCallResponseBody, 0, 1, out, out + 4));
        void size;
        return 0;
      },
    });
    const res = await host.request({ body: "abc" });
    expect(r).toEqual([0, 0, WasmResult.BadArgument, "<abc>", "<a", [0, 0], [0, 5], WasmResult.NotFound]);
    expect(res.request?.bodyText).toBe("<abc>");
    const { host: h2 } = await testHost({
      proxy_on_request_body: (g) => {
        const [p, pl] = g.put("new");
        g.call("proxy_set_buffer_bytes", 0, 0, 0x7fffffff, p, pl);
        return 0;
      },
    });
    expect((await h2.request({ body: "old body" })).request?.bodyText).toBe("new");
  });

  it("proxy_close_stream resets the stream: no response", async () => {
    const { host, calls } = await testHost({ proxy_on_request_headers: (g) => (g.call("proxy_close_stream", 0), 1) });
    calls.length = 0;
    const res = await host.request();
    expect(res.reset).toBe("wasm_close_stream");
    expect(res.response.status).toBe(0);
    expect(res.upstreamCalled).toBe(false);
    expect(calls.slice(-3)).toEqual(["proxy_on_log(2)", "proxy_on_done(2)", "proxy_on_delete(2)"]);
  });

  it("in on_log the request and response headers are readable but not writable", async () => {
    const r: unknown[] = [];
    const { host } = await testHost({
      proxy_on_log: (g) => {
        const out = g.slot(8);
        const [k, kl] = g.put(":status");
        r.push(g.call("proxy_get_header_map_value", MapType.ResponseHeaders, k, kl, out, out + 4), g.text(out, out + 4));
        const [m, ml] = g.put("x-req");
        r.push(g.call("proxy_get_header_map_value", MapType.RequestHeaders, m, ml, out, out + 4), g.text(out, out + 4));
        r.push(g.call("proxy_add_header_map_value", MapType.RequestHeaders, m, ml, m, ml));
      },
    });
    await host.request({ headers: { "x-req": "v" }, upstream: { status: 204 } });
    expect(r).toEqual([0, "204", 0, "v", WasmResult.BadArgument]);
  });

  it("low-level API: drive Envoy's filter calls by hand", async () => {
    const { host } = await testHost({ proxy_on_request_headers: () => 1, proxy_on_response_body: (_g, _c, _s, eos) => (eos ? 0 : 1) });
    const s = host.worker(0).newStream();
    expect(s.requestHeaders({ ":path": "/" }, false)).toBe("pause");
    expect(s.requestBody("abc", true)).toBe("pause");
    expect(s.responseHeaders({ ":status": "200" }, false)).toBe("continue");
    expect(s.responseBody("x", false)).toBe("pause");
    expect(s.responseBody("y", true)).toBe("complete");
    expect(s.finalResponse?.bodyText).toBe("xy");
    s.finish();
    expect(s.finished).toBe(true);
  });

  it("foreign functions: clear_route_cache is counted per stream; user functions get args and return results", async () => {
    const r: unknown[] = [];
    const { host } = await testHost(
      {
        proxy_on_request_headers: (g) => {
          const [n, nl] = g.put("clear_route_cache");
          const out = g.slot(8);
          r.push(g.call("proxy_call_foreign_function", n, nl, 0, 0, out, out + 4), g.u32(out), g.u32(out + 4));
          const [e, el] = g.put("echo_upper");
          const [a, al] = g.put("abc");
          r.push(g.call("proxy_call_foreign_function", e, el, a, al, out, out + 4), g.text(out, out + 4));
          const [u, ul] = g.put("nope");
          r.push(g.call("proxy_call_foreign_function", u, ul, a, al, out, out + 4));
          return 0;
        },
      },
      { foreignFunctions: { echo_upper: (args) => new TextDecoder().decode(args).toUpperCase() } },
    );
    const res = await host.request();
    expect(r).toEqual([0, 0, 0, 0, "ABC", WasmResult.NotFound]);
    expect(res.clearRouteCacheCount).toBe(1);
    expect(res.foreignCalls.map((c) => `${c.name}:${c.status}`)).toEqual(["clear_route_cache:0", "echo_upper:0", "nope:1"]);
  });
});

describe("stream edge cases", () => {
  it("body before headers never reaches the VM (Envoy: no context yet)", async () => {
    const { host, calls } = await testHost({});
    calls.length = 0;
    const s = host.worker(0).newStream();
    expect(s.requestBody("aaaa", false)).toBe("continue");
    expect(calls).toEqual([]);
  });
});

describe("gRPC local replies", () => {
  it("a local reply to a gRPC request is a trailers-only gRPC response", async () => {
    const { host } = await testHost({
      proxy_on_request_headers: (g) => {
        const [b, bl] = g.put("no capacity");
        g.call("proxy_send_local_response", 429, 0, 0, b, bl, 0, 0, -1);
        return 0;
      },
    });
    const res = await host.request({ headers: { "content-type": "application/grpc" } });
    expect(res.response.status).toBe(200);
    expect(res.response.headers.get("grpc-status")).toBe("14");
    expect(res.response.headers.get("grpc-message")).toBe("no%20capacity");
    expect(res.response.body.length).toBe(0);
    expect(res.localReply?.status).toBe(429);
  });
});

describe("platform fact: request headers cannot change after body callbacks start", () => {
  it("pausing headers to wait for the body never delivers the body; continuing releases the headers", async () => {
    const seen: string[] = [];
    const { host } = await testHost({
      proxy_on_request_headers: () => 1, // wait for the body (does not work in Envoy)
      proxy_on_request_body: () => (seen.push("body"), 0),
    });
    let done = false;
    void host.request({ body: "{}" }).then(() => (done = true));
    await host.settle();
    expect(seen).toEqual([]);
    expect(done).toBe(false);

    const r: number[] = [];
    const { host: h2 } = await testHost({
      proxy_on_request_body: (g) => {
        const [k, kl] = g.put("x-model");
        const [v, vl] = g.put("m");
        r.push(g.call("proxy_replace_header_map_value", MapType.RequestHeaders, k, kl, v, vl));
        return 0;
      },
    });
    const res = await h2.request({ body: "{}" });
    expect(r).toEqual([WasmResult.BadArgument]);
    expect(res.request?.headers.has("x-model")).toBe(false);
  });
});

describe("continue from inside the pausing callback", () => {
  it("proxy_continue_stream called in on_request_headers that returns Pause resumes after the callback", async () => {
    const { host } = await testHost({
      proxy_on_request_headers: (g) => {
        expect(g.call("proxy_continue_stream", 0)).toBe(0);
        return 1;
      },
    });
    const res = await host.request({ body: "x" });
    expect(res.upstreamCalled).toBe(true);
    expect(res.request?.bodyText).toBe("x");
  });
});
