import { Endpoint } from "../../endpoints/endpoint";
import { Rng } from "../rng";
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

// The picker orders candidates by ln(u)·(1/w) instead of the A-Res key u^(1/w). This reference
// is the key as first written (Math.pow, -1 + u·1e-9 for zero weights); every row compares
// the picks of both over many seeds, the same draws for each.
let refKeys: f64[] = [];
let refUnderflows = 0;
let refDenormals = 0;
function referencePick(rng: Rng, tot: Float64Array, weights: f64[], max: i32): string {
  let n = tot.length;
  refKeys.length = 0;
  let anyPositive = false;
  for (let k = 0; k < n; k++) if (tot[k] > 0) anyPositive = true;
  for (let k = 0; k < n; k++) {
    let w = tot[k] * weights[k];
    let u = rng.nextF64();
    if (u == 0) u = 1e-12;
    let key = !anyPositive ? u : w > 0 ? Math.pow(u, 1.0 / w) : -1.0 + u * 1e-9;
    if (anyPositive && w > 0 && key == 0) refUnderflows++;
    if (anyPositive && w > 0 && key > 0 && key < 2.2250738585072014e-308) refDenormals++;
    refKeys.push(key);
  }
  let out: i32[] = [];
  while (out.length < max) {
    let best = -1;
    let bestKey = -Infinity;
    for (let k = 0; k < n; k++) {
      if (refKeys[k] > bestKey) {
        bestKey = refKeys[k];
        best = k;
      }
    }
    if (best < 0) break;
    refKeys[best] = -Infinity;
    out.push(best);
  }
  return out.join(",");
}

class KeyRow {
  constructor(
    public name: string,
    public minTotal: f64,
    public maxTotal: f64,
    public zeroShare: f64,
    public weights: f64[],
    public edges: bool,
  ) {}
}

const KEY_ROWS: KeyRow[] = [
  new KeyRow("GIE default totals (0-7), a fifth zero", 0, 7, 0.2, [1], false),
  new KeyRow("totals 0-1 with endpoint weights 1e-3 to 1e3", 0, 1, 0.1, [0.001, 0.5, 1, 2, 1000], true),
  new KeyRow("large totals and weights (up to 700 x 1e6): keys just below 1", 1, 700, 0.1, [1, 1000, 1000000], false),
  new KeyRow("tiny totals (1e-6 to 1e-3): u^(1/w) underflows to 0, ties go to the lowest index", 0.000001, 0.001, 0.1, [0.000001, 1], true),
  new KeyRow("totals about 1e-3: keys among the subnormal doubles", 0.0009, 0.0011, 0, [1], true),
  new KeyRow("every total zero: uniform", 0, 0, 1, [1], false),
];

const SEEDS = 20000;

/** Runs KEY_ROWS[r] over SEEDS seeds and checks every pick against the reference. */
function checkKeyRow(r: i32): void {
  let row = KEY_ROWS[r];
  let shape = new Rng(0x5eed + <u64>r);
  let p = new WeightedRandomPicker();
  let eps: Endpoint[] = [];
  for (let i = 0; i < 8; i++) eps.push(ep(i));
  let c = ctxOf(eps);
  let out: i32[] = [];
  let differ = 0;
  let fallbacks = 0;
  refUnderflows = 0;
  refDenormals = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    let n = 1 + shape.nextInt(8);
    let max = 1 + shape.nextInt(n);
    let tot = new Float64Array(n);
    let weights: f64[] = [];
    for (let k = 0; k < n; k++) {
      let zero = shape.nextF64() < row.zeroShare;
      tot[k] = zero ? 0 : row.minTotal + (row.maxTotal - row.minTotal) * shape.nextF64();
      let w = row.weights[shape.nextInt(row.weights.length)];
      eps[k].weight = w;
      weights.push(w);
    }
    c.rng.reseed(<u64>seed);
    p.pick(c, all(n), tot, max, out);
    let want = referencePick(new Rng(<u64>seed), tot, weights, max);
    if (out.join(",") != want) differ++;
    if (max > 1) fallbacks++;
  }
  expect(differ).toBe(0);
  expect(fallbacks).toBeGreaterThan(SEEDS / 2);
  // Rows about the edges must reach them: keys that underflowed to 0 (ties) and subnormal keys.
  if (row.edges) {
    expect(refUnderflows).toBeGreaterThan(100);
    expect(refDenormals).toBeGreaterThan(100);
  }
}

describe("weighted-random-picker keys: ln(u)/w picks what u^(1/w) picked", () => {
  it(KEY_ROWS[0].name, () => checkKeyRow(0));
  it(KEY_ROWS[1].name, () => checkKeyRow(1));
  it(KEY_ROWS[2].name, () => checkKeyRow(2));
  it(KEY_ROWS[3].name, () => checkKeyRow(3));
  it(KEY_ROWS[4].name, () => checkKeyRow(4));
  it(KEY_ROWS[5].name, () => checkKeyRow(5));
});
