import { ep, ctxOf, all } from "../testing";
import { MaxScorePicker } from "./max-score";

function totals(xs: f64[]): Float64Array {
  let t = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) t[i] = xs[i];
  return t;
}

describe("max-score-picker", () => {
  it("orders by score and returns primary then fallbacks", () => {
    let c = ctxOf([ep(0), ep(1), ep(2), ep(3)]);
    let out: i32[] = [];
    new MaxScorePicker().pick(c, all(4), totals([1, 5, 3, 4]), 3, out);
    expect(out.join(",")).toBe("1,3,2");
    new MaxScorePicker().pick(c, [2, 0], totals([1, 2]), 5, out);
    expect(out.join(",")).toBe("0,2");
  });

  it("breaks ties at random", () => {
    let c = ctxOf([ep(0), ep(1), ep(2)]);
    let p = new MaxScorePicker();
    let counts = [0, 0, 0];
    let out: i32[] = [];
    for (let i = 0; i < 300; i++) {
      p.pick(c, all(3), totals([2, 2, 1]), 1, out);
      counts[out[0]]++;
    }
    expect(counts[2]).toBe(0);
    expect(counts[0]).toBeGreaterThan(100);
    expect(counts[1]).toBeGreaterThan(100);
  });
});

describe("max-score-picker edge cases", () => {
  it("NaN scores rank last and never loop", () => {
    let c = ctxOf([ep(0), ep(1), ep(2)]);
    let out: i32[] = [];
    new MaxScorePicker().pick(c, all(3), totals([NaN, 1, NaN]), 3, out);
    expect(out[0]).toBe(1);
    expect(out.length).toBe(3);
  });
});
