import { NameSet, PromReader, findNewline } from "./prometheus";
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
    let r = PromReader.ofText(
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
      let r = PromReader.ofText(bad[i] + "\nok 7\n");
      expect(r.next()).toBe(true, bad[i]);
      expect(r.nameIs("ok")).toBe(true, bad[i]);
      expect(r.malformed).toBe(1, bad[i]);
    }
  });

  it("handles an empty label value and an empty body", () => {
    let r = PromReader.ofText("m{w=\"\"} 1\n");
    expect(r.next()).toBe(true);
    expect(r.label("w")).toBe("");
    expect(PromReader.ofText("").next()).toBe(false);
  });

  it("never reads an unterminated last line", () => {
    let r = PromReader.ofText("a 1\nb 2");
    expect(r.next()).toBe(true);
    expect(r.nameIs("a")).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.cutLine).toBe(true);
    expect(r.samples).toBe(1);
  });

  it("half-parsed tokens are not values", () => {
    let bad: string[] = ["x 12abc\n", "x 1,5\n", "x 0x1F\n", "x 1.2.3\n", "x NaNx\n", "x +-1\n"];
    for (let i = 0; i < bad.length; i++) {
      let r = PromReader.ofText(bad[i]);
      expect(r.next()).toBe(false, bad[i]);
      expect(r.malformed).toBe(1, bad[i]);
    }
  });

  it("label values are data: escapes undone, } , = inside quotes are text", () => {
    let r = PromReader.ofText("m{a=\"x}y,z=w\",b=\"q\\\"\\n\\\\\\t\"} 3\n");
    expect(r.next()).toBe(true);
    expect(r.label("a")).toBe("x}y,z=w");
    expect(r.label("b")).toBe("q\"\n\\\\t");
    expect(r.value).toBe(3);
  });

  it("with a name set, returns only whole-name matches and skips the rest unread", () => {
    let names = new NameSet();
    names.add("vllm:num_requests_waiting");
    let r = PromReader.ofText(
      "# HELP vllm:num_requests_waiting x\nvllm:num_requests_waiting_total 9\nvllm:num_requests_waiting_by_reason{r=\"a\"} 8\n" +
      "other{l=\"vllm:num_requests_waiting 7\"} 1\ngarbage{{{ 1\nvllm:num_requests_waiting{m=\"a\"} 2\r\n",
      names,
    );
    expect(r.next()).toBe(true);
    expect(r.nameId).toBe(0);
    expect(r.value).toBe(2);
    expect(r.next()).toBe(false);
    expect(r.malformed).toBe(0);
  });

  it("finds newlines at every offset", () => {
    for (let len = 1; len < 40; len++) {
      for (let at = 0; at < len; at++) {
        let s = "x".repeat(at) + "\n" + "y".repeat(len - at - 1);
        let b = String.UTF8.encode(s, false);
        expect(findNewline(changetype<usize>(b), 0, b.byteLength)).toBe(at);
      }
      let b = String.UTF8.encode("z".repeat(len), false);
      expect(findNewline(changetype<usize>(b), 0, b.byteLength)).toBe(-1);
    }
  });
});
