import { Rng } from "../scheduling/rng";
import { HashIndex } from "./hash-index";
import { keyHash } from "./state";

// Against Map<u64, i32> (what the table replaced) on the same sets and lookups.

function compare(keys: u64[], misses: u64[]): i32 {
  let t = new HashIndex(keys.length);
  let m = new Map<u64, i32>();
  for (let i = 0; i < keys.length; i++) {
    t.set(keys[i], i);
    m.set(keys[i], i);
  }
  let differ = 0;
  for (let i = 0; i < keys.length; i++) if (t.get(keys[i]) != m.get(keys[i])) differ++;
  for (let i = 0; i < misses.length; i++) if (t.get(misses[i]) != (m.has(misses[i]) ? m.get(misses[i]) : -1)) differ++;
  return differ;
}

describe("HashIndex", () => {
  it("an empty table finds nothing", () => {
    expect(new HashIndex(0).get(0)).toBe(-1);
    expect(new HashIndex(0).get(0xffffffffffffffff)).toBe(-1);
  });

  it("finds what Map<u64, i32> finds: endpoint key hashes, 0 to 2,048 endpoints", () => {
    let sizes: i32[] = [1, 2, 3, 8, 64, 1024, 2048];
    for (let s = 0; s < sizes.length; s++) {
      let keys: u64[] = [];
      let misses: u64[] = [];
      for (let i = 0; i < sizes[s]; i++) {
        keys.push(keyHash("10." + (i >> 8).toString() + "." + (i & 255).toString() + ".1:8000"));
        misses.push(keyHash("10." + (i >> 8).toString() + "." + (i & 255).toString() + ".2:8000"));
      }
      expect(compare(keys, misses)).toBe(0);
    }
  });

  it("finds what Map<u64, i32> finds: colliding slots, repeated keys (the last set wins), 0", () => {
    let rng = new Rng(7);
    for (let round = 0; round < 50; round++) {
      let n = 1 + rng.nextInt(200);
      let keys: u64[] = [];
      let misses: u64[] = [];
      for (let i = 0; i < n; i++) {
        let pick = rng.nextInt(4);
        // Same low bits (one probe chain), repeats of an earlier key, 0, or any 64-bit value.
        let k: u64 = pick == 0 ? (<u64>rng.nextInt(8) << 40) : pick == 1 && i > 0 ? keys[rng.nextInt(i)] : pick == 2 ? 0 : rng.nextU64();
        keys.push(k);
        misses.push(rng.nextU64());
        misses.push(<u64>(i + 1) << 40);
      }
      expect(compare(keys, misses)).toBe(0);
    }
  });
});
