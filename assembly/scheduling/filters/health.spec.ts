import { ep, ctxOf, runFilter } from "../testing";
import { HealthFilter } from "./health";

describe("health-filter", () => {
  it("drops ejected endpoints; all ejected leaves none", () => {
    let eps = [ep(0), ep(1), ep(2)];
    eps[1].ejectedUntilMs = 5000;
    let c = ctxOf(eps);
    expect(runFilter(new HealthFilter(), c)).toBe("0,2");
    eps[0].ejectedUntilMs = 5000;
    eps[2].ejectedUntilMs = 5000;
    expect(runFilter(new HealthFilter(), c)).toBe("");
    c.nowMs = 5000;
    expect(runFilter(new HealthFilter(), c)).toBe("0,1,2");
  });
});
