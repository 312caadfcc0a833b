import { PrefixIndex, capacityForBudget, indexBytes } from "./index";
import { hashPrompt, hashModel, hashPromptBytes, hashPromptBlocks, hashSeed } from "./hash";

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

describe("hashPromptBlocks (the EPP's 64-token estimate blocks)", () => {
  it("counts the partial last block, zero-padded to a whole token", () => {
    let buf = String.UTF8.encode(repeat("x", 600), false);
    let p = changetype<usize>(buf);
    let out = new StaticArray<u64>(16);
    let seed = hashSeed("m", 0, 0);
    // 600 bytes: 256 + 256 + 88.
    expect(hashPromptBlocks(seed, p, 600, 256, 2048, out, 0)).toBe(3);
    expect(hashPromptBlocks(seed, p, 256, 256, 2048, out, 0)).toBe(1);
    expect(hashPromptBlocks(seed, p, 1, 256, 2048, out, 0)).toBe(1);
    expect(hashPromptBlocks(seed, p, 0, 256, 2048, out, 0)).toBe(0);
    // A partial token pads with zeros: "xx" and "xx\0" hash alike, as the EPP's packed tokens.
    let a = new StaticArray<u64>(1);
    let b = new StaticArray<u64>(1);
    let z = String.UTF8.encode("xx\0", false);
    hashPromptBlocks(seed, p, 2, 256, 1, a, 0);
    hashPromptBlocks(seed, changetype<usize>(z), 3, 256, 1, b, 0);
    expect(a[0]).toBe(b[0]);
  });

  it("bounds blocks by maxBlocks and the output, and seeds with model and salt", () => {
    let buf = String.UTF8.encode(repeat("y", 4096), false);
    let p = changetype<usize>(buf);
    let out = new StaticArray<u64>(8);
    expect(hashPromptBlocks(hashSeed("m", 0, 0), p, 4096, 256, 4, out, 0)).toBe(4);
    expect(hashPromptBlocks(hashSeed("m", 0, 0), p, 4096, 256, 2048, out, 5)).toBe(3);
    let salt = String.UTF8.encode("s1", false);
    let salt2 = String.UTF8.encode("s2", false);
    expect(hashSeed("m", changetype<usize>(salt), 2)).not.toBe(hashSeed("m", 0, 0));
    expect(hashSeed("m", changetype<usize>(salt), 2)).not.toBe(hashSeed("m", changetype<usize>(salt2), 2));
    expect(hashSeed("m", 0, 0)).not.toBe(hashSeed("n", 0, 0));
  });
});

class MatchCase {
  constructor(public name: string, public held: i32[][], public want: string) {}
}

  // Blocks 0..3 of one prompt; held[slot] lists the blocks each slot holds.
const matchCases: MatchCase[] = [
  new MatchCase("nobody holds block 0", [[1, 2], [3]], "0,0,0"),
  new MatchCase("leading runs", [[0, 1], [0, 1, 2]], "2,3,0"),
  new MatchCase("credit without the previous block (evicted)", [[0, 2], [0, 1]], "2,2,0"),
  new MatchCase("walk stops at the first block nobody holds", [[0], [0, 2, 3]], "1,1,0"),
  new MatchCase("every holder of a block is credited", [[0, 1, 2, 3], [0, 1, 2, 3], [0]], "4,4,1"),
];

describe("PrefixIndex.matchAnyHolder (the EPP's match)", () => {
  it("walks while any slot holds the block and credits every holder", () => {
    let text = repeat("a", 256) + repeat("b", 256) + repeat("c", 256) + repeat("d", 256);
    let buf = String.UTF8.encode(text, false);
    let h = new StaticArray<u64>(4);
    let n = hashPromptBlocks(hashSeed("m", 0, 0), changetype<usize>(buf), buf.byteLength, 256, 2048, h, 0);
    expect(n).toBe(4);
    for (let c = 0; c < matchCases.length; c++) {
      let idx = new PrefixIndex(100, 1000);
      let one = new StaticArray<u64>(1);
      for (let s = 0; s < matchCases[c].held.length; s++) {
        for (let k = 0; k < matchCases[c].held[s].length; k++) {
          one[0] = h[matchCases[c].held[s][k]];
          idx.add(one, 1, s);
        }
      }
      let out = new Int32Array(3);
      idx.matchAnyHolder(h, 0, n, out);
      expect(out[0].toString() + "," + out[1].toString() + "," + out[2].toString()).toBe(matchCases[c].want, matchCases[c].name);
    }
  });

  it("sizes the index to a memory budget", () => {
    let cap = capacityForBudget(8 << 20);
    expect(indexBytes(cap)).toBeLessThanOrEqual(8 << 20);
    expect(indexBytes(cap + 1)).toBeGreaterThan(8 << 20);
    expect(capacityForBudget(1)).toBe(1);
  });
});
