// A segregated-fit heap that grows linear memory by what an allocation needs.
//
// Why this exists: AssemblyScript's bundled allocator grows memory by max(needed, current size)
// when no free block fits, so one large block (a 1 MiB request body) doubles an 8 MiB heap, and
// Wasm memory never shrinks. Envoy runs one VM per worker, each paying for its high-water mark.
// This heap grows by the pages the block needs, less the free space already at the end.
//
// Invariants (every function below keeps them):
// - The heap is a run of blocks from `first` to the sentinel at `root.end`. A block is a 4-byte
//   header followed by its payload; its span (header + payload) is a multiple of 16, at least 16.
//   Headers sit at addresses = 12 (mod 16), so every payload is 16-byte aligned.
// - Header word: payload bytes (span - 4), with bit 0 = FREE and bit 1 = PREV_FREE (the block
//   to the left is free). The garbage collector (std rt/itcms) reads the payload size as
//   `header & ~3`, the same contract as the bundled allocator's.
// - A free block holds its list links at payload +0 (prev) and +4 (next), and a footer word
//   holding its own header address in its last 4 bytes, so a block being freed can find a free
//   left neighbour. Two free blocks are never adjacent (freeing merges both ways).
// - The sentinel is a header with payload 0 that is never free: it stops merging to the right.
// - Free blocks are binned by span: below 256 bytes one bin per 16-byte step; above, each power
//   of two is cut into 16 bins. Bitmaps (one bit per power, one per bin) find the smallest
//   non-empty bin at or above a size in O(1).

// @ts-ignore: decorator
@inline const FREE: u32 = 1;
// @ts-ignore: decorator
@inline const PREV_FREE: u32 = 2;
// @ts-ignore: decorator
@inline const FLAGS: u32 = 3;
/** Smallest span: header, two links and a footer. */
// @ts-ignore: decorator
@inline const MIN_SPAN: usize = 16;
/** Spans below this are binned exactly (16-byte steps). */
// @ts-ignore: decorator
@inline const SMALL_LIMIT: usize = 256;
// @ts-ignore: decorator
@inline const SMALL_LOG: u32 = 8;
// @ts-ignore: decorator
@inline const BINS_PER_LEVEL: u32 = 16;
/** Levels: 0 for the small spans, then one per power of two from 2^8 to 2^30. */
// @ts-ignore: decorator
@inline const LEVELS: u32 = 24;
/** Largest payload one block may hold (the collector's limit too). */
// @ts-ignore: decorator
@inline export const MAX_PAYLOAD: usize = (1 << 30) - 4;
// @ts-ignore: decorator
@inline const PAGE: usize = 65536;

// Root layout (16-byte aligned): level bitmap, sentinel address, fixed limit (0 = grows linear
// memory), then one bin bitmap per level, then the bin heads.
// @ts-ignore: decorator
@inline const ROOT_LEVEL_MAP: usize = 0;
// @ts-ignore: decorator
@inline const ROOT_END: usize = 4;
// @ts-ignore: decorator
@inline const ROOT_LIMIT: usize = 8;
// @ts-ignore: decorator
@inline const ROOT_BIN_MAPS: usize = 16;
// @ts-ignore: decorator
@inline const ROOT_HEADS: usize = ROOT_BIN_MAPS + LEVELS * 4;
/** Bytes of the root structure. */
// @ts-ignore: decorator
@inline export const ROOT_BYTES: usize = ROOT_HEADS + LEVELS * BINS_PER_LEVEL * 4;

// @ts-ignore: decorator
@inline function spanOf(header: usize): usize {
  return <usize>(load<u32>(header) & ~FLAGS) + 4;
}

// @ts-ignore: decorator
@inline function levelOf(span: usize): u32 {
  return span < SMALL_LIMIT ? 0 : <u32>(31 - clz<u32>(<u32>span)) - (SMALL_LOG - 1);
}

// @ts-ignore: decorator
@inline function binOf(span: usize, level: u32): u32 {
  return level == 0 ? <u32>(span >> 4) : <u32>(span >> (level + SMALL_LOG - 1 - 4)) & (BINS_PER_LEVEL - 1);
}

// @ts-ignore: decorator
@inline function headAt(root: usize, level: u32, bin: u32): usize {
  return root + ROOT_HEADS + ((<usize>(level * BINS_PER_LEVEL + bin)) << 2);
}

