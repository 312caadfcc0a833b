// When garbage is collected.
//
// The module is built with AssemblyScript's `minimal` runtime (asconfig.json): a mark-and-sweep
// collector that runs only when called and finds live objects from globals (and pinned objects)
// alone. The `incremental` runtime may collect inside any allocation, so it has to keep every
// managed local of every frame on a shadow stack: stores around each call and a stack check in
// each function, which made up over 40 % of the module's code.
//
// The price: a collection is safe only where no frame holds a managed value that is not also
// reachable from a global. The dispatcher brackets each exported callback with `enterCallback()`
// and `leaveCallback()`, and only entering an outermost callback collects (its locals are plain
// integers then). Nothing else collects: `malloc` runs inside a host call, below frames that
// hold values in locals, and so does any callback a host runs from inside a host call.
//
// A collection marks everything live (all endpoint state and prefix indexes), so it runs only
// when garbage may cost memory. The heap (runtime/heap.ts) grows linear memory by what a block
// needs whenever no free block fits, and Wasm never gives memory back, so garbage left lying
// around becomes high-water mark. Two triggers, both O(1) to check:
// - volume: an eighth of memory was allocated since the last collection (an upper bound on
//   the garbage made since). This bounds the garbage the heap ever holds to about that much,
//   and the collections to one per eighth of memory allocated: with 1,024 endpoints (about
//   6.6 MiB live, a full collection a few hundred µs) and a 4 KB chat request allocating about
//   8 KB, one collection per ~100 requests. A sixteenth halved the slack and doubled that cost.
// - a large read (a body, a metrics page, the configuration) with no free block for it, when
//   at least its size was allocated since: the last requests' garbage may make room for it.
// (Request bodies usually need neither: the body's owner gives its block back at stream end
// and the next body reuses it, see allocator.ts.) The heap's counters are runtime globals
// (runtime/global-heap.ts).

/** Reads from this size up may collect on their own (see above). */
// @ts-ignore: decorator
@inline const LARGE_BYTES: usize = 65536;

/** Callbacks under way: more than one when a host calls back from inside a host call. */
let depth: i32 = 0;

/**
 * First thing in every exported callback, with the size of what it is about to read from the
 * host (0 if nothing); collects when garbage may cost memory and no other callback is under way.
 */
export function enterCallback(incoming: usize): void {
  if (depth++ != 0) return;
  const since = __heapAllocatedSinceCollect();
  if (since < (<usize>memory.size() << 16) >> 3) {
    if (incoming < LARGE_BYTES || since < incoming || __heapHasFreeBlock(incoming)) return;
  }
  __collect();
  __heapCollected();
}

/** Last thing in every exported callback that entered. (A trap skips it; the VM is dead then.) */
// @ts-ignore: decorator
@inline
export function leaveCallback(): void {
  depth--;
}

/** leaveCallback() for a callback that returns `value`. */
// @ts-ignore: decorator
@inline
export function leaveWith<T>(value: T): T {
  depth--;
  return value;
}
