import { ep, ctxOf, runScorer } from "../testing";
import { KvCacheScorer } from "./kv-cache";

describe("kv-cache-utilization-scorer", () => {
  it("1 - kv use", () => {
    expect(runScorer(new KvCacheScorer(), ctxOf([ep(0, 0, 0), ep(1, 0, 0.25), ep(2, 0, 1)]))).toBe("1.0,0.75,0.0");
    // Unknown KV use is missing data, not an empty cache.
    expect(runScorer(new KvCacheScorer(), ctxOf([ep(0, 0, -1), ep(1, 0, 0)]))).toBe("0.5,1.0");
  });
});
