import { parseJson, DuplicateKeys, MAX_JSON_DEPTH } from "./parse";
import { JsonKind } from "./value";

function errorOf(text: string): string {
  const r = parseJson(text);
  expect(r.ok).toBe(false, text);
  expect(r.value).toBeNull();
  return r.error;
}

describe("parseJson: values", () => {
  it("parses scalars", () => {
    expect(parseJson("null").value!.isNull()).toBe(true);
    expect(parseJson("true").value!.asBool()).toBe(true);
    expect(parseJson(" false ").value!.asBool()).toBe(false);
    expect(parseJson("-12.5e2").value!.asNumber()).toBe(-1250.0);
    expect(parseJson("0").value!.asNumber()).toBe(0.0);
    expect(parseJson("1E+2").value!.asNumber()).toBe(100.0);
    expect(parseJson("\"hi\"").value!.asString()).toBe("hi");
  });

  it("parses nested objects and arrays, keeping member order", () => {
    const r = parseJson('{"b": [1, {"c": null}], "a": {"x": "y"}}');
    expect(r.ok).toBe(true);
    const v = r.value!;
    expect(v.isObject()).toBe(true);
    expect(v.length).toBe(2);
    const keys = v.keys();
    expect(keys[0]).toBe("b");
    expect(keys[1]).toBe("a");
    const b = v.get("b")!;
    expect(b.isArray()).toBe(true);
    expect(b.length).toBe(2);
    expect(b.at(0)!.asNumber()).toBe(1.0);
    expect(b.at(1)!.get("c")!.isNull()).toBe(true);
    expect(b.at(2)).toBeNull();
    expect(b.at(-1)).toBeNull();
    expect(v.get("a")!.get("x")!.asString()).toBe("y");
    expect(v.get("missing")).toBeNull();
    expect(v.get("a")!.offset).toBe(29);
  });

  it("accessors on the wrong kind return neutral values", () => {
    const v = parseJson("[1]").value!;
    expect(v.get("a")).toBeNull();
    expect(v.asString()).toBe("");
    expect(isNaN(v.asNumber())).toBe(true);
    expect(v.asBool()).toBe(false);
    expect(v.keys().length).toBe(0);
    expect(parseJson("3").value!.at(0)).toBeNull();
    expect(parseJson("{}").value!.kind).toBe(JsonKind.Object);
  });

  it("decodes every escape and joins surrogate pairs", () => {
    const v = parseJson('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00"').value!;
    expect(v.asString()).toBe("a\"b\\c/d\b\f\n\r\tAé😀");
  });

  it("keeps a lone surrogate escape like JSON.parse", () => {
    const s = parseJson('"x\\ud800y"').value!.asString();
    expect(s.length).toBe(3);
    expect(s.charCodeAt(1)).toBe(0xd800);
  });

  it("decodes raw UTF-8", () => {
    expect(parseJson('"héllo wörld 😀 中文"').value!.asString()).toBe("héllo wörld 😀 中文");
  });

  it("accepts nesting up to the limit", () => {
    let s = "";
    for (let i = 0; i < MAX_JSON_DEPTH; i++) s += "[";
    for (let i = 0; i < MAX_JSON_DEPTH; i++) s += "]";
    expect(parseJson(s).ok).toBe(true);
  });

  it("keeps the last duplicate when asked (JSON.parse semantics)", () => {
    const r = parseJson('{"a": 1, "b": 2, "a": 3}', DuplicateKeys.LastWins);
    expect(r.ok).toBe(true);
    expect(r.value!.get("a")!.asNumber()).toBe(3.0);
    expect(r.value!.keyAt(0)).toBe("a");
    expect(r.value!.length).toBe(2);
  });
});

describe("parseJson: errors name the byte offset and never trap", () => {
  it("rejects duplicate keys by default", () => {
    expect(errorOf('{"a": 1, "a": 2}')).toBe('duplicate key "a" at byte 9');
  });
  it("rejects malformed documents", () => {
    expect(errorOf("")).toBe("unexpected end of input at byte 0");
    expect(errorOf("{")).toBe("unexpected end of input at byte 1");
    expect(errorOf('{"a" 1}')).toBe("unexpected character '1' at byte 5");
    expect(errorOf("[1,]")).toBe("unexpected character ']' at byte 3");
    expect(errorOf('{"a":1,}')).toBe("unexpected character '}' at byte 7");
    expect(errorOf("[1 2]")).toBe("unexpected character '2' at byte 3");
    expect(errorOf("1 2")).toBe("unexpected character '2' at byte 2");
    expect(errorOf("nul")).toBe("unexpected character 'n' at byte 0");
    expect(errorOf("tru e")).toBe("unexpected character 't' at byte 0");
    expect(errorOf("01")).toBe("invalid number (leading zero) at byte 0");
    expect(errorOf("-")).toBe("invalid number at byte 0");
    expect(errorOf("1.")).toBe("invalid number (digit expected after '.') at byte 2");
    expect(errorOf("1e")).toBe("invalid number (digit expected in exponent) at byte 2");
    expect(errorOf("NaN")).toBe("unexpected character 'N' at byte 0");
    expect(errorOf('"abc')).toBe("unterminated string at byte 4");
    expect(errorOf('"a\\x"')).toBe("invalid escape sequence in string at byte 2");
    expect(errorOf('"\\u12zz"')).toBe("invalid escape sequence in string at byte 1");
    expect(errorOf('"\\u12"')).toBe("unterminated string at byte 6");
    expect(errorOf('"\\u12')).toBe("unterminated string at byte 5");
    expect(errorOf('"a\nb"')).toBe("unescaped control character in string at byte 2");
    expect(errorOf("\u0001")).toBe("unexpected byte 0x01 at byte 0");
    expect(errorOf("// c\n{}")).toBe("unexpected character '/' at byte 0");
  });
  it("rejects nesting beyond the limit without deep recursion", () => {
    let s = "";
    for (let i = 0; i < 100000; i++) s += "[";
    expect(errorOf(s)).toBe("nesting deeper than 64 levels at byte 64");
    let o = "";
    for (let i = 0; i < 1000; i++) o += '{"a":';
    expect(errorOf(o)).toBe("nesting deeper than 64 levels at byte 320");
  });
  it("survives every truncation of a document", () => {
    const doc = '{"a": [1, 2.5e-3, "x\\u00e9\\ud83d\\ude00", {"b": [true, false, null]}], "c": ""}';
    expect(parseJson(doc).ok).toBe(true);
    for (let i = 0; i < doc.length; i++) {
      const r = parseJson(doc.substring(0, i));
      expect(r.ok).toBe(false);
      expect(r.error.length).toBeGreaterThan(0);
    }
  });
});
