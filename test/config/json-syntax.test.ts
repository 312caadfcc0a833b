import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeJsonSyntaxError, jsonErrorOffset, lineColumn } from "../../src/config/json-syntax.js";

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("JSON syntax errors with line and column", () => {
  it("agrees with JSON.parse on valid JSON and on JSON with one character inserted or removed", () => {
    const mutated = fc.tuple(fc.json(), fc.nat(), fc.constantFrom("", ",", "]", "}", "{", '"', ":", "x", "\n", "\\", "0", "-", "e", " ")).map(([text, at, ch]) => {
      const i = at % (text.length + 1);
      return ch ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
    });
    fc.assert(fc.property(fc.oneof(fc.json(), mutated), (text) => {
      expect(jsonErrorOffset(text) === -1, text).toBe(parses(text));
    }), { numRuns: 2000 });
  });

  it.each([
    ['{\n  "a": 1,\n  b\n}', "line 3, column 3: Expected double-quoted property name"],
    ['{\n  "rules": [1,]\n}', "line 2, column 15: Unexpected token ']'"],
    ['{"a": ', "line 1, column 7: Unexpected end of JSON input"],
    ["[1] x", "line 1, column 5: Unexpected non-whitespace character after JSON"],
    ['{\n  "steps": [\n    { "tick": 5 },\n  ]\n}', "line 4, column 3: Unexpected token ']'"],
  ])("%j → %s", (text, expected) => {
    let err: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      err = e;
    }
    expect(describeJsonSyntaxError(text, err)).toBe(expected);
  });

  it("counts lines and columns from 1", () => {
    expect(lineColumn("ab\ncd", 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
  });
});
