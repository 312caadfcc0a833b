import { ep, ctxOf, all } from "../testing";
import { PowerOfTwoPicker } from "./power-of-two";

function totals(xs: f64[]): Float64Array {
  let t = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) t[i] = xs[i];
  return t;
}

describe("power-of-two-picker", () => {
  it("never picks the worst of several and spreads over the better ones", () => {
    let c = ctxOf([ep(0), ep(1), ep(2), ep(3)]);
    let p = new PowerOfTwoPicker();
    let counts = [0, 0, 0, 0];
    let out: i32[] = [];
    for (let i = 0; i < 600; i++) {
      p.pick(c, all(4), totals([4, 3, 2, 1]), 2, out);
      expect(out.length).toBe(2);
      expect(out[0]).not.toBe(out[1]);
      counts[out[0]]++;
    }
    expect(counts[3]).toBe(0);
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it("a single candidate is picked", () => {
    let c = ctxOf([ep(0)]);
    let out: i32[] = [];
    new PowerOfTwoPicker().pick(c, [0], totals([0]), 3, out);
    expect(out.join(",")).toBe("0");
  });
});
