import { ep, ctxOf, runFilter } from "../testing";
import { Endpoint, NEVER } from "../../endpoints/endpoint";
import { SaturationFilter } from "./saturation";
import { utilization, isSaturated } from "../saturation";

class Case {
  constructor(public name: string, public eps: Endpoint[], public now: i64, public want: string) {}
}

function stale(i: i32): Endpoint {
  let e = ep(i);
  e.metricsAtMs = 700; // 300 ms old at t=1000
  return e;
}

function never(i: i32): Endpoint {
  let e = ep(i);
  e.metricsAtMs = NEVER;
  return e;
}

const cases: Case[] = [
  new Case("queue at 5 is saturated, 4 is not", [ep(0, 5), ep(1, 4)], 1000, "1"),
  new Case("kv at 0.8 is saturated", [ep(0, 0, 0.8), ep(1, 0, 0.79)], 1000, "1"),
  new Case("stale metrics count as saturated", [stale(0), ep(1)], 1000, "1"),
  new Case("never scraped counts as saturated", [never(0), ep(1)], 1000, "1"),
  new Case("exactly 200 ms old is still fresh", [ep(0)], 1200, "0"),
  new Case("all saturated returns the input", [ep(0, 9), ep(1, 0, 0.95)], 1000, "0,1"),
  new Case("queue and kv both unknown counts as saturated (missing data)", [ep(0, -1, -1), ep(1)], 1000, "1"),
  new Case("one unknown value: the known one decides", [ep(0, -1, 0.5), ep(1, 9, -1)], 1000, "0"),
];

describe("saturation-filter", () => {
  it("applies GIE thresholds (queue 5, kv 0.8, 200 ms)", () => {
    for (let i = 0; i < cases.length; i++) {
      let c = ctxOf(cases[i].eps);
      c.nowMs = cases[i].now;
      expect(runFilter(new SaturationFilter(), c)).toBe(cases[i].want, cases[i].name);
    }
  });

  it("utilization is max(queue/5, kv/0.8)", () => {
    let c = ctxOf([ep(0, 2, 0.4)]);
    expect(utilization(c.ep(0), c.saturation, 1000)).toBe(0.5);
    c.saturation.metricsRequired = false;
    c.ep(0).metricsAtMs = NEVER;
    expect(isSaturated(c.ep(0), c.saturation, 1000)).toBe(false);
  });
});
