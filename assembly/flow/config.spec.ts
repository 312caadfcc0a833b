import { ConfigReader } from "../config/reader";
import { parseJson } from "../json/parse";
import { DispatchWhen, FlowControlConfig, parseFlowControl, shareOfLimit } from "./config";

function parse(text: string, r: ConfigReader): FlowControlConfig | null {
  let j = parseJson(text);
  expect(j.ok).toBe(true, j.error);
  let root = r.root(j.value!);
  return parseFlowControl(r, root.child("flowControl")!);
}

class Refusal {
  constructor(public config: string, public error: string) {}
}

const REFUSALS: Refusal[] = [
  new Refusal(`{}`, "$.flowControl.bands: required field is missing"),
  new Refusal(`{"bands":[]}`, "$.flowControl.bands: needs at least one band"),
  new Refusal(`{"bands":[{"name":"a"}],"maxWaitMs":0}`, "$.flowControl.maxWaitMs: must be > 0"),
  new Refusal(`{"bands":[{"name":"a","maxRequests":0}]}`, "$.flowControl.bands[0].maxRequests: must be between 1"),
  new Refusal(`{"bands":[{"name":"a","maxRequests":-3}]}`, "$.flowControl.bands[0].maxRequests: must be between 1"),
  new Refusal(`{"bands":[{"name":"a","maxBytes":0}]}`, "$.flowControl.bands[0].maxBytes: must be between 1"),
  new Refusal(`{"bands":[{"name":"a","minPriority":0,"maxPriority":5},{"name":"b","minPriority":5,"maxPriority":9}]}`,
    "$.flowControl.bands[1]: priorities 5..9 overlap band \"a\" ($.flowControl.bands[0]: 0..5)"),
  new Refusal(`{"bands":[{"name":"a","minPriority":3,"maxPriority":1}]}`, "$.flowControl.bands[0].minPriority: must be <= maxPriority"),
  new Refusal(`{"bands":[{"name":"a","maxPriority":-1},{"name":"a","minPriority":0}]}`, "$.flowControl.bands[1].name: duplicate band name"),
  new Refusal(`{"bands":[{"name":""}]}`, "$.flowControl.bands[0].name: must not be empty"),
  new Refusal(`{"bands":[{"name":"a","expireStatus":500}]}`, "$.flowControl.bands[0].expireStatus: must be 429"),
  new Refusal(`{"bands":[{"name":"a"}],"dispatch":"in-flight-below"}`, "$.flowControl.maxInFlightPerEndpoint: required"),
  new Refusal(`{"bands":[{"name":"a"}],"maxInFlightPerEndpoint":0}`, "$.flowControl.maxInFlightPerEndpoint: must be between 1"),
  new Refusal(`{"bands":[{"name":"a"}],"flowHeader":"X-Tenant"}`, "$.flowControl.flowHeader: a lower-case header name"),
  new Refusal(`{"bands":[{"name":"a"}],"flowHeader":"x/tenant"}`, "$.flowControl.flowHeader: a lower-case header name"),
  new Refusal(`{"bands":[{"name":"a"}],"maxWaitMs":10,"tickMs":50}`, "$.flowControl.tickMs: must be <= maxWaitMs"),
  // The default tickMs (20) against a shorter wait: refused, naming tickMs, not a trap.
  new Refusal(`{"bands":[{"name":"a"}],"maxWaitMs":10}`, "$.flowControl.tickMs: must be <= maxWaitMs (10): expiry is checked on the tick"),
  new Refusal(`{"bands":[{"name":"a"}],"queue":1}`, "$.flowControl.queue"),
  new Refusal(`{"bands":[{"name":"a","maxInFlightShare":0}],"maxInFlightPerEndpoint":8}`, "$.flowControl.bands[0].maxInFlightShare: must be > 0"),
  new Refusal(`{"bands":[{"name":"a","maxInFlightShare":1.5}],"maxInFlightPerEndpoint":8}`, "$.flowControl.bands[0].maxInFlightShare: must be between 0"),
  new Refusal(`{"bands":[{"name":"a","maxInFlightShare":"half"}],"maxInFlightPerEndpoint":8}`, "$.flowControl.bands[0].maxInFlightShare"),
  new Refusal(`{"bands":[{"name":"std","minPriority":0,"maxPriority":0},{"name":"low","minPriority":-9,"maxPriority":-1,"maxInFlightShare":0.5}]}`,
    "$.flowControl.maxInFlightPerEndpoint: required by band \"low\"'s maxInFlightShare"),
];

