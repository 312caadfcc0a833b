// Guest memory the host writes into.
//
// Envoy returns variable-size results (header maps, buffers, properties) by calling the guest's
// exported `malloc`, copying the bytes in, and writing the pointer and size to out-parameters.
// A block the host just filled is referenced by no AS variable yet, so a collection before the
// typed wrapper takes it would sweep it. Collections run only between callbacks (collector.ts),
// but a block may outlive its host call unadopted (e.g. the host failed after allocating).
// Therefore:
//
//  1. `malloc` allocates a GC-managed ArrayBuffer and PINS it (pinned objects are never swept),
//     and remembers it in a small pending table.
//  2. The typed wrapper that made the host call ADOPTS the block: unpins it and returns it as an
//     ordinary ArrayBuffer (zero copy), owned by the GC from then on.
//  3. After every host call that may allocate, the wrapper calls `releasePendingHostBlocks()`,
//     which unpins anything the host allocated but never handed back (e.g. it failed after
//     allocating). Nothing stays pinned across callbacks, so per-request results are reclaimed.
//
// Out-parameters (pointer, size, u32/u64 results) use a static scratch area instead of heap
// objects: host calls never nest (only `malloc` runs inside one) and the VM is single threaded,
// so one area is enough and the hot path allocates nothing for them.

/** Scratch words the host writes out-parameters into. 8-byte aligned so u64 results fit. */
export const SCRATCH_PTR: usize = memory.data(8, 8);
export const SCRATCH_SIZE: usize = memory.data(8, 8);
export const SCRATCH_U64: usize = memory.data(8, 8);

/** How many host blocks may be outstanding inside one host call; Envoy allocates at most one. */
// @ts-ignore: decorator
@inline const MAX_PENDING: i32 = 8;

/** Host blocks from this size up count as large (request bodies, big responses). */
// @ts-ignore: decorator
@inline export const LARGE_BLOCK_BYTES: usize = 65536;
/**
 * A large block its owner gave back (recycleHostBlock): the next large host block that fits
 * reuses it instead of taking new memory. Held here, so the collector never frees it.
 */
let spare: ArrayBuffer | null = null;

/** Bytes an ArrayBuffer's heap block can hold (the allocator's block size less the GC header). */
// @ts-ignore: decorator
@inline
function blockCapacity(block: ArrayBuffer): usize {
  // Runtime layout (std rt/common.ts): a 4-byte block header (size | flags), then the 16-byte
  // object header, then the data; the block header's size covers object header and data.
  return <usize>(load<u32>(changetype<usize>(block) - 20) & ~3) - 16;
}

/**
 * Size to allocate for a host block of `size` bytes: large blocks get a sixteenth more room,
 * rounded to a sixteenth of their power of two, so a later body of about the same size (a
 * little larger included) fits this block when it comes back as the spare.
 */
// @ts-ignore: decorator
@inline
function roomFor(size: usize): usize {
  if (size < LARGE_BLOCK_BYTES) return size;
  const room = size + (size >> 4);
  const step = (<usize>1 << (<usize>(31 - clz<u32>(<u32>room)) - 4)) - 1;
  return (room + step) & ~step;
}

/**
 * Sets an ArrayBuffer's byte length within its block's capacity. The length is the object
 * header's last word (rtSize, right before the data); the collector accounts the block's size,
 * which does not change. Not `__renew`: the minimal runtime's reallocates, which would trim the
 * block's spare room away.
 */
// @ts-ignore: decorator
@inline
function setByteLength(ptr: usize, size: usize): void {
  store<u32>(ptr - 4, <u32>size);
}

const pending = new StaticArray<usize>(MAX_PENDING);
let pendingCount: i32 = 0;

/** The shared zero-length buffer returned for "present but empty" results (ptr 0, size 0). */
export const EMPTY_BUFFER: ArrayBuffer = new ArrayBuffer(0);

/**
 * Exported as `malloc`: the host calls it to obtain `size` bytes of guest memory.
 * Returns a pinned ArrayBuffer's data pointer (see the file comment).
 */
export function hostMalloc(size: usize): usize {
  // Never collects (it runs inside a host call): see collector.ts.
  let ptr: usize;
  const reuse = spare;
  if (size >= LARGE_BLOCK_BYTES && reuse != null && blockCapacity(reuse) >= size) {
    // The spare block takes it in place: only its byte length changes (see setByteLength).
    spare = null;
    ptr = __pin(changetype<usize>(reuse));
    setByteLength(ptr, size);
  } else {
    // Larger than any body before: the spare goes, and a later collection reclaims its space.
    if (size >= LARGE_BLOCK_BYTES) spare = null;
    ptr = __pin(__new(roomFor(size), idof<ArrayBuffer>()));
    if (size >= LARGE_BLOCK_BYTES) setByteLength(ptr, size);
  }
  if (pendingCount < MAX_PENDING) {
    unchecked((pending[pendingCount++] = ptr));
  }
  // Past MAX_PENDING the block stays pinned (leaks) rather than risk being swept while the host
  // still writes to it. No host we know of allocates more than once per call.
  return ptr;
}

/**
 * Gives back a large host block (a request body) its owner no longer reads: the next large
 * host block reuses it (one body buffer per VM in the usual case, not one per request). Only a
 * block nothing else references may be given back, since its bytes will be overwritten. Of two
 * spare blocks the larger is kept; small blocks are left to the collector.
 */
export function recycleHostBlock(block: ArrayBuffer): void {
  if (<usize>block.byteLength < LARGE_BLOCK_BYTES) return;
  const kept = spare;
  if (kept == null || blockCapacity(kept) < blockCapacity(block)) spare = block;
}

/** Resets the out-parameter scratch words before a host call. Envoy leaves them untouched when
 * it has nothing to return (e.g. a zero-length buffer read), so stale values must not survive. */
// @ts-ignore: decorator
@inline
export function clearScratch(): void {
  store<u64>(SCRATCH_PTR, 0);
  store<u64>(SCRATCH_SIZE, 0);
  store<u64>(SCRATCH_U64, 0);
}

/**
 * Takes ownership of the block the host reported in the scratch pointer/size words.
 * Zero pointer or size gives EMPTY_BUFFER. A pointer that did not come from `malloc` (a buggy
 * host) is copied out rather than trusted, so nothing here can trap.
 */
export function adoptHostBlock(): ArrayBuffer {
  const ptr = <usize>load<u32>(SCRATCH_PTR);
  const size = <usize>load<u32>(SCRATCH_SIZE);
  if (ptr == 0 || size == 0) return EMPTY_BUFFER;
  for (let i = 0; i < pendingCount; i++) {
    if (unchecked(pending[i]) == ptr) {
      unchecked((pending[i] = pending[--pendingCount]));
      __unpin(ptr);
      const block = changetype<ArrayBuffer>(ptr);
      // Envoy allocates exactly `size`; anything else is trimmed to what the host reported.
      if (<usize>block.byteLength == size) return block;
      if (size < <usize>block.byteLength) return block.slice(0, <i32>size);
      return EMPTY_BUFFER;
    }
  }
  // Not ours: copy only if it lies inside linear memory.
  const end = <u64>ptr + <u64>size;
  if (end > (<u64>memory.size() << 16)) return EMPTY_BUFFER;
  const copy = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(copy), ptr, size);
  return copy;
}

/** Unpins blocks the host allocated during the last call but did not hand back. */
// @ts-ignore: decorator
@inline
export function releasePendingHostBlocks(): void {
  while (pendingCount > 0) {
    __unpin(unchecked(pending[--pendingCount]));
  }
}


