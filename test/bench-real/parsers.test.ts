/**
 * Readers of the peers' output, on metrics pages recorded from the real programs: llm-d's EPP
 * v0.9.2 after five requests over two llm-d-inference-sim v0.9.2 servers, one of those servers,
 * and wayroute's simulator. Plus /proc stat parsing and the EPP's generated files.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProcStatCpuMs } from "../../src/bench/real/cpu.js";
import { eppConfig, eppCounters, eppEndpointsFile } from "../../src/bench/real/epp.js";
import { findRealPolicy, REAL_POLICIES, runsOn } from "../../src/bench/real/policies.js";
import { parseProm, sumOf } from "../../src/bench/real/prom.js";
import { llmdSimArgs, REAL_SIM_DEFAULTS, serverCounters } from "../../src/bench/real/sims.js";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");

describe("Prometheus text reader", () => {
  it.each([
    ["plain", 'up 1', { name: "up", labels: {}, value: 1 }],
    ["labels", 'a_total{x="1",y="two"} 3.5', { name: "a_total", labels: { x: "1", y: "two" }, value: 3.5 }],
    ["escapes", 'm{v="a\\"b\\\\c\\nd"} 2', { name: "m", labels: { v: 'a"b\\c\nd' }, value: 2 }],
    ["colon name, exponent", "vllm:lora_requests_info{max_lora=\"1\"} 1.796408555e+09", { name: "vllm:lora_requests_info", labels: { max_lora: "1" }, value: 1.796408555e9 }],
    ["timestamp", "x 4 1700000000000", { name: "x", labels: {}, value: 4 }],
    ["+Inf bucket label", 'h_bucket{le="+Inf"} 7', { name: "h_bucket", labels: { le: "+Inf" }, value: 7 }],
    ["trailing comma", 'm{a="1",} 1', { name: "m", labels: { a: "1" }, value: 1 }],
  ])("%s", (_, line, sample) => {
    expect(parseProm(line)).toEqual([sample]);
  });

  it.each([
    ["comment", "# HELP x y"],
    ["no value", "x"],
    ["bad value", "x abc"],
    ["unclosed labels", 'x{a="1" 2'],
    ["bad label", "x{a=1} 2"],
  ])("skips an unreadable line: %s", (_, line) => {
    expect(parseProm(`${line}\nok 1\n`)).toEqual([{ name: "ok", labels: {}, value: 1 }]);
  });

  it("never throws on arbitrary text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => {
      expect(Array.isArray(parseProm(text))).toBe(true);
    }));
  });

  it("sumOf takes the first name present and adds label sets; absent is undefined", () => {
    const s = parseProm('a{k="1"} 2\na{k="2"} 3\nb 10\n');
    expect(sumOf(s, ["missing", "a"])).toBe(5);
    expect(sumOf(s, ["b", "a"])).toBe(10);
    expect(sumOf(s, ["a"], (l) => l.k === "2")).toBe(3);
    expect(sumOf(s, ["missing"])).toBeUndefined();
  });
});

describe("simulator counters from recorded pages", () => {
  it("llm-d-inference-sim v0.9.2 (counters without _total)", () => {
    expect(serverCounters(parseProm(fixture("llm-d-inference-sim-v0.9.2.metrics.txt")))).toEqual({ requests: 2, prefixQueries: 106, prefixHits: 48 });
  });

  it("wayroute sim (vLLM v1 names with _total)", () => {
    const c = serverCounters(parseProm(fixture("wayroute-sim.metrics.txt")));
    expect(c).toEqual({ requests: 0, prefixQueries: 0, prefixHits: 0 });
  });
});

describe("EPP counters from a recorded page", () => {
  it("requests, successful picks and picks per endpoint port (new llm_d_epp_* names)", () => {
    const c = eppCounters(parseProm(fixture("epp-v0.9.2.metrics.txt")));
    expect(c.requests).toBe(5);
    expect(c.scheduled).toBe(5);
    expect(c.pickedByPort).toEqual({ "42925": 2, "40981": 3 });
  });

  it("falls back to the GIE names", () => {
    const page = 'inference_objective_request_total{model_name="m"} 4\ninference_extension_scheduler_attempts_total{port="1",status="success"} 3\ninference_extension_scheduler_attempts_total{port="1",status="failure"} 1\n';
    expect(eppCounters(parseProm(page))).toEqual({ requests: 4, scheduled: 3, pickedByPort: { "1": 3 } });
  });

  it("an empty page gives no counters", () => {
    expect(eppCounters([])).toEqual({});
  });
});

describe("/proc stat", () => {
  it("utime + stime, counted from the last ')' (command names may hold spaces and parens)", () => {
    const line = "4242 (envoy (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 1000 2000 3000";
    expect(parseProcStatCpuMs(line, 100)).toBe(3250);
  });

  it("refuses an unreadable line", () => {
    expect(() => parseProcStatCpuMs("garbage", 100)).toThrow(/unreadable/);
  });
});

describe("EPP files and simulator command line", () => {
  it("flow-control counters: requests through the layer and their total time, summed over flows and outcomes", () => {
    const page = [
      'llm_d_epp_flow_control_request_queue_duration_seconds_bucket{fairness_id="default-flow",outcome="Dispatched",le="0.1"} 7',
      'llm_d_epp_flow_control_request_queue_duration_seconds_sum{fairness_id="default-flow",outcome="Dispatched"} 0.25',
      'llm_d_epp_flow_control_request_queue_duration_seconds_count{fairness_id="default-flow",outcome="Dispatched"} 7',
      'llm_d_epp_flow_control_request_queue_duration_seconds_sum{fairness_id="b",outcome="RejectedCapacity"} 0.5',
      'llm_d_epp_flow_control_request_queue_duration_seconds_count{fairness_id="b",outcome="RejectedCapacity"} 2',
    ].join("\n") + "\n";
    const c = eppCounters(parseProm(page));
    expect(c.flowQueued).toBe(9);
    expect(c.flowQueueSeconds).toBeCloseTo(0.75, 9);
    // By the flow the EPP put them in (its fairness_id: the x-llm-d-inference-fairness-id header).
    expect(c.flowQueuedByFlow).toEqual({ "default-flow": 7, b: 2 });
    expect(eppCounters(parseProm(fixture("epp-v0.9.2.metrics.txt"))).flowQueued).toBeUndefined();
    expect(eppCounters(parseProm(fixture("epp-v0.9.2.metrics.txt"))).flowQueuedByFlow).toBeUndefined();
  });

  it("the endpoints file lists every address as name/address/port", () => {
    expect(JSON.parse(eppEndpointsFile(["127.0.0.1:8000", "127.0.0.2:9001"]))).toEqual({
      endpoints: [{ name: "sim-0", address: "127.0.0.1", port: "8000" }, { name: "sim-1", address: "127.0.0.2", port: "9001" }],
    });
  });

  it("the config is the EPP's default profile plus file discovery", () => {
    const cfg = JSON.parse(eppConfig("/x/endpoints.yaml")) as { schedulingProfiles: { plugins: { pluginRef: string; weight: number }[] }[]; dataLayer: { discovery: { pluginRef: string } } };
    expect(cfg.schedulingProfiles[0]!.plugins).toEqual([
      { pluginRef: "queue-scorer", weight: 2 },
      { pluginRef: "kv-cache-utilization-scorer", weight: 2 },
      { pluginRef: "prefix-cache-scorer", weight: 3 },
    ]);
    expect(cfg.dataLayer.discovery.pluginRef).toBe("file-discovery");
  });

  it("flow control turns on the EPP's flowControl feature gate with round-robin fairness across flows, and nothing else; off by default", () => {
    const plain = JSON.parse(eppConfig("/x/endpoints.yaml")) as { plugins: unknown[] } & Record<string, unknown>;
    const flow = JSON.parse(eppConfig("/x/endpoints.yaml", { flowControl: true })) as { plugins: unknown[] } & Record<string, unknown>;
    expect(plain.featureGates).toBeUndefined();
    expect(plain.flowControl).toBeUndefined();
    expect(flow.featureGates).toEqual(["flowControl"]);
    // The registry's default fairness policy is global-strict: round-robin is named.
    expect(flow.plugins.at(-1)).toEqual({ type: "round-robin-fairness-policy" });
    expect(flow.flowControl).toEqual({ defaultPriorityBand: { fairnessPolicyRef: "round-robin-fairness-policy" } });
    const { featureGates: _, flowControl: __, plugins, ...rest } = flow;
    const { plugins: plainPlugins, ...plainRest } = plain;
    expect(rest).toEqual(plainRest);
    expect(plugins.slice(0, -1)).toEqual(plainPlugins);
  });

  it("the flow-control policies (EPP and wayroute) run on the overload and bursty workloads only; other policies on every workload", () => {
    const flow = findRealPolicy("envoy-epp-flow")!;
    expect(flow).toMatchObject({ kind: "epp", flowControl: true });
    expect(findRealPolicy("wayroute-flow")).toMatchObject({ kind: "wayroute", policy: { name: "gie-default-flow" } });
    expect(findRealPolicy("wayroute-flow-noreserve")).toMatchObject({ kind: "wayroute", policy: { name: "gie-default-flow-noreserve" } });
    for (const name of ["envoy-epp-flow", "wayroute-flow", "wayroute-flow-noreserve"]) {
      const p = findRealPolicy(name)!;
      expect(runsOn(p, "overload + sheddable"), name).toBe(true);
      expect(runsOn(p, "bursty two tenants"), name).toBe(true);
      expect(runsOn(p, "shared-prefix chat"), name).toBe(false);
    }
    for (const p of REAL_POLICIES.filter((x) => !x.name.includes("-flow"))) expect(runsOn(p, "shared-prefix chat"), p.name).toBe(true);
  });

  it("llm-d-inference-sim runs the per-token latency model with its prefix cache on", () => {
    const args = llmdSimArgs(8123, REAL_SIM_DEFAULTS, 5);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag("--port")).toBe("8123");
    expect(flag("--latency-calculator")).toBe("per-token");
    expect(flag("--prefill-time-per-token")).toBe("92us");
    expect(flag("--kv-cache-size")).toBe("512");
    expect(args).toContain("--enable-kvcache");
    expect(args.filter((a) => a.startsWith("{")).map((a) => (JSON.parse(a) as { name: string }).name)).toEqual(REAL_SIM_DEFAULTS.adapters);
  });
});
