import { PrefixIndex } from "./index";
import { hashPrompt, hashModel, hashPromptBytes } from "./hash";

function repeat(s: string, n: i32): string {
  let out = "";
  for (let i = 0; i < n; i++) out += s;
  return out;
}

// 64-character blocks.
const A = repeat("a", 64);
const B = repeat("b", 64);
const C = repeat("c", 64);

describe("hashPrompt", () => {
  it("chains block hashes seeded with the model and ignores a partial tail", () => {
    let out1 = new StaticArray<u64>(256);
    let out2 = new StaticArray<u64>(256);
    expect(hashPrompt("m", A + B + "tail", 64, 256, out1)).toBe(2);
    expect(hashPrompt("m", A + C, 64, 256, out2)).toBe(2);
    expect(out1[0]).toBe(out2[0]);
    expect(out1[1]).not.toBe(out2[1]);
    // Same prompt, other model: nothing shared.
    let out3 = new StaticArray<u64>(256);
    hashPrompt("other", A + B, 64, 256, out3);
    expect(out3[0]).not.toBe(out1[0]);
    // Same block content at another position has another hash (chained).
    let out4 = new StaticArray<u64>(256);
    hashPrompt("m", B + A, 64, 256, out4);
    expect(out4[1]).not.toBe(out1[0]);
    expect(hashPrompt("m", "short", 64, 256, out4)).toBe(0);
    expect(hashModel("m")).toBe(hashModel("m"));
  });

  it("bounds the number of blocks", () => {
    let out = new StaticArray<u64>(256);
    expect(hashPrompt("m", repeat(A, 300), 64, 256, out)).toBe(256);
    expect(hashPrompt("m", repeat(A, 300), 64, 8, out)).toBe(8);
    let small = new StaticArray<u64>(4);
    expect(hashPrompt("m", repeat(A, 10), 64, 256, small)).toBe(4);
  });
});

describe("PrefixIndex", () => {
  it("matches the longest leading run of blocks per slot", () => {
    let idx = new PrefixIndex(100, 1000);
    let h = new StaticArray<u64>(256);
    let n = hashPrompt("m", A + B + C, 64, 256, h);
    idx.add(h, 2, 0); // slot 0 has A,B
    idx.add(h, 3, 1); // slot 1 has A,B,C
    let out = new Int32Array(3);
    idx.match(h, n, out);
    expect(out[0]).toBe(2);
    expect(out[1]).toBe(3);
    expect(out[2]).toBe(0);
    // A prompt diverging after A matches one block on both.
    let h2 = new StaticArray<u64>(256);
    let n2 = hashPrompt("m", A + C + C, 64, 256, h2);
    idx.match(h2, n2, out);
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(1);
  });

  it("evicts the least recently used block of a slot at its cap", () => {
    let idx = new PrefixIndex(2, 100);
    let h = new StaticArray<u64>(3);
    h[0] = 1; h[1] = 2; h[2] = 3;
    idx.add(h, 2, 0);
    let one = new StaticArray<u64>(1);
    one[0] = 1;
    idx.add(one, 1, 0); // refresh 1, so 2 is the LRU
    let three = new StaticArray<u64>(1);
    three[0] = 3;
    idx.add(three, 1, 0);
    expect(idx.countFor(0)).toBe(2);
    let out = new Int32Array(1);
    idx.match(one, 1, out);
    expect(out[0]).toBe(1);
    let two = new StaticArray<u64>(1);
    two[0] = 2;
    idx.match(two, 1, out);
    expect(out[0]).toBe(0);
  });

  it("evicts globally at capacity and never exceeds it", () => {
    let idx = new PrefixIndex(1000, 16);
    let h = new StaticArray<u64>(1);
    for (let i = 0; i < 100; i++) {
      h[0] = <u64>i * 7919;
      idx.add(h, 1, i % 5);
      expect(idx.size).toBeLessThanOrEqual(16);
    }
    expect(idx.size).toBe(16);
    // The newest survive.
    let out = new Int32Array(5);
    h[0] = <u64>99 * 7919;
    idx.match(h, 1, out);
    expect(out[99 % 5]).toBe(1);
    h[0] = 0;
    idx.match(h, 1, out);
    expect(out[0]).toBe(0);
  });

  it("removes a slot and reuses its entries", () => {
    let idx = new PrefixIndex(100, 8);
    let h = new StaticArray<u64>(4);
    for (let i = 0; i < 4; i++) h[i] = <u64>(i + 10);
    idx.add(h, 4, 3);
    expect(idx.size).toBe(4);
    idx.removeSlot(3);
    expect(idx.size).toBe(0);
    let out = new Int32Array(4);
    idx.match(h, 4, out);
    expect(out[3]).toBe(0);
    idx.add(h, 4, 1);
    idx.add(h, 4, 2);
    expect(idx.size).toBe(8);
  });
});

describe("hashPromptBytes", () => {
  it("blocks UTF-8 bytes and chains like hashPrompt", () => {
    let bytes = String.UTF8.encode(A + B + "x", false);
    let out = new StaticArray<u64>(8);
    expect(hashPromptBytes("m", changetype<usize>(bytes), bytes.byteLength, 64, 256, out)).toBe(2);
    let other = String.UTF8.encode(A + C, false);
    let out2 = new StaticArray<u64>(8);
    hashPromptBytes("m", changetype<usize>(other), other.byteLength, 64, 256, out2);
    expect(out2[0]).toBe(out[0]);
    expect(out2[1]).not.toBe(out[1]);
  });
});
