/**
 * Envoy 1.35+ `allow_on_headers_stop_iteration`: with it, StopIteration from a headers callback is
 * kept, so the plugin reads the body while the headers wait and can still change them — what
 * body-based routing needs. Without it (Envoy's default), StopIteration is
 * StopAllIterationAndWatermark and the body is withheld until proxy_continue_stream.
 */
import { describe, expect, it } from "vitest";
import { BufferType, MapType, WasmResult } from "../../src/index.js";
import { testHost, type Guest } from "./helpers/test-module.js";

function body(g: Guest, size: number): string {
  const out = g.slot(8);
  g.call("proxy_get_buffer_bytes", BufferType.HttpRequestBody, 0, size, out, out + 4);
  return g.text(out, out + 4);
}

function addHeader(g: Guest, name: string, value: string): number {
  const [k, kl] = g.put(name);
  const [v, vl] = g.put(value);
  return g.call("proxy_replace_header_map_value", MapType.RequestHeaders, k, kl, v, vl);
}

/** A plugin that holds headers, buffers the body to the end, then sets a header from it. */
const bodyRouter = (seen: string[]) => ({
  proxy_on_request_headers: () => 1, // StopIteration
  proxy_on_request_body: (g: Guest, _ctx: number, size: number, eos: number) => {
    seen.push(`body ${size}:${eos}`);
    if (!eos) return 1; // StopIterationAndBuffer
    seen.push(`set ${addHeader(g, "x-model", body(g, size))}`);
    return 0;
  },
});

describe("allow_on_headers_stop_iteration", () => {
  it("on: the body reaches the plugin while headers wait, and headers set from the body go upstream", async () => {
    const seen: string[] = [];
    const { host } = await testHost(bodyRouter(seen), { allowOnHeadersStopIteration: true });
    const res = await host.request({ headers: { ":path": "/v1/chat/completions" }, body: ["lla", "ma"] });
    expect(seen).toEqual(["body 3:0", "body 5:1", `set ${WasmResult.Ok}`]);
    expect(res.request?.headers.get("x-model")).toBe("llama");
    expect(res.request?.bodyText).toBe("llama");
  });

  it("on: headers are released by the body callback that returns Continue; later writes fail", async () => {
    const seen: string[] = [];
    const { host } = await testHost(
      {
        proxy_on_request_headers: () => 1,
        proxy_on_request_body: (g: Guest, _ctx: number, _size: number, eos: number) => {
          seen.push(`set ${addHeader(g, "x-chunk", String(eos))}`);
          return 0;
        },
      },
      { allowOnHeadersStopIteration: true },
    );
    const res = await host.request({ headers: {}, body: ["a", "b"] });
    expect(seen).toEqual([`set ${WasmResult.Ok}`, `set ${WasmResult.BadArgument}`]);
    expect(res.request?.headers.get("x-chunk")).toBe("0");
    expect(res.request?.bodyText).toBe("ab");
  });

  it("off (Envoy's default): the same plugin never sees the body and the stream waits for continue", async () => {
    const seen: string[] = [];
    const { host } = await testHost(bodyRouter(seen));
    const pending = host.request({ headers: {}, body: ["lla", "ma"] });
    let done = false;
    void pending.then(() => (done = true));
    await host.settle();
    await host.advance(1000);
    expect(seen).toEqual([]);
    expect(done).toBe(false);
  });

  it("on, with end of stream on the headers: StopIteration waits for proxy_continue_stream as before", async () => {
    const { host, calls } = await testHost(
      {
        proxy_on_vm_start: (g: Guest) => (g.call("proxy_set_tick_period_milliseconds", 10), 1),
        proxy_on_request_headers: () => 1,
        proxy_on_tick: (g: Guest) => {
          g.call("proxy_set_effective_context", 2);
          g.call("proxy_continue_stream", 0);
        },
      },
      { allowOnHeadersStopIteration: true },
    );
    const pending = host.request({ headers: { ":method": "GET" } });
    await host.advance(10);
    const res = await pending;
    expect(res.upstreamCalled).toBe(true);
    expect(calls.some((c) => c.startsWith("proxy_on_request_body"))).toBe(false);
  });
});
