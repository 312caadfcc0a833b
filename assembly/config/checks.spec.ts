import { parseJson } from "../json/parse";
import { ConfigNode, ConfigReader } from "./reader";
import { atMost, failIf, headerNameProblem, isObjectWith, modelNameProblem, readStrings } from "./checks";

function rootOf(r: ConfigReader, text: string): ConfigNode {
  const p = parseJson(text);
  expect(p.ok).toBe(true, p.error);
  return r.root(p.value!);
}

function shortProblem(s: string): string {
  return s.length > 2 ? "longer than 2: " + s : "";
}

/** One readStrings case: document, expected error ("" = none), expected strings read. */
class StringsCase {
  constructor(
    public doc: string,
    public empty: string,
    public error: string,
    public read: string,
  ) {}
}

describe("readStrings", () => {
  it("reads, judges and reports each element by path", () => {
    const cases: StringsCase[] = [
      new StringsCase('{"a": ["x", "yy"]}', "", "", "x,yy"),
      new StringsCase("{}", "", "", "-"),
      new StringsCase('{"a": []}', "", "", ""),
      new StringsCase('{"a": []}', "must not be empty here", "$.a: must not be empty here", ""),
      new StringsCase('{"a": ["x", "long", "zzz"]}', "", "$.a[1]: longer than 2: long", "x,long"),
      new StringsCase('{"a": ["x", 5, "zzz"]}', "", "$.a[1]: expected string, got number", "x,"),
      new StringsCase('{"a": "x"}', "", "$.a: expected array, got string", "-"),
      new StringsCase('{"a": null}', "", "$.a: expected array, got null", "-"),
    ];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      const r = new ConfigReader();
      const into = new Array<string>();
      const node = readStrings(r, rootOf(r, c.doc), "a", into, shortProblem, c.empty);
      expect(r.error).toBe(c.error, c.doc);
      expect(node == null ? "-" : into.join(",")).toBe(c.read, c.doc);
    }
  });
});

describe("atMost, isObjectWith, failIf", () => {
  it("bounds array sizes with one message shape", () => {
    const r = new ConfigReader();
    const root = rootOf(r, '{"a": [1, 2, 3]}');
    const a = root.child("a")!;
    expect(atMost(r, a, 3, "things")).toBe(true);
    expect(r.ok).toBe(true);
    expect(atMost(r, a, 2, "things")).toBe(false);
    expect(r.error).toBe("$.a: at most 2 things are allowed, got 3");
  });

  it("wants an object with known keys", () => {
    const docs = ['{"k": 1}', '{"k": 1, "j": 2}', "[]", "3"];
    const errors = ["", '$.j: unknown field "j" (allowed: k)', "$: expected object, got array", "$: expected object, got number"];
    for (let i = 0; i < docs.length; i++) {
      const r = new ConfigReader();
      expect(isObjectWith(r, rootOf(r, docs[i]), "k")).toBe(errors[i].length == 0, docs[i]);
      expect(r.error).toBe(errors[i], docs[i]);
    }
  });

  it("reports only a non-empty problem", () => {
    const r = new ConfigReader();
    const root = rootOf(r, "{}");
    failIf(r, root, "");
    expect(r.ok).toBe(true);
    failIf(r, root, "bad");
    expect(r.error).toBe("$: bad");
  });
});

describe("headerNameProblem and modelNameProblem", () => {
  it("judges header names, with and without the proxy-owned rule", () => {
    const names = ["x-a", "X-A", "host", "host", "host", ""];
    const why: Array<string | null> = [" (why)", " (why)", null, "", " (why)", null];
    const want = [
      "",
      "\"X-A\" must be a lower-case header name token (a-z 0-9 !#$%&'*+-.^_`|~)",
      "",
      "\"host\" is managed by the proxy",
      "\"host\" is managed by the proxy (why)",
      "\"\" must be a lower-case header name token (a-z 0-9 !#$%&'*+-.^_`|~)",
    ];
    for (let i = 0; i < names.length; i++) expect(headerNameProblem(names[i], why[i])).toBe(want[i], i.toString());
  });

  it("judges model names", () => {
    const models = ["llama", "", "a\nb", "\ud800"];
    const control = "must not contain a control character (U+0000-U+001F, U+007F) or a lone surrogate (it is sent in a header)";
    const want = ["", "must not be empty", control, control];
    for (let i = 0; i < models.length; i++) expect(modelNameProblem(models[i])).toBe(want[i], i.toString());
  });
});
