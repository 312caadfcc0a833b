import {
  decodePropertyPath,
  decodePropertyString,
  decodePropertyU64,
  encodePropertyPath,
} from "./property-path";

describe("encodePropertyPath", () => {
  it("joins segments with a single NUL and no trailing NUL", () => {
    const path = encodePropertyPath(["xds", "cluster_name"]);
    expect(path.byteLength).toBe(16);
    expect(load<u8>(changetype<usize>(path) + 3)).toBe(0);
    expect(String.UTF8.decode(path.slice(4))).toBe("cluster_name");
  });

  it("encodes one segment as its bytes and no segments as empty", () => {
    expect(encodePropertyPath(["plugin_root_id"]).byteLength).toBe(14);
    expect(encodePropertyPath([]).byteLength).toBe(0);
  });

  it("round-trips through decodePropertyPath", () => {
    const back = decodePropertyPath(encodePropertyPath(["request", "headers", "x-é"]));
    expect(back.length).toBe(3);
    expect(back[0]).toBe("request");
    expect(back[2]).toBe("x-é");
  });
});

describe("property values", () => {
  it("reads 8-byte little-endian integers", () => {
    const value = new ArrayBuffer(8);
    store<u64>(changetype<usize>(value), 503);
    expect(decodePropertyU64(value)).toBe(503);
  });

  it("falls back when the value is not 8 bytes", () => {
    expect(decodePropertyU64(String.UTF8.encode("503"), 7)).toBe(7);
  });

  it("decodes string values as UTF-8", () => {
    expect(decodePropertyString(String.UTF8.encode("outbound|80||svc"))).toBe("outbound|80||svc");
  });
});
