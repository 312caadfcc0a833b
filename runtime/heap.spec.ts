import { ROOT_BYTES, checkHeap, heapAlloc, heapEnd, heapFree, heapRealloc, initHeap, spanFor } from "./heap";

// Each test heap lives in a region taken from the test runner's own heap and never grows past
// it (the `limit` argument), so the real allocator is exercised without touching memory.grow.
const PAGE: usize = 65536;

function region(bytes: usize): usize {
  const raw = heap.alloc(bytes + 16);
  return (raw + 15) & ~<usize>15;
}

/** A heap whose first `pages` pages exist and which may grow to `maxPages`. */
function testHeap(pages: usize, maxPages: usize): usize {
  const root = region(maxPages * PAGE);
  // The region is page-aligned in size only; growth adds whole pages past the current end.
  initHeap(root, root + pages * PAGE, root + maxPages * PAGE);
  return root;
}

/** A small deterministic generator (LCG), so a failing sequence can be replayed. */
let seed: u32 = 14;
function next(n: u32): u32 {
  seed = seed * 1103515245 + 12345;
  return (seed >> 8) % n;
}

describe("heap", () => {
  it("hands out 16-byte aligned payloads whose header holds a size at least the one asked", () => {
    const root = testHeap(1, 4);
    for (let size: usize = 0; size < 300; size += 7) {
      const p = heapAlloc(root, size);
      expect(p & 15).toBe(0);
      expect(<usize>(load<u32>(p - 4) & ~3)).toBeGreaterThanOrEqual(size);
      expect(checkHeap(root)).toBeGreaterThanOrEqual(0);
    }
  });

  it("merges freed neighbours both ways, so the heap is one free block again", () => {
    const root = testHeap(1, 1);
    const before = checkHeap(root);
    const a = heapAlloc(root, 100);
    const b = heapAlloc(root, 200);
    const c = heapAlloc(root, 300);
    heapFree(root, a);
    heapFree(root, c);
    expect(checkHeap(root)).toBeGreaterThan(0);
    heapFree(root, b);
    expect(checkHeap(root)).toBe(before);
    // The whole space is one block again: the largest allocation that fits, fits.
    const all = heapAlloc(root, <usize>before - 4);
    expect(all).toBeGreaterThan(0);
    expect(checkHeap(root)).toBe(0);
  });

  it("grows by the pages a block needs, not by doubling", () => {
    const root = testHeap(1, 64);
    const end = heapEnd(root);
    const big = heapAlloc(root, 3 * PAGE);
    expect(big).toBeGreaterThan(0);
    // One page existed (partly free), so at most three more are needed.
    expect(heapEnd(root) - end).toBeLessThanOrEqual(3 * PAGE);
    expect(checkHeap(root)).toBeGreaterThanOrEqual(0);
  });

  it("reuses a freed block of the same size class before growing", () => {
    const root = testHeap(1, 64);
    const first = heapAlloc(root, 1000000);
    const guard = heapAlloc(root, 16);
    heapFree(root, first);
    const end = heapEnd(root);
    // Slightly smaller: the same bin as the freed block, found by the walk before growing.
    const second = heapAlloc(root, 999000);
    expect(second).toBe(first);
    expect(heapEnd(root)).toBe(end);
    heapFree(root, guard);
    expect(checkHeap(root)).toBeGreaterThanOrEqual(0);
  });

  it("returns 0 when the region cannot grow", () => {
    const root = testHeap(1, 2);
    expect(heapAlloc(root, 3 * PAGE)).toBe(0);
    expect(checkHeap(root)).toBeGreaterThanOrEqual(0);
  });

  it("reallocates in place when shrinking or when the right neighbour is free, and keeps the bytes", () => {
    const root = testHeap(1, 8);
    const a = heapAlloc(root, 64);
    for (let i: usize = 0; i < 64; i++) store<u8>(a + i, <u8>i);
    expect(heapRealloc(root, a, 32, 0)).toBe(a);
    expect(heapRealloc(root, a, 4000, 0)).toBe(a);
    for (let i: usize = 0; i < 32; i++) expect(load<u8>(a + i)).toBe(<u8>i);
    const b = heapAlloc(root, 16);
    const moved = heapRealloc(root, a, 8000, 0);
    expect(moved).not.toBe(a);
    for (let i: usize = 0; i < 32; i++) expect(load<u8>(moved + i)).toBe(<u8>i);
    heapFree(root, b);
    heapFree(root, moved);
    expect(checkHeap(root)).toBeGreaterThanOrEqual(0);
  });

  it("keeps every invariant over random allocations, frees and reallocations", () => {
    const root = testHeap(1, 256);
    const live = new StaticArray<usize>(200);
    const sizes = new StaticArray<usize>(200);
    for (let round = 0; round < 1500; round++) {
      const i = <i32>next(200);
      if (live[i] == 0) {
        // Mostly small, sometimes large (up to 256 KiB), like request bodies among objects.
        const size = next(10) == 0 ? <usize>next(256 * 1024) : <usize>next(600);
        const p = heapAlloc(root, size);
        expect(p).toBeGreaterThan(0);
        memory.fill(p, <u8>i, size);
        live[i] = p;
        sizes[i] = size;
      } else if (next(4) == 0) {
        const size = <usize>next(4096);
        const p = heapRealloc(root, live[i], size, 0);
        expect(p).toBeGreaterThan(0);
        const keep = size < sizes[i] ? size : sizes[i];
        for (let k: usize = 0; k < keep; k += 1021) expect(load<u8>(p + k)).toBe(<u8>i);
        memory.fill(p, <u8>i, size);
        live[i] = p;
        sizes[i] = size;
      } else {
        const p = live[i];
        for (let k: usize = 0; k < sizes[i]; k += 1021) expect(load<u8>(p + k)).toBe(<u8>i);
        heapFree(root, p);
        live[i] = 0;
      }
      if (round % 50 == 0) expect(checkHeap(root)).toBeGreaterThanOrEqual(0);
    }
    for (let i = 0; i < 200; i++) if (live[i] != 0) heapFree(root, live[i]);
    // Everything freed: one free block from the first header to the sentinel.
    expect(<usize>checkHeap(root)).toBe(heapEnd(root) - 4 - (((root + ROOT_BYTES + 4 + 15) & ~<usize>15) - 4));
  });

  it("rounds sizes to 16-byte spans with a 16-byte minimum", () => {
    expect(spanFor(0)).toBe(16);
    expect(spanFor(12)).toBe(16);
    expect(spanFor(13)).toBe(32);
    expect(spanFor(1000)).toBe(1008);
  });
});
