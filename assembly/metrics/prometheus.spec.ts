import { PromReader } from "./prometheus";
import { isStrictNumber, parseStrictNumber } from "./number";

class NumCase {
  constructor(public text: string, public ok: bool, public value: f64) {}
}

const numbers: NumCase[] = [
  new NumCase("1", true, 1),
  new NumCase("8.0", true, 8),
  new NumCase("-2.5e3", true, -2500),
  new NumCase("1.257894569e+09", true, 1257894569),
  new NumCase(".5", true, 0.5),
  new NumCase("+Inf", true, Infinity),
  new NumCase("-Inf", true, -Infinity),
  new NumCase("", false, 0),
  new NumCase("1.5abc", false, 0),
  new NumCase("e5", false, 0),
  new NumCase("1e", false, 0),
  new NumCase("--1", false, 0),
  new NumCase("0x10", false, 0),
];

describe("strict numbers", () => {
  it("accepts Prometheus float text and refuses trailing garbage", () => {
    for (let i = 0; i < numbers.length; i++) {
      let c = numbers[i];
      expect(isStrictNumber(c.text, 0, c.text.length)).toBe(c.ok, c.text);
      if (c.ok) expect(parseStrictNumber(c.text, 0, c.text.length)).toBe(c.value, c.text);
    }
  });
});

describe("PromReader", () => {
  it("reads names, labels, values and timestamps and skips comments", () => {
    let r = new PromReader(
      "# HELP x y\n# TYPE x gauge\n\nx 1\r\ny{a=\"1\",b=\"q\\\"z\\\\\",} 2.5 1700000000000\nz{le=\"+Inf\"} NaN\n",
    );
    expect(r.next()).toBe(true);
    expect(r.name()).toBe("x");
    expect(r.value).toBe(1);
    expect(r.timestampMs).toBe(-1);
    expect(r.next()).toBe(true);
    expect(r.nameIs("y")).toBe(true);
    expect(r.label("a")).toBe("1");
    expect(r.label("b")).toBe("q\"z\\");
    expect(r.label("c")).toBeNull();
    expect(r.timestampMs).toBe(1700000000000);
    expect(r.next()).toBe(true);
    expect(isNaN(r.value)).toBe(true);
    expect(r.label("le")).toBe("+Inf");
    expect(r.next()).toBe(false);
    expect(r.malformed).toBe(0);
    expect(r.samples).toBe(3);
  });

  it("skips and counts malformed lines without trapping", () => {
    let bad: string[] = [
      "x",
      "x{",
      "x{a=1} 2",
      "x{a=\"1\" 2",
      "x{a=\"1\"}2",
      "x 1.5abc",
      "x 1 2 3",
      "x 1 abc",
      "9x 1",
      "{a=\"b\"} 1",
      "x{=\"1\"} 1",
      "x{a=\"1\"b=\"2\"} 1",
      "x{a=\"\\",
      "x 1 -",
    ];
    for (let i = 0; i < bad.length; i++) {
      let r = new PromReader(bad[i] + "\nok 7\n");
      expect(r.next()).toBe(true, bad[i]);
      expect(r.nameIs("ok")).toBe(true, bad[i]);
      expect(r.malformed).toBe(1, bad[i]);
    }
  });

  it("handles an empty label value and an empty body", () => {
    let r = new PromReader("m{w=\"\"} 1");
    expect(r.next()).toBe(true);
    expect(r.label("w")).toBe("");
    expect(new PromReader("").next()).toBe(false);
  });
});
