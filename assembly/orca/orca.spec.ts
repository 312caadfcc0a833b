import { parseOrcaHeader } from "./orca";
import { applyOrcaReport } from "./load";
import { Endpoint } from "../endpoints/endpoint";

describe("ORCA endpoint-load-metrics", () => {
  it("Envoy native TEXT form (':' separators)", () => {
    let r = parseOrcaHeader(
      "TEXT cpu_utilization:0.7,application_utilization:0.8,mem_utilization:0.9,rps_fractional:1000,eps:2,named_metrics.foo:123,named_metrics.bar:0.2",
    );
    expect(r.ok).toBe(true, r.error);
    expect(r.cpuUtilization).toBe(0.7);
    expect(r.applicationUtilization).toBe(0.8);
    expect(r.memUtilization).toBe(0.9);
    expect(r.rpsFractional).toBe(1000);
    expect(r.eps).toBe(2);
    expect(r.named("foo")).toBe(123);
    expect(r.named("bar")).toBe(0.2);
  });

  it("spec TEXT form ('=' and spaces)", () => {
    let r = parseOrcaHeader("TEXT cpu_utilization=0.3, mem_utilization=0.8, rps_fractional=10.0, eps=1, named_metrics.custom_metric_util=0.4");
    expect(r.ok).toBe(true, r.error);
    expect(r.cpuUtilization).toBe(0.3);
    expect(r.named("custom_metric_util")).toBe(0.4);
  });

  it("TEXT form without prefix", () => {
    let r = parseOrcaHeader("application_utilization=0.6, rps_fractional=5.0, named_metrics.gpu_utilization=0.85");
    expect(r.ok).toBe(true, r.error);
    expect(r.applicationUtilization).toBe(0.6);
    expect(r.named("gpu_utilization")).toBe(0.85);
  });

  it("TEXT entries, keys and values trimmed like String#trim (tabs, NBSP), empty entries skipped", () => {
    let r = parseOrcaHeader("TEXT  named_metrics.a = 1 ,\t named_metrics.b:2 ,, \u00a0eps=3\u00a0,");
    expect(r.ok).toBe(true, r.error);
    expect(r.named("a")).toBe(1);
    expect(r.named("b")).toBe(2);
    expect(r.eps).toBe(3);
    let t = parseOrcaHeader("cpu_utilization =0.5");
    expect(t.ok).toBe(true, t.error);
    expect(t.cpuUtilization).toBe(0.5);
    let errors: string[] = ["TEXT eps=1:2", "TEXT =1", "TEXT eps= ,", "TEXT eps=1, eps =2", "TEXT named_metrics. =1", "TEXT eps"];
    let messages: string[] = [
      "value of eps is not a finite number", "empty metric name", "empty value for eps", "duplicate metric eps",
      "named metric key is empty", "entry 'eps' is not key:value or key=value",
    ];
    for (let i = 0; i < errors.length; i++) {
      let e = parseOrcaHeader(errors[i]);
      expect(e.ok).toBe(false, errors[i]);
      expect(e.error).toBe(messages[i], errors[i]);
    }
  });

  it("JSON form, snake_case and camelCase", () => {
    let r = parseOrcaHeader(
      "JSON {\"cpu_utilization\": 0.7, \"application_utilization\": 0.8, \"mem_utilization\": 0.9, \"rps_fractional\": 1000, \"eps\": 2, \"named_metrics\": {\"foo\": 123,\"bar\": 0.2}}",
    );
    expect(r.ok).toBe(true, r.error);
    expect(r.memUtilization).toBe(0.9);
    expect(r.named("bar")).toBe(0.2);
    let c = parseOrcaHeader("JSON {\"applicationUtilization\": 0.6, \"rpsFractional\": 5.0, \"namedMetrics\": {\"gpu_utilization\": 0.85}}");
    expect(c.ok).toBe(true, c.error);
    expect(c.rpsFractional).toBe(5);
    expect(c.named("gpu_utilization")).toBe(0.85);
  });

  it("rejects what Envoy rejects", () => {
    let bad: string[] = [
      "",
      "BAD random-value",
      "TEXT cpu_utilization:",
      "TEXT cpu_utilization:\"0.7\"",
      "TEXT cpu_utilization:0.7,cpu_utilization:0.8",
      "TEXT cpu_utilization:0.7,unsupported_metric:0.8",
      "TEXT named_metrics.:123",
      "TEXT not-a-list-of-key-value-pairs",
      "TEXT eps:NaN",
      "TEXT eps:Inf",
      "JSON {\"cpu_utilization\": 0.7, \"unknown\": 1}",
      // Typographic quotes as printed in the ORCA spec are not JSON.
      "JSON {\u201ccpu_utilization\u201d: 0.3}",
      "JSON [1]",
      "JSON {\"named_metrics\": {\"a\": \"x\"}}",
      "BIN CZqZmZmZmbk/MQAAAAAAAABAQg4KA2ZvbxGamZmZmZm5P0IOCgNiYXIRmpmZmZmZyT8=",
    ];
    for (let i = 0; i < bad.length; i++) {
      let r = parseOrcaHeader(bad[i]);
      expect(r.ok).toBe(false, bad[i]);
      expect(r.error.length).toBeGreaterThan(0, bad[i]);
    }
  });

  it("feeds vLLM's named metrics into endpoint state", () => {
    let ep = new Endpoint("10.0.0.1:8000");
    let r = parseOrcaHeader("TEXT named_metrics.kv_cache_usage_perc=0.4, named_metrics.num_requests_waiting=3");
    expect(applyOrcaReport(ep, r, 1234)).toBe(true);
    expect(ep.kvUsage).toBe(0.4);
    expect(ep.waiting).toBe(3);
    expect(ep.metricsAtMs).toBe(1234);
    let none = parseOrcaHeader("TEXT cpu_utilization=0.5");
    expect(applyOrcaReport(ep, none, 2000)).toBe(false);
    expect(ep.metricsAtMs).toBe(1234);
  });
});
