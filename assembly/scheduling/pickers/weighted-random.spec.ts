import { ep, ctxOf, all } from "../testing";
import { WeightedRandomPicker } from "./weighted-random";

function totals(xs: f64[]): Float64Array {
  let t = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) t[i] = xs[i];
  return t;
}

describe("weighted-random-picker", () => {
  it("picks in proportion to score and never a zero score while others are positive", () => {
    let c = ctxOf([ep(0), ep(1), ep(2)]);
    let p = new WeightedRandomPicker();
    let counts = [0, 0, 0];
    let out: i32[] = [];
    for (let i = 0; i < 2000; i++) {
      p.pick(c, all(3), totals([3, 1, 0]), 1, out);
      counts[out[0]]++;
    }
    expect(counts[2]).toBe(0);
    // Expect ~1500 vs ~500.
    expect(counts[0]).toBeGreaterThan(1300);
    expect(counts[1]).toBeGreaterThan(350);
  });

  it("uniform when all scores are zero; fallbacks are distinct", () => {
    let c = ctxOf([ep(0), ep(1)]);
    let out: i32[] = [];
    new WeightedRandomPicker().pick(c, all(2), totals([0, 0]), 2, out);
    expect(out.length).toBe(2);
    expect(out[0]).not.toBe(out[1]);
  });
});

describe("weighted-random-picker endpoint weights", () => {
  it("the weight label multiplies the score", () => {
    let eps = [ep(0), ep(1)];
    eps[1].weight = 4;
    let c = ctxOf(eps);
    let p = new WeightedRandomPicker();
    let counts = [0, 0];
    let out: i32[] = [];
    for (let i = 0; i < 1000; i++) {
      p.pick(c, all(2), totals([1, 1]), 1, out);
      counts[out[0]]++;
    }
    // Expect ~200 vs ~800.
    expect(counts[1]).toBeGreaterThan(650);
    expect(counts[0]).toBeGreaterThan(100);
  });
});
