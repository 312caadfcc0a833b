import { parseJson } from "../json/parse";
import { ConfigReader, ConfigNode, memberPath, quote } from "./reader";

function rootOf(r: ConfigReader, text: string): ConfigNode {
  const p = parseJson(text);
  expect(p.ok).toBe(true, p.error);
  return r.root(p.value!);
}

describe("ConfigReader", () => {
  it("reads typed members with defaults", () => {
    const r = new ConfigReader();
    const root = rootOf(r, '{"name": "x", "n": 3, "f": 0.5, "on": true, "mode": "route", "tags": ["a", "b"]}');
    expect(r.requireObject(root)).toBe(true);
    expect(r.optString(root, "name", "d")).toBe("x");
    expect(r.optString(root, "absent", "d")).toBe("d");
    expect(r.requireString(root, "name")).toBe("x");
    expect(r.optInt(root, "n", 0, 0, 10)).toBe(3);
    expect(r.optNumber(root, "f", 0, 0, 1)).toBe(0.5);
    expect(r.optNumber(root, "g", 7, 0, 10)).toBe(7.0);
    expect(r.optBool(root, "on", false)).toBe(true);
    expect(r.optBool(root, "off", true)).toBe(true);
    expect(r.optEnum(root, "mode", ["endpoint", "route"], "endpoint")).toBe("route");
    const tags = r.optStringArray(root, "tags");
    expect(tags.length).toBe(2);
    expect(tags[1]).toBe("b");
    expect(r.rejectUnknownKeys(root, ["name", "n", "f", "on", "mode", "tags"])).toBe(true);
    expect(r.ok).toBe(true);
    expect(r.error).toBe("");
  });

  it("names the path of a wrong type deep in the document", () => {
    const r = new ConfigReader();
    const root = rootOf(r, '{"a": {"b": [{"c": 1}, {"c": 2}, {"c": "x"}]}}');
    const a = r.optObject(root, "a")!;
    const b = r.optArray(a, "b")!;
    for (let i = 0; i < b.length; i++) r.optNumber(b.at(i)!, "c", 0);
    expect(r.error).toBe("$.a.b[2].c: expected number, got string");
  });

  it("keeps only the first error", () => {
    const r = new ConfigReader();
    const root = rootOf(r, '{"x": 1, "y": 2}');
    r.optString(root, "x");
    r.optString(root, "y");
    expect(r.ok).toBe(false);
    expect(r.error).toBe("$.x: expected string, got number");
  });

  it("reports unknown keys with the allowed list", () => {
    const r = new ConfigReader();
    const root = rootOf(r, '{"rules": [{"mach": {}}]}');
    const rule = r.optArray(root, "rules")!.at(0)!;
    expect(r.rejectUnknownKeys(rule, ["match", "request", "response"])).toBe(false);
    expect(r.error).toBe('$.rules[0].mach: unknown field "mach" (allowed: match, request, response)');
  });

  it("reports missing required fields, ranges, integers, enums and null", () => {
    let r = new ConfigReader();
    let root = rootOf(r, "{}");
    r.requireString(root, "name");
    expect(r.error).toBe("$.name: required field is missing");

    r = new ConfigReader();
    root = rootOf(r, '{"w": 0}');
    expect(r.optInt(root, "w", 1, 1, 1000000)).toBe(1);
    expect(r.error).toBe("$.w: must be between 1 and 1000000, got 0");

    r = new ConfigReader();
    root = rootOf(r, '{"w": 1.5}');
    r.optInt(root, "w", 1, 1, 10);
    expect(r.error).toBe("$.w: expected integer, got 1.5");

    r = new ConfigReader();
    root = rootOf(r, '{"mode": "x"}');
    r.optEnum(root, "mode", ["endpoint", "route"], "endpoint");
    expect(r.error).toBe('$.mode: must be one of "endpoint", "route", got "x"');

    r = new ConfigReader();
    root = rootOf(r, '{"s": null}');
    r.optString(root, "s", "d");
    expect(r.error).toBe("$.s: expected string, got null");

    r = new ConfigReader();
    root = rootOf(r, '{"s": ""}');
    r.optNonEmptyString(root, "s");
    expect(r.error).toBe("$.s: must not be empty");

    r = new ConfigReader();
    root = rootOf(r, "[]");
    expect(r.requireObject(root)).toBe(false);
    expect(r.error).toBe("$: expected object, got array");

    r = new ConfigReader();
    root = rootOf(r, '{"l": [1]}');
    r.optStringArray(root, "l");
    expect(r.error).toBe("$.l[0]: expected string, got number");

    r = new ConfigReader();
    root = rootOf(r, '{"o": 3}');
    expect(r.requireObjectField(root, "o")).toBeNull();
    expect(r.error).toBe("$.o: expected object, got number");
  });

  it("quotes keys that are not identifiers", () => {
    expect(memberPath("$", "a_b1")).toBe("$.a_b1");
    expect(memberPath("$", "x-tenant")).toBe('$["x-tenant"]');
    expect(memberPath("$.h", "")).toBe('$.h[""]');
    expect(memberPath("$", "1a")).toBe('$["1a"]');
    expect(quote("a\"b\n")).toBe('"a\\"b\\u000a"');
  });
});
