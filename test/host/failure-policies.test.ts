/** VM traps and Envoy's failure policies (FAIL_CLOSE, FAIL_OPEN, FAIL_RELOAD). */
import { describe, expect, it } from "vitest";
import type { FailStrategy } from "../../src/index.js";
import { testHost } from "./helpers/test-module.js";

/** A module whose on_request_headers executes `unreachable` when the request has `x-crash`. */
async function crashing(failStrategy: FailStrategy, workers = 1) {
  let crash = false;
  const t = await testHost(
    {
      proxy_on_request_headers: (g) => {
        const [k, kl] = g.put("x-crash");
        const out = g.slot(8);
        crash = g.call("proxy_get_header_map_value", 0, k, kl, out, out + 4) === 0;
        return crash ? -99 : 0;
      },
      proxy_on_response_headers: (g) => {
        const [k, kl] = g.put("x-plugin");
        const [v, vl] = g.put("seen");
        g.call("proxy_add_header_map_value", 2, k, kl, v, vl);
        return 0;
      },
      proxy_on_vm_start: (g) => (g.call("proxy_set_tick_period_milliseconds", 10), 1),
    },
    { failStrategy, workers },
  );
  return t;
}

describe("failure policies", () => {
  it("a trap is reported with the Wasm message and a stack", async () => {
    const { host } = await crashing("FAIL_CLOSE");
    const res = await host.request({ headers: { "x-crash": "1" } });
    expect(host.traps).toHaveLength(1);
    const trap = host.traps[0]!;
    expect(trap.callback).toBe("proxy_on_request_headers");
    expect(trap.message).toBe("unreachable");
    expect(trap.stack).toContain("wasm://");
    expect(trap.worker).toBe(0);
    expect(res.trap).toBe(trap);
    expect(host.logs.messages("critical")[0]).toMatch(/^Function: proxy_on_request_headers failed: unreachable/);
  });

  it("FAIL_CLOSE: the stream gets 503 without response callbacks; the worker stays dead", async () => {
    const { host, calls } = await crashing("FAIL_CLOSE", 2);
    const res = await host.request({ worker: 0, headers: { "x-crash": "1" } });
    expect(res.response.status).toBe(503);
    expect(res.localReply).toMatchObject({ status: 503, details: "wasm_fail_stream", source: "fail-closed", grpcStatus: 14 });
    expect(res.response.headers.has("x-plugin")).toBe(false);
    expect(res.upstreamCalled).toBe(false);
    const next = await host.request({ worker: 0, headers: {} });
    expect(next.response.status).toBe(503);
    expect(next.upstreamCalled).toBe(false);
    // The other worker is unaffected.
    const other = await host.request({ worker: 1, headers: {} });
    expect(other.response.status).toBe(200);
    expect(other.response.headers.get("x-plugin")).toBe("seen");
    // No callback reaches the dead VM (no on_log/on_done/on_delete, no ticks).
    const before = calls.length;
    await host.advance(100);
    const ticks = calls.slice(before).filter((c) => c.startsWith("proxy_on_tick"));
    expect(ticks).toHaveLength(20); // worker 1 and the main thread's VM, none from worker 0
    expect(host.worker(0).failed).toBe(true);
  });

  it("FAIL_OPEN: the failing stream and the following ones pass through untouched", async () => {
    const { host } = await crashing("FAIL_OPEN");
    const res = await host.request({ headers: { "x-crash": "1" }, upstream: { status: 201 } });
    expect(res.upstreamCalled).toBe(true);
    expect(res.response.status).toBe(201);
    expect(res.response.headers.has("x-plugin")).toBe(false);
    const next = await host.request({ headers: {} });
    expect(next.upstreamCalled).toBe(true);
    expect(next.response.headers.has("x-plugin")).toBe(false);
  });

  it("FAIL_RELOAD: the failing stream gets 503, the next stream runs on a fresh VM", async () => {
    const { host, calls } = await crashing("FAIL_RELOAD");
    const res = await host.request({ headers: { "x-crash": "1" } });
    expect(res.response.status).toBe(503);
    expect(host.worker(0).generation).toBe(1);
    const next = await host.request({ headers: {} });
    expect(host.worker(0).generation).toBe(2);
    expect(next.response.status).toBe(200);
    expect(next.response.headers.get("x-plugin")).toBe("seen");
    // The new VM was started and configured again, and gives context ids from 2 again.
    // Configured by the canary, the main thread's VM, worker 0's first VM and its replacement.
    expect(calls.filter((c) => c.startsWith("proxy_on_configure"))).toHaveLength(4);
    expect(next.streamId).toBe(2);
  });

  it("a trap outside a stream (tick) kills the VM; FAIL_CLOSE then answers 503", async () => {
    const { host } = await testHost({ proxy_on_vm_start: (g) => (g.call("proxy_set_tick_period_milliseconds", 5), 1), proxy_on_tick: () => -99 });
    await host.advance(5);
    expect(host.traps[0]?.callback).toBe("proxy_on_tick");
    const res = await host.request();
    expect(res.response.status).toBe(503);
  });
});