describe("flowControl config", () => {
  it("parses bands, sorted highest priority first, and the dispatch rule", () => {
    let r = new ConfigReader();
    let c = parse(`{"flowControl":{"bands":[
      {"name":"sheddable","minPriority":-1000,"maxPriority":-1,"maxRequests":10,"maxBytes":1000},
      {"name":"critical","minPriority":1,"maxPriority":1000,"expireStatus":503},
      {"name":"standard","minPriority":0,"maxPriority":0}],
      "flowHeader":"x-tenant","maxWaitMs":2000,"dispatch":"in-flight-below","maxInFlightPerEndpoint":4,"shedSheddable":true}}`, r);
    expect(r.ok).toBe(true, r.error);
    let cfg = c!;
    expect(cfg.bands.length).toBe(3);
    expect(cfg.bands[0].name).toBe("critical");
    expect(cfg.bands[0].expireStatus).toBe(503);
    expect(cfg.bands[1].name).toBe("standard");
    expect(cfg.bands[2].name).toBe("sheddable");
    expect(cfg.bands[2].maxRequests).toBe(10);
    expect(cfg.bands[2].maxBytes).toBe(1000);
    expect(cfg.flowHeader).toBe("x-tenant");
    expect(cfg.maxWaitMs).toBe(2000);
    expect(cfg.dispatch).toBe(DispatchWhen.InFlightBelow);
    expect(cfg.maxInFlightPerEndpoint).toBe(4);
    expect(cfg.shedSheddable).toBe(true);
    expect(cfg.bandFor(7)).toBe(0);
    expect(cfg.bandFor(0)).toBe(1);
    expect(cfg.bandFor(-1)).toBe(2);
  });

  it("leaves priorities outside every band unbanded", () => {
    let r = new ConfigReader();
    let c = parse(`{"flowControl":{"bands":[{"name":"std","minPriority":0,"maxPriority":0}]}}`, r);
    expect(r.ok).toBe(true, r.error);
    expect(c!.bandFor(0)).toBe(0);
    expect(c!.bandFor(-1)).toBe(-1);
    expect(c!.dispatch).toBe(DispatchWhen.NotSaturated);
    expect(c!.maxInFlightPerEndpoint).toBe(0);
    expect(c!.bands[0].maxInFlightShare).toBe(1.0);
  });

  it("parses a band's in-flight share", () => {
    let r = new ConfigReader();
    let c = parse(`{"flowControl":{"bands":[{"name":"std","minPriority":0,"maxPriority":0},
      {"name":"low","minPriority":-9,"maxPriority":-1,"maxInFlightShare":0.75}],"dispatch":"in-flight-below","maxInFlightPerEndpoint":8}}`, r);
    expect(r.ok).toBe(true, r.error);
    expect(c!.bands[0].maxInFlightShare).toBe(1.0);
    expect(c!.bands[1].maxInFlightShare).toBe(0.75);
  });

  it("gives a band its share of the in-flight limit, rounded down, at least one slot", () => {
    // [pool limit, share, band limit]
    const CASES: f64[][] = [
      [32, 1, 32], [32, 0.75, 24], [32, 0.5, 16], [30, 0.75, 22], [8, 0.1, 1], [1, 0.5, 1], [1, 1, 1], [1000, 0.999, 999],
    ];
    for (let i = 0; i < CASES.length; i++) {
      let t = CASES[i];
      expect(shareOfLimit(<i64>t[0], t[1])).toBe(<i64>t[2], t[0].toString() + " x " + t[1].toString());
    }
  });

  it("refuses impossible configs, naming the field", () => {
    for (let i = 0; i < REFUSALS.length; i++) {
      let t = REFUSALS[i];
      let r = new ConfigReader();
      let c = parse(`{"flowControl":` + t.config + `}`, r);
      expect(c).toBeNull(t.config);
      expect(r.ok).toBe(false, t.config);
      expect(r.error.startsWith(t.error)).toBe(true, t.config + " -> " + r.error);
    }
  });
});