function link(root: usize, header: usize, span: usize): void {
  const level = levelOf(span);
  const bin = binOf(span, level);
  const head = headAt(root, level, bin);
  const first = <usize>load<u32>(head);
  store<u32>(header, 0, 4); // prev
  store<u32>(header, <u32>first, 8); // next
  if (first != 0) store<u32>(first, <u32>header, 4);
  store<u32>(head, <u32>header);
  store<u32>(root, load<u32>(root, ROOT_LEVEL_MAP) | (1 << level), ROOT_LEVEL_MAP);
  const map = root + ROOT_BIN_MAPS + (<usize>level << 2);
  store<u32>(map, load<u32>(map) | (1 << bin));
}

function unlink(root: usize, header: usize, span: usize): void {
  const prev = <usize>load<u32>(header, 4);
  const next = <usize>load<u32>(header, 8);
  if (next != 0) store<u32>(next, <u32>prev, 4);
  if (prev != 0) {
    store<u32>(prev, <u32>next, 8);
    return;
  }
  const level = levelOf(span);
  const bin = binOf(span, level);
  store<u32>(headAt(root, level, bin), <u32>next);
  if (next == 0) {
    const map = root + ROOT_BIN_MAPS + (<usize>level << 2);
    const left = load<u32>(map) & ~(1 << bin);
    store<u32>(map, left);
    if (left == 0) store<u32>(root, load<u32>(root, ROOT_LEVEL_MAP) & ~(1 << level), ROOT_LEVEL_MAP);
  }
}

/** Marks [header, header + span) free (flags: `prevFree`), writes its footer, bins it. */
// @ts-ignore: decorator
@inline function release(root: usize, header: usize, span: usize, prevFree: u32): void {
  store<u32>(header, <u32>(span - 4) | FREE | prevFree);
  store<u32>(header + span - 4, <u32>header);
  link(root, header, span);
}

/** The smallest bin at or above (level, bin) with a block, as its first block; 0 if none. */
function firstAtOrAbove(root: usize, level: u32, bin: u32): usize {
  let bins = load<u32>(root + ROOT_BIN_MAPS + (<usize>level << 2)) & (<u32>0xffffffff << bin);
  if (bins == 0) {
    const levels = load<u32>(root, ROOT_LEVEL_MAP) & (<u32>0xffffffff << (level + 1));
    if (levels == 0) return 0;
    level = ctz<u32>(levels);
    bins = load<u32>(root + ROOT_BIN_MAPS + (<usize>level << 2));
  }
  return <usize>load<u32>(headAt(root, level, ctz<u32>(bins)));
}

/** A free block of at least `span`, or 0. */
function findFit(root: usize, span: usize): usize {
  // Any block of the bin above span's own bin fits; span's own bin may hold smaller ones.
  let rounded = span;
  if (span >= SMALL_LIMIT) rounded += (<usize>1 << (<usize>(31 - clz<u32>(<u32>span)) - 4)) - 1;
  const level = levelOf(rounded);
  if (level < LEVELS) {
    const found = firstAtOrAbove(root, level, binOf(rounded, level));
    if (found != 0) return found;
  }
  // Before memory grows, look through span's own bin for a block that is large enough (the
  // fast path skips it): reusing last request's freed body is worth the walk.
  const own = levelOf(span);
  if (own >= LEVELS) return 0;
  let block = <usize>load<u32>(headAt(root, own, binOf(span, own)));
  while (block != 0) {
    if (spanOf(block) >= span) return block;
    block = <usize>load<u32>(block, 8);
  }
  return 0;
}

/**
 * Whether a free block of at least `bytes` of payload certainly exists: some bin above the one
 * holding that size is non-empty (a block in the size's own bin may fit too; not counted).
 */
export function hasFreeBlock(root: usize, bytes: usize): bool {
  const span = spanFor(bytes);
  let rounded = span;
  if (span >= SMALL_LIMIT) rounded += (<usize>1 << (<usize>(31 - clz<u32>(<u32>span)) - 4)) - 1;
  const level = levelOf(rounded);
  return level < LEVELS && firstAtOrAbove(root, level, binOf(rounded, level)) != 0;
}

