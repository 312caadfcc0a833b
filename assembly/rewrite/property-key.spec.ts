import { propertyKey, propertySegments } from "./property-key";

describe("propertyKey", () => {
  it("splits dotted paths and keeps bracketed segments whole", () => {
    expect(propertyKey("source.address")).toBe("source\0address");
    expect(propertyKey("filter_state[io.istio.peer_principal]")).toBe("filter_state\0io.istio.peer_principal");
    expect(propertyKey("a[b.c].d")).toBe("a\0b.c\0d");
    expect(propertyKey("a[b][c]")).toBe("a\0b\0c");
    expect(propertyKey("plugin_name")).toBe("plugin_name");
    expect(propertySegments("a\0b.c").length).toBe(2);
  });
  it("refuses malformed paths", () => {
    expect(propertyKey("")).toBeNull();
    expect(propertyKey(".a")).toBeNull();
    expect(propertyKey("a.")).toBeNull();
    expect(propertyKey("a..b")).toBeNull();
    expect(propertyKey("a[b")).toBeNull();
    expect(propertyKey("a[]")).toBeNull();
    expect(propertyKey("a[b]c")).toBeNull();
    expect(propertyKey("a]b")).toBeNull();
    expect(propertyKey("a.[b]")).toBeNull();
  });
});
