/** Metrics with Envoy's counter/gauge/histogram semantics. */
import { describe, expect, it } from "vitest";
import { MetricType, WasmResult } from "../../src/index.js";
import { testHost, type Guest } from "./helpers/test-module.js";

function define(g: Guest, type: number, name: string): [number, number] {
  const [n, nl] = g.put(name);
  const out = g.slot(4);
  const st = g.call("proxy_define_metric", type, n, nl, out);
  return [st, g.u32(out)];
}

describe("metrics", () => {
  it("ids per type, increment/record/get rules, values shared by workers", async () => {
    const r: Record<string, unknown> = {};
    const { host } = await testHost(
      {
        proxy_on_vm_start: (g) => {
          const [, c] = define(g, MetricType.Counter, "reqs");
          const [, ga] = define(g, MetricType.Gauge, "inflight");
          const [, h] = define(g, MetricType.Histogram, "latency");
          const [, c2] = define(g, MetricType.Counter, "other");
          r.ids = [c, ga, h, c2];
          const out = g.slot(8);
          r.counter = [
            g.call("proxy_increment_metric", c, 2n),
            g.call("proxy_increment_metric", c, 0n),
            g.call("proxy_increment_metric", c, -1n),
            g.call("proxy_record_metric", c, 5n),
            g.call("proxy_get_metric", c, out),
          ];
          r.counterValue = g.u64(out);
          r.gauge = [g.call("proxy_increment_metric", ga, 10n), g.call("proxy_increment_metric", ga, -3n), g.call("proxy_get_metric", ga, out)];
          r.gaugeValue = g.u64(out);
          r.gaugeSet = [g.call("proxy_record_metric", ga, 42n)];
          r.histogram = [
            g.call("proxy_increment_metric", h, 1n),
            g.call("proxy_record_metric", h, 7n),
            g.call("proxy_record_metric", h, 9n),
            g.call("proxy_get_metric", h, out),
          ];
          r.unknown = [g.call("proxy_increment_metric", 400, 1n), g.call("proxy_record_metric", 401, 1n), g.call("proxy_get_metric", 404, out)];
          return 1;
        },
      },
      { workers: 2 },
    );
    expect(r.ids).toEqual([4, 5, 6, 8]);
    expect(r.counter).toEqual([WasmResult.Ok, WasmResult.BadArgument, WasmResult.BadArgument, WasmResult.Ok, WasmResult.Ok]);
    // The canary, the main thread's VM and both workers' VMs ran the same code on the shared stat: 4 × 7.
    expect(r.counterValue).toBe(28n);
    expect(r.gauge).toEqual([WasmResult.Ok, WasmResult.Ok, WasmResult.Ok]);
    expect(r.histogram).toEqual([WasmResult.BadArgument, WasmResult.Ok, WasmResult.Ok, WasmResult.BadArgument]);
    expect(r.unknown).toEqual([WasmResult.NotFound, WasmResult.NotFound, WasmResult.NotFound]);
    expect(host.metrics.get("reqs")).toMatchObject({ type: "counter", value: 28, statName: "wasmcustom.reqs" });
    expect(host.metrics.get("inflight")).toMatchObject({ type: "gauge", value: 42 });
    expect(host.metrics.get("latency")).toMatchObject({ type: "histogram", samples: [7, 9, 7, 9, 7, 9, 7, 9] });
  });
});
