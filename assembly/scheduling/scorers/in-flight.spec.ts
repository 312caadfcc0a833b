import { ep, ctxOf, runScorer } from "../testing";
import { InFlightScorer } from "./in-flight";

describe("in-flight-scorer", () => {
  it("least outstanding requests score highest", () => {
    let eps = [ep(0), ep(1), ep(2)];
    eps[0].inFlight = 4; eps[1].inFlight = 0; eps[2].inFlight = 2;
    expect(runScorer(new InFlightScorer(), ctxOf(eps))).toBe("0.0,1.0,0.5");
    eps[0].inFlight = 0; eps[2].inFlight = 0;
    expect(runScorer(new InFlightScorer(), ctxOf(eps))).toBe("1.0,1.0,1.0");
  });
});
