// The program's one heap, behind the allocator entry points the AssemblyScript runtime calls
// (`__alloc`, `__realloc`, `__free`; the collector in std rt/tcms allocates through them).
// It starts at __heap_base (static data lies below) and owns the end of linear memory.
// It never collects: with the minimal runtime a collection is safe only where no frame holds a
// managed value, which proxy-wasm/collector.ts arranges at callback entry. That policy reads
// `__heapAllocatedSinceCollect` and `__heapHasFreeBlock` below to decide.

import { MAX_PAYLOAD, ROOT_BYTES, hasFreeBlock, heapAlloc, heapFree, heapRealloc, initHeap } from "./heap";

let root: usize = 0;
/** Bytes allocated since the collector last said it collected (heapCollected). */
let allocatedSinceCollect: usize = 0;

function theHeap(): usize {
  if (root == 0) {
    const at = (__heap_base + 15) & ~<usize>15;
    // Room for the root, one smallest block and the sentinel before the first allocation.
    const needed = at + ROOT_BYTES + 64;
    const have = <usize>memory.size() << 16;
    if (needed > have && memory.grow(<i32>((needed - have + 0xffff) >> 16)) < 0) unreachable();
    initHeap(at, <usize>memory.size() << 16, 0);
    root = at;
  }
  return root;
}

// @ts-ignore: decorator
@global @unsafe
export function __alloc(size: usize): usize {
  // abort, not throw: an Error object would need the allocator that just failed.
  if (size > MAX_PAYLOAD) abort("allocation too large", null, 0, 0);
  const ptr = heapAlloc(theHeap(), size);
  if (ptr == 0) abort("out of linear memory", null, 0, 0);
  allocatedSinceCollect += size;
  // Zeroed, the whole payload: the compiler treats any custom runtime as the incremental one,
  // whose __new zeroes objects, so the standard library's constructors (ArrayBuffer, Array,
  // StaticArray) then skip zeroing; the minimal collector's __new does not zero.
  memory.fill(ptr, 0, <usize>(load<u32>(ptr - 4) & ~3));
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
export function __realloc(ptr: usize, size: usize): usize {
  if (size > MAX_PAYLOAD) abort("allocation too large", null, 0, 0);
  const before = <usize>(load<u32>(ptr - 4) & ~3);
  const moved = heapRealloc(theHeap(), ptr, size, __heap_base);
  if (moved == 0) abort("out of linear memory", null, 0, 0);
  // Zero what the block gained, as __alloc does (see there).
  const after = <usize>(load<u32>(moved - 4) & ~3);
  if (after > before) memory.fill(moved + before, 0, after - before);
  return moved;
}

// @ts-ignore: decorator
@global @unsafe
export function __free(ptr: usize): void {
  // Static data (below __heap_base) is not the heap's.
  if (ptr < __heap_base) return;
  heapFree(theHeap(), ptr);
}

// For the collection policy (proxy-wasm/collector.ts). Global names, like the entry points
// above: the runtime is compiled apart from the program, which reaches it only through these.

/** Bytes allocated since the last `__heapCollected()`: an upper bound on the garbage since. */
// @ts-ignore: decorator
@global
export function __heapAllocatedSinceCollect(): usize {
  return allocatedSinceCollect;
}

/** The collector ran: garbage made before now is gone. */
// @ts-ignore: decorator
@global
export function __heapCollected(): void {
  allocatedSinceCollect = 0;
}

/** Whether a free block of at least `bytes` exists (conservative: bins, not exact sizes). */
// @ts-ignore: decorator
@global
export function __heapHasFreeBlock(bytes: usize): bool {
  return hasFreeBlock(theHeap(), bytes);
}
