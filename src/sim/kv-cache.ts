/**
 * The KV-cache block pool of one simulated server, with vLLM-style automatic prefix caching:
 * blocks of prompt tokens are keyed by their chained hash and shared by every running request that
 * needs them (reference-counted); when no request holds a block any more it stays cached and is
 * evicted least-recently-used first when space is needed.
 */
export class KvCache {
  /** hash → reference count. Map iteration order is the LRU order (oldest first). */
  private readonly blocks = new Map<number, number>();
  /**
   * Blocks allocated but not prefilled yet. Like vLLM, a block is only reusable once computed: a
   * request that arrives while another is still prefilling the same prefix computes it too.
   */
  private readonly computing = new Set<number>();
  /** Blocks held by at least one request (hashed ones with refcount > 0). */
  private pinned = 0;
  /** Unhashed blocks held privately by requests (partial prompt block, output tokens). */
  private privateBlocks = 0;
  /** Cumulative prompt tokens looked up and found (vLLM's prefix cache query/hit counters). */
  queriedTokens = 0;
  hitTokens = 0;

  constructor(readonly capacity: number) {}

  /** Blocks in use by running requests. */
  get used(): number {
    return this.pinned + this.privateBlocks;
  }

  /** Fraction of the pool held by running requests (vLLM `kv_cache_usage_perc`, 0..1). */
  get usage(): number {
    return this.used / this.capacity;
  }

  /** Number of leading `hashes` present in the cache and already computed. */
  matched(hashes: readonly number[]): number {
    let n = 0;
    while (n < hashes.length && this.blocks.has(hashes[n]!) && !this.computing.has(hashes[n]!)) n++;
    return n;
  }

  /** Marks a request's blocks as computed (its prefill finished): later requests may reuse them. */
  computed(hashes: readonly number[]): void {
    for (const h of hashes) this.computing.delete(h);
  }

  /** Whether a request needing these hashed blocks plus `extra` private blocks fits now. */
  fits(hashes: readonly number[], extra: number): boolean {
    let fresh = 0;
    for (const h of hashes) {
      const ref = this.blocks.get(h);
      if (ref === undefined) fresh++;
      else if (ref === 0) fresh++; // cached but unpinned: counts once pinned
    }
    return this.used + fresh + extra <= this.capacity;
  }

  /**
   * Pins the blocks of an admitted request (caller checked {@link fits}) and records the lookup
   * for the hit-rate counters. Returns the number of prompt blocks that were already cached.
   */
  acquire(hashes: readonly number[], extra: number, promptTokens: number, blockTokens: number): number {
    const hit = this.matched(hashes);
    this.queriedTokens += promptTokens;
    this.hitTokens += Math.min(promptTokens, hit * blockTokens);
    for (const h of hashes) {
      const ref = this.blocks.get(h);
      if (ref === undefined) {
        this.makeRoom(1);
        this.blocks.set(h, 1);
        this.computing.add(h);
        this.pinned++;
      } else {
        this.blocks.delete(h);
        this.blocks.set(h, ref + 1);
        if (ref === 0) this.pinned++;
      }
    }
    this.makeRoom(extra);
    this.privateBlocks += extra;
    return hit;
  }

  /** Unpins a finished request's blocks and caches `produced` (hashes of blocks its output completed). */
  release(hashes: readonly number[], extra: number, produced: readonly number[] = []): void {
    for (const h of hashes) {
      const ref = this.blocks.get(h);
      if (ref === undefined) continue;
      this.blocks.delete(h);
      if (ref === 1) this.pinned--;
      // A block nobody finished computing (request cancelled mid-prefill) holds no KV: drop it.
      if (ref === 1 && this.computing.has(h)) this.computing.delete(h);
      else this.blocks.set(h, Math.max(0, ref - 1));
    }
    this.privateBlocks -= extra;
    for (const h of produced) {
      if (this.blocks.has(h)) continue;
      if (!this.makeRoom(1)) break;
      this.blocks.set(h, 0);
    }
  }

  /** Evicts unpinned blocks, oldest first, until `n` more blocks fit. False when they cannot. */
  private makeRoom(n: number): boolean {
    while (this.blocks.size + this.privateBlocks + n > this.capacity) {
      let victim: number | undefined;
      for (const [h, ref] of this.blocks) {
        if (ref === 0) {
          victim = h;
          break;
        }
      }
      if (victim === undefined) return false;
      this.blocks.delete(victim);
    }
    return true;
  }

  /** Cached blocks (pinned or not). */
  get size(): number {
    return this.blocks.size;
  }
}
