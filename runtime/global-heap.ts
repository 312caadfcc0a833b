// The program's one heap, behind the allocator entry points the AssemblyScript runtime calls
// (`__alloc`, `__realloc`, `__free`; the collector in std rt/itcms allocates through them).
// It starts at __heap_base (static data lies below) and owns the end of linear memory.
// Policy: memory grows only after a full collection could not make room (see __alloc), so a
// VM's high-water mark follows its live data, not the garbage between collector cycles.

import { MAX_PAYLOAD, ROOT_BYTES, heapAllocGrowing, heapAllocNoGrow, heapEnd, heapFree, heapRealloc, initHeap } from "./heap";

let root: usize = 0;
/** Bytes allocated since the last collection this file ran. */
let allocatedSinceCollect: usize = 0;
let collecting = false;

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
  const heap = theHeap();
  let ptr = heapAllocNoGrow(heap, size);
  if (ptr == 0) {
    // Memory would grow, and Wasm memory never shrinks: first collect, when enough was
    // allocated since the last collection for its garbage to matter (at least this block and
    // a sixteenth of the heap, which bounds how often a full collection runs).
    const sixteenth = (heapEnd(heap) - heap) >> 4;
    if (!collecting && allocatedSinceCollect >= size && allocatedSinceCollect >= sixteenth) {
      collecting = true;
      __collect();
      collecting = false;
      allocatedSinceCollect = 0;
      ptr = heapAllocNoGrow(heap, size);
    }
    if (ptr == 0) ptr = heapAllocGrowing(heap, size);
    if (ptr == 0) abort("out of linear memory", null, 0, 0);
  }
  allocatedSinceCollect += size;
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
export function __realloc(ptr: usize, size: usize): usize {
  if (size > MAX_PAYLOAD) abort("allocation too large", null, 0, 0);
  const moved = heapRealloc(theHeap(), ptr, size, __heap_base);
  if (moved == 0) abort("out of linear memory", null, 0, 0);
  return moved;
}

// @ts-ignore: decorator
@global @unsafe
export function __free(ptr: usize): void {
  // Static data (below __heap_base) is not the heap's.
  if (ptr < __heap_base) return;
  heapFree(theHeap(), ptr);
}