/** Extends the heap so that a free block of `span` exists at its end. False when it cannot. */
function grow(root: usize, span: usize): bool {
  const end = <usize>load<u32>(root, ROOT_END);
  const limit = <usize>load<u32>(root, ROOT_LIMIT);
  const sentinel = load<u32>(end);
  let start = end;
  let prevFree: u32 = 0;
  let tailFree: usize = 0;
  if (sentinel & PREV_FREE) {
    start = <usize>load<u32>(end - 4);
    tailFree = end - start;
  }
  const memoryEnd = limit != 0 ? end + 4 : <usize>memory.size() << 16;
  if (memoryEnd != end + 4) {
    // Someone else grew memory: start a new run after their pages (ours stay usable).
    start = memoryEnd + 12;
    tailFree = 0;
  }
  // The new sentinel takes 4 bytes at the new end (the old one becomes part of the block).
  const extra = span - tailFree + (start == end || tailFree != 0 ? 0 : 16);
  const pages = <i32>((extra + PAGE - 1) / PAGE);
  const newEnd = memoryEnd + (<usize>pages << 16) - 4;
  if (limit != 0) {
    if (newEnd + 4 > limit) return false;
  } else if (memory.grow(pages) < 0) {
    return false;
  }
  if (tailFree != 0) {
    unlink(root, start, tailFree);
    prevFree = load<u32>(start) & PREV_FREE;
  }
  store<u32>(newEnd, PREV_FREE);
  store<u32>(root, <u32>newEnd, ROOT_END);
  release(root, start, newEnd - start, prevFree);
  return true;
}

/** Uses `span` bytes of the free block at `header`; the rest stays free when it can be a block. */
function carve(root: usize, header: usize, span: usize): void {
  const have = spanOf(header);
  unlink(root, header, have);
  const rest = have - span;
  if (rest >= MIN_SPAN) {
    store<u32>(header, <u32>(span - 4));
    release(root, header + span, rest, 0);
  } else {
    store<u32>(header, <u32>(have - 4));
    const right = header + have;
    store<u32>(right, load<u32>(right) & ~PREV_FREE);
  }
}

/** Span of a block whose payload holds `size` bytes. */
// @ts-ignore: decorator
@inline export function spanFor(size: usize): usize {
  const span = (size + 4 + 15) & ~<usize>15;
  return span < MIN_SPAN ? MIN_SPAN : span;
}

/**
 * Sets up a heap at `root` (16-byte aligned) whose blocks use [root + ROOT_BYTES, end).
 * `limit` 0: the heap owns the end of linear memory and grows it (`end` must be memory's end);
 * otherwise it never grows past `limit` (a heap inside a reserved region, for tests).
 */
export function initHeap(root: usize, end: usize, limit: usize): void {
  memory.fill(root, 0, ROOT_BYTES);
  store<u32>(root, <u32>limit, ROOT_LIMIT);
  const first = ((root + ROOT_BYTES + 4 + 15) & ~<usize>15) - 4;
  const sentinel = (end & ~<usize>15) - 4;
  if (sentinel >= first + MIN_SPAN) {
    store<u32>(sentinel, PREV_FREE);
    release(root, first, sentinel - first, 0);
    store<u32>(root, <u32>sentinel, ROOT_END);
  } else {
    store<u32>(first, 0);
    store<u32>(root, <u32>first, ROOT_END);
  }
}

/** Payload address of a new block of at least `size` bytes; 0 when memory cannot grow. */
export function heapAlloc(root: usize, size: usize): usize {
  const span = spanFor(size);
  let block = findFit(root, span);
  if (block == 0) {
    if (!grow(root, span)) return 0;
    block = findFit(root, span);
  }
  carve(root, block, span);
  return block + 4;
}

/** Returns the block of payload `ptr` to the heap, merged with free neighbours. */
export function heapFree(root: usize, ptr: usize): void {
  let header = ptr - 4;
  const info = load<u32>(header);
  let span = <usize>(info & ~FLAGS) + 4;
  const right = header + span;
  const rightInfo = load<u32>(right);
  if (rightInfo & FREE) {
    const rightSpan = <usize>(rightInfo & ~FLAGS) + 4;
    unlink(root, right, rightSpan);
    span += rightSpan;
  }
  if (info & PREV_FREE) {
    const left = <usize>load<u32>(header - 4);
    const leftSpan = spanOf(left);
    unlink(root, left, leftSpan);
    header = left;
    span += leftSpan;
  }
  const next = header + span;
  store<u32>(next, load<u32>(next) | PREV_FREE);
  release(root, header, span, 0);
}

