import {
  HeaderPair,
  deserializeHeaderMap,
  deserializeHeaderMapAt,
  findHeader,
  serializeHeaderMap,
} from "./header-map";

function bytes(values: u8[]): ArrayBuffer {
  const out = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(out) + i, values[i]);
  return out;
}

describe("serializeHeaderMap", () => {
  it("writes count, lengths, then NUL-terminated keys and values", () => {
    const out = serializeHeaderMap([new HeaderPair("a", "bc"), new HeaderPair(":path", "/")]);
    const expected = bytes([
      2, 0, 0, 0,
      1, 0, 0, 0, 2, 0, 0, 0,
      5, 0, 0, 0, 1, 0, 0, 0,
      0x61, 0, 0x62, 0x63, 0,
      0x3a, 0x70, 0x61, 0x74, 0x68, 0, 0x2f, 0,
    ]);
    expect(out.byteLength).toBe(expected.byteLength);
    expect(memory.compare(changetype<usize>(out), changetype<usize>(expected), out.byteLength)).toBe(0);
  });

  it("encodes an empty map as a zero count", () => {
    const out = serializeHeaderMap([]);
    expect(out.byteLength).toBe(4);
    expect(load<u32>(changetype<usize>(out))).toBe(0);
  });

  it("uses UTF-8 byte lengths", () => {
    const out = serializeHeaderMap([new HeaderPair("k", "é")]);
    expect(load<u32>(changetype<usize>(out) + 8)).toBe(2);
  });
});

describe("deserializeHeaderMap", () => {
  it("round-trips pairs, including empty values and repeated keys", () => {
    const pairs = [
      new HeaderPair("x-a", "1"),
      new HeaderPair("x-empty", ""),
      new HeaderPair("x-a", "2"),
      new HeaderPair("x-utf8", "héllo ✓"),
    ];
    const back = deserializeHeaderMap(serializeHeaderMap(pairs));
    expect(back.length).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(back[i].key).toBe(pairs[i].key);
      expect(back[i].value).toBe(pairs[i].value);
    }
    expect(findHeader(back, "x-a")).toBe("1");
    expect(findHeader(back, "x-missing")).toBeNull();
  });

  it("treats truncated or inconsistent maps as empty", () => {
    expect(deserializeHeaderMap(new ArrayBuffer(0)).length).toBe(0);
    expect(deserializeHeaderMap(bytes([1, 0, 0])).length).toBe(0);
    // count 1 but no room for the lengths
    expect(deserializeHeaderMap(bytes([1, 0, 0, 0, 1, 0])).length).toBe(0);
    // lengths claim more data than present
    expect(deserializeHeaderMap(bytes([1, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0x61, 0, 0x62, 0])).length).toBe(0);
    // huge count must not wrap the bounds check
    expect(deserializeHeaderMap(bytes([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])).length).toBe(0);
    // huge lengths must not wrap either
    expect(
      deserializeHeaderMap(bytes([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0])).length,
    ).toBe(0);
  });

  it("decodes invalid UTF-8 without trapping", () => {
    const map = bytes([1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x6b, 0, 0xff, 0xc3, 0]);
    const back = deserializeHeaderMapAt(changetype<usize>(map), <usize>map.byteLength);
    expect(back.length).toBe(1);
    expect(back[0].key).toBe("k");
  });
});
