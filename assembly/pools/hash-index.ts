// Endpoint positions by key hash: the 64-bit hash of an endpoint key (state.ts keyHash) → the
// endpoint's position in its pool, for the in-flight counts that workers publish by hash.
//
// Open addressing with linear probing over two flat arrays, built once per endpoint set and at
// most half full. A Map<u64, i32> did the same, but it was the module's only map with 64-bit
// keys: this table is a fraction of its code, and a lookup is one or two probes with no entry
// chain to follow (it runs on every request that reads the in-flight counts).

export class HashIndex {
  private keys: StaticArray<u64>;
  /** Position + 1; 0 marks an empty slot. */
  private values: StaticArray<i32>;
  private mask: i32;

  /** An empty table with room for `n` entries. */
  constructor(n: i32) {
    let cap = 2;
    while (cap < n * 2) cap <<= 1;
    this.keys = new StaticArray<u64>(cap);
    this.values = new StaticArray<i32>(cap);
    this.mask = cap - 1;
  }

  /** Maps `h` to position `v` (>= 0); a later `set` of the same `h` replaces it, as Map#set does. */
  set(h: u64, v: i32): void {
    let i = this.slot(h);
    unchecked((this.keys[i] = h));
    unchecked((this.values[i] = v + 1));
  }

  /** The position mapped to `h`, -1 when there is none. */
  get(h: u64): i32 {
    return unchecked(this.values[this.slot(h)]) - 1;
  }

  /** The slot that holds `h`, or the empty slot where it would go. */
  private slot(h: u64): i32 {
    let m = this.mask;
    let i = <i32>(h ^ (h >> 32)) & m;
    while (unchecked(this.values[i]) != 0 && unchecked(this.keys[i]) != h) i = (i + 1) & m;
    return i;
  }
}