/** Shrinks the used block at `header` to `span`, freeing the tail when it can be a block. */
function trim(root: usize, header: usize, span: usize): void {
  const have = spanOf(header);
  if (have - span < MIN_SPAN) return;
  store<u32>(header, <u32>(span - 4) | (load<u32>(header) & PREV_FREE));
  const tail = header + span;
  store<u32>(tail, <u32>(have - span - 4));
  heapFree(root, tail + 4);
}

/**
 * Payload of at least `size` bytes holding the first bytes of `ptr`'s payload: in place when
 * the block (with a free right neighbour) is large enough, else moved. 0 when out of memory
 * (`ptr` then stays valid). `ptr` below `movable` (static data) is always copied, never freed.
 */
export function heapRealloc(root: usize, ptr: usize, size: usize, movable: usize): usize {
  const header = ptr - 4;
  const span = spanFor(size);
  const have = spanOf(header);
  if (ptr >= movable) {
    if (span <= have) {
      trim(root, header, span);
      return ptr;
    }
    const right = header + have;
    const rightInfo = load<u32>(right);
    if (rightInfo & FREE) {
      const joined = have + <usize>(rightInfo & ~FLAGS) + 4;
      if (joined >= span) {
        unlink(root, right, joined - have);
        store<u32>(header, <u32>(joined - 4) | (load<u32>(header) & PREV_FREE));
        const next = header + joined;
        store<u32>(next, load<u32>(next) & ~PREV_FREE);
        trim(root, header, span);
        return ptr;
      }
    }
  }
  const moved = heapAlloc(root, size);
  if (moved == 0) return 0;
  const keep = have - 4 < size ? have - 4 : size;
  memory.copy(moved, ptr, keep);
  if (ptr >= movable) heapFree(root, ptr);
  return moved;
}

/** Address just past the heap's sentinel (for a heap that grows memory: memory's end). */
export function heapEnd(root: usize): usize {
  return <usize>load<u32>(root, ROOT_END) + 4;
}

/**
 * Walks every block and bin and returns the free bytes, or -1 when an invariant is broken
 * (spans, alignment, flags, footers, adjacent free blocks, bins and bitmaps). For tests.
 */
export function checkHeap(root: usize): i64 {
  const end = <usize>load<u32>(root, ROOT_END);
  let header = ((root + ROOT_BYTES + 4 + 15) & ~<usize>15) - 4;
  let free: i64 = 0;
  let freeBlocks = 0;
  let leftFree = false;
  while (header < end) {
    const info = load<u32>(header);
    const span = <usize>(info & ~FLAGS) + 4;
    if ((header & 15) != 12 || (span & 15) != 0 || span < MIN_SPAN || header + span > end) return -1;
    if (((info & PREV_FREE) != 0) != leftFree) return -1;
    const isFree = (info & FREE) != 0;
    if (isFree) {
      if (leftFree || <usize>load<u32>(header + span - 4) != header) return -1;
      free += <i64>span;
      freeBlocks++;
    }
    leftFree = isFree;
    header += span;
  }
  if (header != end || ((load<u32>(end) & PREV_FREE) != 0) != leftFree || (load<u32>(end) & FREE) != 0) return -1;
  let binned = 0;
  for (let level: u32 = 0; level < LEVELS; level++) {
    const bins = load<u32>(root + ROOT_BIN_MAPS + (<usize>level << 2));
    if ((((load<u32>(root, ROOT_LEVEL_MAP) >> level) & 1) != 0) != (bins != 0)) return -1;
    for (let bin: u32 = 0; bin < BINS_PER_LEVEL; bin++) {
      let block = <usize>load<u32>(headAt(root, level, bin));
      if ((block != 0) != (((bins >> bin) & 1) != 0)) return -1;
      let prev: usize = 0;
      while (block != 0) {
        const span = spanOf(block);
        if ((load<u32>(block) & FREE) == 0 || levelOf(span) != level || binOf(span, level) != bin) return -1;
        if (<usize>load<u32>(block, 4) != prev) return -1;
        binned++;
        prev = block;
        block = <usize>load<u32>(block, 8);
      }
    }
  }
  return binned == freeBlocks ? free : -1;
}

