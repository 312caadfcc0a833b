import { ep, ctxOf, runScorer } from "../testing";
import { Endpoint } from "../../endpoints/endpoint";
import { QueueScorer } from "./queue";

class Case {
  constructor(public eps: Endpoint[], public want: string) {}
}

const cases: Case[] = [
  new Case([ep(0, 0), ep(1, 5), ep(2, 10)], "1.0,0.5,0.0"),
  new Case([ep(0, 3), ep(1, 3)], "1.0,1.0"),
  new Case([ep(0, 7)], "1.0"),
  new Case([ep(0, 2), ep(1, 6)], "1.0,0.0"),
  // Unknown is missing data: neutral 0.5; with unknowns the range starts at 0.
  new Case([ep(0, 4), ep(1, -1), ep(2, 8)], "0.5,0.5,0.0"),
  new Case([ep(0, 9), ep(1, -1)], "0.0,0.5"),
  new Case([ep(0, 0), ep(1, -1)], "1.0,0.5"),
  new Case([ep(0, -1), ep(1, -1)], "0.5,0.5"),
];

describe("queue-scorer", () => {
  it("(maxQ - q) / (maxQ - minQ), 1 when all equal", () => {
    for (let i = 0; i < cases.length; i++) {
      expect(runScorer(new QueueScorer(), ctxOf(cases[i].eps))).toBe(cases[i].want);
    }
  });
});

/** Endpoint i with a reported queue and the in-flight count when its report was first scored. */
function carried(i: i32, waiting: i32, inFlightAtReport: i32): Endpoint {
  let e = ep(i, waiting);
  e.inFlight = inFlightAtReport;
  e.queueEstimate(); // first scored here: the base
  return e;
}

class CarryCase {
  constructor(public eps: Endpoint[], public inFlightNow: i32[], public want: string) {}
}

const carryCases: CarryCase[] = [
  // Nothing sent since the reports: the reported queues.
  new CarryCase([carried(0, 0, 0), carried(1, 0, 0)], [0, 0], "1.0,1.0"),
  // Four sent to the idle-looking 0 since its report: it now ranks below 1.
  new CarryCase([carried(0, 0, 0), carried(1, 2, 0)], [4, 0], "0.0,1.0"),
  // Requests that ended since the report leave the queue, never below 0.
  new CarryCase([carried(0, 5, 6), carried(1, 1, 0)], [0, 0], "1.0,0.0"),
  new CarryCase([carried(0, 2, 3), carried(1, 4, 4)], [1, 4], "1.0,0.0"),
  // Unknown stays unknown (neutral), whatever was sent.
  new CarryCase([carried(0, -1, 0), carried(1, 3, 0)], [9, 1], "0.5,0.0"),
];

describe("queue-scorer between budgeted scrapes (carryInFlight)", () => {
  it("scores reported queue + in-flight change since the report", () => {
    for (let i = 0; i < carryCases.length; i++) {
      let c = carryCases[i];
      for (let j = 0; j < c.eps.length; j++) c.eps[j].inFlight = c.inFlightNow[j];
      let ctx = ctxOf(c.eps);
      ctx.carryInFlight = true;
      expect(runScorer(new QueueScorer(), ctx)).toBe(c.want);
    }
  });

  it("a new report resets the base: the change counts from the newest report", () => {
    let e = carried(0, 0, 0);
    e.inFlight = 3;
    expect(e.queueEstimate()).toBe(3);
    e.waiting = 2;
    e.metricsAtMs = 2000; // a new report, which already counts the three
    expect(e.queueEstimate()).toBe(2);
    e.inFlight = 1;
    expect(e.queueEstimate()).toBe(0);
  });

  it("without carryInFlight the reported queue alone is scored", () => {
    let eps = [carried(0, 0, 0), carried(1, 2, 0)];
    eps[0].inFlight = 4;
    expect(runScorer(new QueueScorer(), ctxOf(eps))).toBe("1.0,0.0");
  });
});
