import { parseJson } from "../json/parse";
import { ConfigReader, ConfigNode, wordIndex, words } from "./reader";
import {
  BOOL, CHECKED, CUSTOM, ENUM, ENUM_BOOL, HEADER, INT32, INT64, NON_EMPTY, NUMBER, PATH, REQUIRED, STRING,
} from "./fields";

/** A target with one field of each stored kind; the initializers are the defaults. */
class Sample {
  name: string = "dflt";
  count: i32 = 7;
  big: i64 = 5_000_000_000;
  share: f64 = 0.5;
  on: bool = true;
  path: string = "/p";
  header: string = "x-h";
  mode: i32 = 0;
  strict: bool = false;
  tag: string = "";
  after: i32 = 0;
}

const KEYS = `name count big share on path
  header mode strict tag after`;
const FIELDS = memory.data<f64>([
  STRING + REQUIRED + NON_EMPTY, offsetof<Sample>("name"), 0, 0,
  INT32, offsetof<Sample>("count"), 1, 8,
  INT64, offsetof<Sample>("big"), 0, 1_099_511_627_776,
  NUMBER, offsetof<Sample>("share"), 0.000001, 1,
  BOOL, offsetof<Sample>("on"), 0, 0,
  PATH, offsetof<Sample>("path"), 0, 0,
  HEADER, offsetof<Sample>("header"), 0, 0,
  ENUM, offsetof<Sample>("mode"), 0, 0,
  ENUM_BOOL + CHECKED, offsetof<Sample>("strict"), 0, 0,
  CUSTOM, 0, 0, 0, // tag
  INT32, offsetof<Sample>("after"), -5, 5,
]);
const CHOICES = "lax strict";

function rootOf(r: ConfigReader, text: string): ConfigNode {
  const p = parseJson(text);
  expect(p.ok).toBe(true, p.error);
  return r.root(p.value!);
}

class Refusal {
  constructor(public json: string, public error: string) {}
}

// One row per kind and check: the refusal names the field's path with the shared template.
const REFUSALS: Refusal[] = [
  new Refusal(`{}`, "$.name: required field is missing"),
  new Refusal(`{"name": ""}`, "$.name: must not be empty"),
  new Refusal(`{"name": 1}`, "$.name: expected string, got number"),
  new Refusal(`{"name": "a", "count": 9}`, "$.count: must be between 1 and 8, got 9"),
  new Refusal(`{"name": "a", "count": 1.5}`, "$.count: expected integer, got 1.5"),
  new Refusal(`{"name": "a", "count": null}`, "$.count: expected integer, got null"),
  new Refusal(`{"name": "a", "big": -1}`, "$.big: must be between 0 and 1099511627776, got -1"),
  new Refusal(`{"name": "a", "share": 0}`, "$.share: must be between 0.000001 and 1, got 0"),
  new Refusal(`{"name": "a", "share": "x"}`, "$.share: expected number, got string"),
  new Refusal(`{"name": "a", "on": 1}`, "$.on: expected boolean, got number"),
  new Refusal(`{"name": "a", "path": "p"}`, "$.path: must start with '/'"),
  new Refusal(`{"name": "a", "path": ""}`, "$.path: must start with '/'"),
  new Refusal(`{"name": "a", "header": ""}`, "$.header: must not be empty"),
  new Refusal(`{"name": "a", "header": "X-A"}`, '$.header: header names are lower-case tokens (got "X-A")'),
  new Refusal(`{"name": "a", "mode": "loose"}`, '$.mode: must be one of "lax", "strict", got "loose"'),
  new Refusal(`{"name": "a", "oops": 1}`, '$.oops: unknown field "oops" (allowed: name, count, big, share, on, path, header, mode, strict, tag, after)'),
  // The first problem in key order wins, whatever the order in the document.
  new Refusal(`{"count": 0, "name": ""}`, "$.name: must not be empty"),
  new Refusal(`{"on": 2, "name": "a", "count": 0}`, "$.count: must be between 1 and 8, got 0"),
];

describe("declared fields (readFields)", () => {
  it("store present keys and keep the initializers of absent ones", () => {
    const r = new ConfigReader();
    const root = rootOf(r, `{"name": "n", "count": 8, "big": 1099511627776, "share": 1, "on": false,
      "path": "/q", "header": "x-tenant", "mode": "strict", "strict": "strict", "after": -5}`);
    const s = new Sample();
    expect(r.readObject(root, s, KEYS, FIELDS, CHOICES)).toBe(9, "stops after the CHECKED row");
    expect(r.readFields(root, s, KEYS, FIELDS, 10)).toBe(11);
    expect(r.ok).toBe(true, r.error);
    expect(s.name).toBe("n");
    expect(s.count).toBe(8);
    expect(s.big).toBe(1_099_511_627_776);
    expect(s.share).toBe(1.0);
    expect(s.on).toBe(false);
    expect(s.path).toBe("/q");
    expect(s.header).toBe("x-tenant");
    expect(s.mode).toBe(1);
    expect(s.strict).toBe(true);
    expect(s.after).toBe(-5);

    const r2 = new ConfigReader();
    const d = new Sample();
    expect(r2.readObject(rootOf(r2, `{"name": "n"}`), d, KEYS, FIELDS, CHOICES)).toBe(9);
    expect(r2.readFields(rootOf(r2, `{}`), d, KEYS, FIELDS, 9)).toBe(9, "stops before the CUSTOM row");
    expect(r2.ok).toBe(true, r2.error);
    expect(d.count).toBe(7);
    expect(d.big).toBe(5_000_000_000);
    expect(d.share).toBe(0.5);
    expect(d.on).toBe(true);
    expect(d.path).toBe("/p");
    expect(d.header).toBe("x-h");
    expect(d.mode).toBe(0);
    expect(d.strict).toBe(false);
  });

  it("refuse with the shared templates, naming the path", () => {
    for (let i = 0; i < REFUSALS.length; i++) {
      const c = REFUSALS[i];
      const r = new ConfigReader();
      r.readObject(rootOf(r, c.json), new Sample(), KEYS, FIELDS, CHOICES);
      expect(r.error).toBe(c.error, c.json);
    }
  });

  it("split key and choice lists on blanks and line breaks", () => {
    const w = words(" a  b\n  c ");
    expect(w.length).toBe(3);
    expect(w[0]).toBe("a");
    expect(w[1]).toBe("b");
    expect(w[2]).toBe("c");
    expect(words("").length).toBe(0);
  });

  it("find a word in a list without splitting it", () => {
    // [list, word, index]: whole words only, blanks and line breaks, first and last, absent.
    const cases: string[][] = [
      [" a  bc\n  c ", "a", "0"],
      [" a  bc\n  c ", "bc", "1"],
      [" a  bc\n  c ", "c", "2"],
      [" a  bc\n  c ", "b", "-1"],
      [" a  bc\n  c ", "bc c", "-1"],
      [" a  bc\n  c ", "", "-1"],
      ["", "a", "-1"],
      ["name count", "count", "1"],
      ["name count", "counts", "-1"],
    ];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      expect(wordIndex(c[0], c[1])).toBe(I32.parseInt(c[2]), c[0] + " / " + c[1]);
      // The same answer as the split list.
      expect(wordIndex(c[0], c[1])).toBe(words(c[0]).indexOf(c[1]));
    }
  });
});
