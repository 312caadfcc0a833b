import { JsonValue, JsonKind } from "./value";

describe("JsonValue", () => {
  it("builds objects that replace a repeated key in place", () => {
    const o = JsonValue.object();
    o.set("a", JsonValue.number(1));
    o.set("b", JsonValue.string("x"));
    o.set("a", JsonValue.bool(true));
    expect(o.length).toBe(2);
    expect(o.keyAt(0)).toBe("a");
    expect(o.get("a")!.asBool()).toBe(true);
    expect(o.valueAt(1)!.asString()).toBe("x");
    expect(o.valueAt(2)).toBeNull();
    expect(o.keyAt(5)).toBe("");
    expect(o.has("b")).toBe(true);
    expect(o.indexOfKey("zz")).toBe(-1);
  });
  it("builds arrays and names kinds like JSON Schema", () => {
    const a = JsonValue.array();
    a.push(JsonValue.null());
    a.push(JsonValue.number(2));
    expect(a.length).toBe(2);
    expect(a.kindName()).toBe("array");
    expect(a.at(0)!.kindName()).toBe("null");
    expect(a.at(1)!.kindName()).toBe("number");
    expect(JsonValue.bool(false).kindName()).toBe("boolean");
    expect(JsonValue.string("").kindName()).toBe("string");
    expect(JsonValue.object().kindName()).toBe("object");
    expect(a.kind).toBe(JsonKind.Array);
    // Mutators on the wrong kind are no-ops.
    a.set("k", JsonValue.null());
    expect(a.length).toBe(2);
  });
});
