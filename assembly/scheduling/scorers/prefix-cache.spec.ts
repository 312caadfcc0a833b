import { ep, ctxOf, runScorer } from "../testing";
import { PrefixCacheScorer } from "./prefix-cache";

describe("prefix-cache-scorer", () => {
  it("matched blocks / total blocks; 0 for short prompts", () => {
    let c = ctxOf([ep(0), ep(1), ep(2)]);
    c.prefixTotal = 4;
    c.prefixMatched[0] = 4;
    c.prefixMatched[1] = 1;
    c.prefixMatched[2] = 0;
    expect(runScorer(new PrefixCacheScorer(), c)).toBe("1.0,0.25,0.0");
    c.prefixTotal = 0;
    expect(runScorer(new PrefixCacheScorer(), c)).toBe("0.0,0.0,0.0");
  });
});
