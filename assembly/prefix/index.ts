// Approximate prefix-cache index (the EPP's `approx-prefix-cache-producer` indexer): which
// endpoint has probably cached which prompt blocks, learned from our own routing decisions.
// Each endpoint slot keeps an LRU of at most `perEndpoint` block hashes (EPP default 31,250) and
// the whole index holds at most `capacity` entries, so memory is fixed at construction: ~40
// bytes per entry (see memoryBytes, capacityForBudget). The EPP has no global cap (one LRU per
// server, grown on demand); ours is deliberate: a Wasm VM's linear memory never shrinks.
//
// Layout: struct-of-arrays over entry ids (no per-entry objects, nothing allocated after
// construction). A hash table of bucket heads chains entries with equal low hash bits; every
// entry is on two doubly linked LRU lists, its slot's and the global one.

const NIL: i32 = -1;

export const DEFAULT_PER_ENDPOINT: i32 = 31_250;
/**
 * Default entries of the whole index: the most that fit in 4 MiB (indexBytes: 98,304 x 32 bytes
 * plus 262,144 bucket heads). With 1,024 endpoints and 1 MiB bodies that keeps a VM within
 * 8 MiB of linear memory (docs/benchmarks.md); 131,072 entries (5 MiB) took it to 8.9 MiB.
 */
export const DEFAULT_CAPACITY: i32 = 98_304;

/** Bytes per entry of the parallel arrays (hash + 6 links). */
const ENTRY_BYTES: i32 = 8 + 6 * 4;

/** Bytes the index arrays take for `capacity` entries (buckets: next power of two >= 2x). */
export function indexBytes(capacity: i32): i64 {
  let nb: i64 = 1;
  while (nb < <i64>capacity * 2) nb <<= 1;
  return <i64>capacity * ENTRY_BYTES + nb * 4;
}

