import { ep, all } from "./testing";
import { Endpoint } from "../endpoints/endpoint";
import { SaturationThresholds, meanSaturation, poolSaturated } from "./saturation";

class Case {
  constructor(public name: string, public eps: Endpoint[], public cands: i32[] | null, public mean: f64, public shedMean: bool, public shedAll: bool) {}
}

function stale(i: i32, waiting: i32 = 0): Endpoint {
  let e = ep(i, waiting);
  e.metricsAtMs = 700; // 300 ms old at t=1000
  return e;
}

// The EPP's utilization detector: mean over candidates of max(q/5, kv/0.8), stale = 1.0.
const cases: Case[] = [
  new Case("idle pool", [ep(0), ep(1)], null, 0, false, false),
  new Case("one full, one idle: mean 0.5", [ep(0, 5), ep(1)], null, 0.5, false, false),
  new Case("mean reaches 1 with one endpoint still below", [ep(0, 10), ep(1, 0, 0.4)], null, 1.25, true, false),
  new Case("every endpoint full", [ep(0, 5), ep(1, 0, 0.8)], null, 1, true, true),
  new Case("stale counts 1.0, not infinity", [stale(0, 50), ep(1)], null, 0.5, false, false),
  new Case("only the located candidates count", [ep(0, 50), ep(1), ep(2)], [1, 2], 0, false, false),
  new Case("no candidates is saturated", [ep(0)], [], 1, true, true),
  new Case("unknown queue and kv count 1.0, like stale", [ep(0, -1, -1), ep(1)], null, 0.5, false, false),
  new Case("one unknown value: the known one decides", [ep(0, -1, 0.8), ep(1, 5, -1)], null, 1, true, true),
];

describe("pool saturation", () => {
  it("mean saturation over the candidates, and both shedding rules", () => {
    let t = new SaturationThresholds();
    let older = new SaturationThresholds();
    older.shedWhenAllSaturated = true;
    for (let i = 0; i < cases.length; i++) {
      let c = cases[i];
      let cands = c.cands != null ? c.cands! : all(c.eps.length);
      expect(meanSaturation(c.eps, cands, t, 1000)).toBeCloseTo(c.mean, 9, c.name);
      expect(poolSaturated(c.eps, cands, t, 1000)).toBe(c.shedMean, c.name);
      expect(poolSaturated(c.eps, cands, older, 1000)).toBe(c.shedAll, c.name);
    }
  });

  it("never saturated without a load source", () => {
    let t = new SaturationThresholds();
    t.metricsRequired = false;
    expect(poolSaturated([ep(0, 99)], [0], t, 1000)).toBe(false);
  });
});
