import { fmt3 } from "./explain";
import { Rng } from "./rng";

// fmt3 as first written, with Math.pow for the scale: the reference for the table below.
function fmt3Reference(x: f64, digits: i32): string {
  if (!isFinite(x)) return x.toString();
  let scale = Math.pow(10, <f64>digits);
  let r = Math.round(x * scale) / scale;
  if (r == Math.floor(r) && Math.abs(r) < 1e15) return (<i64>r).toString();
  return r.toString();
}

const FMT_CASES: f64[] = [0, -0, 1, -1, 0.5, 0.0005, 0.00049, 1.23456789, 2.5, -2.5, 7, 1 / 3, 2 / 3, 0.1 + 0.2, 123456.7890123, 1e15, 1e-10, 99.9999, NaN, Infinity, -Infinity];

describe("fmt3", () => {
  it("rounds to the given decimals and drops trailing zeros", () => {
    expect(fmt3(0.123456)).toBe("0.123");
    expect(fmt3(2.0)).toBe("2");
    expect(fmt3(0.5, 1)).toBe("0.5");
    expect(fmt3(1 / 3, 9)).toBe("0.333333333");
    expect(fmt3(NaN)).toBe("NaN");
  });

  it("formats as with Math.pow(10, digits) for digits 0-22", () => {
    let rng = new Rng(42);
    let differ = 0;
    for (let d = 0; d <= 22; d++) {
      for (let i = 0; i < FMT_CASES.length; i++) if (fmt3(FMT_CASES[i], d) != fmt3Reference(FMT_CASES[i], d)) differ++;
      for (let i = 0; i < 500; i++) {
        let x = (rng.nextF64() - 0.5) * Math.pow(10, <f64>rng.nextInt(8));
        if (fmt3(x, d) != fmt3Reference(x, d)) differ++;
      }
    }
    expect(differ).toBe(0);
  });
});