/** Largest capacity whose arrays fit in `budget` bytes (at least 1). */
export function capacityForBudget(budget: i64): i32 {
  let lo: i32 = 1;
  let hi: i32 = 1 << 26;
  while (lo < hi) {
    let mid = lo + ((hi - lo + 1) >> 1);
    if (indexBytes(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class PrefixIndex {
  readonly capacity: i32;
  readonly perEndpoint: i32;
  private hashes: StaticArray<u64>;
  private slotOf: StaticArray<i32>;
  private chainNext: StaticArray<i32>;
  private sPrev: StaticArray<i32>;
  private sNext: StaticArray<i32>;
  private gPrev: StaticArray<i32>;
  private gNext: StaticArray<i32>;
  private buckets: StaticArray<i32>;
  private mask: u64;
  private gHead: i32 = NIL;
  private gTail: i32 = NIL;
  private freeHead: i32 = NIL;
  private used: i32 = 0;
  // Per-slot LRU heads/tails/counts, grown on demand.
  private slotHead: i32[] = [];
  private slotTail: i32[] = [];
  private slotCount: i32[] = [];

  constructor(perEndpoint: i32 = DEFAULT_PER_ENDPOINT, capacity: i32 = DEFAULT_CAPACITY) {
    if (capacity < 1) capacity = 1;
    if (perEndpoint < 1) perEndpoint = 1;
    this.capacity = capacity;
    this.perEndpoint = perEndpoint;
    this.hashes = new StaticArray<u64>(capacity);
    this.slotOf = new StaticArray<i32>(capacity);
    this.chainNext = new StaticArray<i32>(capacity);
    this.sPrev = new StaticArray<i32>(capacity);
    this.sNext = new StaticArray<i32>(capacity);
    this.gPrev = new StaticArray<i32>(capacity);
    this.gNext = new StaticArray<i32>(capacity);
    let nb: i32 = 1;
    while (nb < capacity * 2) nb <<= 1;
    this.buckets = new StaticArray<i32>(nb);
    for (let i = 0; i < nb; i++) unchecked((this.buckets[i] = NIL));
    this.mask = <u64>(nb - 1);
    // Free list threaded through chainNext.
    for (let i = 0; i < capacity; i++) unchecked((this.chainNext[i] = i + 1 < capacity ? i + 1 : NIL));
    this.freeHead = 0;
  }

  /** Entries held. */
  get size(): i32 {
    return this.used;
  }

  /** Blocks held for `slot`. */
  countFor(slot: i32): i32 {
    return slot >= 0 && slot < this.slotCount.length ? this.slotCount[slot] : 0;
  }

  /** Bytes of the index's arrays (fixed at construction, plus the small per-slot arrays). */
  memoryBytes(): i32 {
    return this.capacity * ENTRY_BYTES + this.buckets.length * 4 + this.slotHead.length * 12;
  }

  private ensureSlot(slot: i32): void {
    while (this.slotHead.length <= slot) {
      this.slotHead.push(NIL);
      this.slotTail.push(NIL);
      this.slotCount.push(0);
    }
  }

  private find(hash: u64, slot: i32): i32 {
    let e = unchecked(this.buckets[<i32>(hash & this.mask)]);
    while (e != NIL) {
      if (unchecked(this.hashes[e]) == hash && unchecked(this.slotOf[e]) == slot) return e;
      e = unchecked(this.chainNext[e]);
    }
    return NIL;
  }

  /** Records that `slot` now caches blocks `hashes[0, n)` (inserting or refreshing each). */
  add(hashes: StaticArray<u64>, n: i32, slot: i32): void {
    if (slot < 0) return;
    this.ensureSlot(slot);
    let count = min(n, hashes.length);
    for (let i = 0; i < count; i++) {
      let h = unchecked(hashes[i]);
      let e = this.find(h, slot);
      if (e != NIL) {
        this.touch(e, slot);
      } else {
        this.insert(h, slot);
      }
    }
  }

  /**
   * For each slot in [0, slots), writes to `out[slot]` how many leading blocks of `hashes` it
   * holds: each slot's unbroken leading run (wayroute's older match, option
   * `prefixCache.matching: "leading-run"`). Stops at the first block nobody extends.
   */
  match(hashes: StaticArray<u64>, n: i32, out: Int32Array): void {
    // Runs per request with a prompt; `out` has one entry per endpoint slot, so it is cleared
    // with one fill and read/written by plain loads (Int32Array#__uget/__uset are out-of-line
    // calls in the size-optimised build).
    let slots = out.length;
    let outAt = out.dataStart;
    memory.fill(outAt, 0, <usize>slots << 2);
    let count = min(n, hashes.length);
    for (let i = 0; i < count; i++) {
      let h = unchecked(hashes[i]);
      let advanced = false;
      let e = unchecked(this.buckets[<i32>(h & this.mask)]);
      while (e != NIL) {
        if (unchecked(this.hashes[e]) == h) {
          let s = unchecked(this.slotOf[e]);
          let at = outAt + (<usize>s << 2);
          if (s < slots && load<i32>(at) == i) {
            store<i32>(at, i + 1);
            advanced = true;
          }
        }
        e = unchecked(this.chainNext[e]);
      }
      if (!advanced) break;
    }
  }

  /**
   * The EPP's match (approximateprefix matchLongestPrefix): walks `hashes[from, to)` while
   * some slot holds the current block and credits every slot that holds it, adding to
   * `out[slot]` (not cleared: a request with several prompts sums their chains). A slot can be
   * credited for block i without block i-1 (its LRU evicted that one), as in the EPP.
   */
  matchAnyHolder(hashes: StaticArray<u64>, from: i32, to: i32, out: Int32Array): void {
    let slots = out.length;
    let outAt = out.dataStart;
    let end = min(to, hashes.length);
    for (let i = from; i < end; i++) {
      let h = unchecked(hashes[i]);
      let held = false;
      let e = unchecked(this.buckets[<i32>(h & this.mask)]);
      while (e != NIL) {
        if (unchecked(this.hashes[e]) == h) {
          held = true;
          let s = unchecked(this.slotOf[e]);
          if (s < slots) {
            let at = outAt + (<usize>s << 2);
            store<i32>(at, load<i32>(at) + 1);
          }
        }
        e = unchecked(this.chainNext[e]);
      }
      if (!held) break;
    }
  }

  /** Forgets everything `slot` held (endpoint removed from the pool). */
  removeSlot(slot: i32): void {
    if (slot < 0 || slot >= this.slotHead.length) return;
    while (this.slotTail[slot] != NIL) this.evict(this.slotTail[slot]);
  }

  private insert(h: u64, slot: i32): void {
    if (this.slotCount[slot] >= this.perEndpoint) this.evict(this.slotTail[slot]);
    if (this.freeHead == NIL) this.evict(this.gTail);
    let e = this.freeHead;
    this.freeHead = unchecked(this.chainNext[e]);
    unchecked((this.hashes[e] = h));
    unchecked((this.slotOf[e] = slot));
    let b = <i32>(h & this.mask);
    unchecked((this.chainNext[e] = this.buckets[b]));
    unchecked((this.buckets[b] = e));
    this.linkSlotHead(e, slot);
    this.linkGlobalHead(e);
    this.slotCount[slot]++;
    this.used++;
  }

  private touch(e: i32, slot: i32): void {
    if (this.slotHead[slot] != e) {
      this.unlinkSlot(e, slot);
      this.linkSlotHead(e, slot);
    }
    if (this.gHead != e) {
      this.unlinkGlobal(e);
      this.linkGlobalHead(e);
    }
  }

  private evict(e: i32): void {
    if (e == NIL) return;
    let slot = unchecked(this.slotOf[e]);
    let h = unchecked(this.hashes[e]);
    let b = <i32>(h & this.mask);
    // Unlink from the bucket chain.
    let cur = unchecked(this.buckets[b]);
    let prev = NIL;
    while (cur != NIL && cur != e) {
      prev = cur;
      cur = unchecked(this.chainNext[cur]);
    }
    if (cur == e) {
      let next = unchecked(this.chainNext[e]);
      if (prev == NIL) unchecked((this.buckets[b] = next));
      else unchecked((this.chainNext[prev] = next));
    }
    this.unlinkSlot(e, slot);
    this.unlinkGlobal(e);
    this.slotCount[slot]--;
    this.used--;
    unchecked((this.chainNext[e] = this.freeHead));
    this.freeHead = e;
  }

  private linkSlotHead(e: i32, slot: i32): void {
    let head = this.slotHead[slot];
    unchecked((this.sPrev[e] = NIL));
    unchecked((this.sNext[e] = head));
    if (head != NIL) unchecked((this.sPrev[head] = e));
    this.slotHead[slot] = e;
    if (this.slotTail[slot] == NIL) this.slotTail[slot] = e;
  }

  private unlinkSlot(e: i32, slot: i32): void {
    let p = unchecked(this.sPrev[e]);
    let n = unchecked(this.sNext[e]);
    if (p != NIL) unchecked((this.sNext[p] = n));
    else this.slotHead[slot] = n;
    if (n != NIL) unchecked((this.sPrev[n] = p));
    else this.slotTail[slot] = p;
  }

  private linkGlobalHead(e: i32): void {
    unchecked((this.gPrev[e] = NIL));
    unchecked((this.gNext[e] = this.gHead));
    if (this.gHead != NIL) unchecked((this.gPrev[this.gHead] = e));
    this.gHead = e;
    if (this.gTail == NIL) this.gTail = e;
  }

  private unlinkGlobal(e: i32): void {
    let p = unchecked(this.gPrev[e]);
    let n = unchecked(this.gNext[e]);
    if (p != NIL) unchecked((this.gNext[p] = n));
    else this.gHead = n;
    if (n != NIL) unchecked((this.gPrev[n] = p));
    else this.gTail = p;
  }
}
