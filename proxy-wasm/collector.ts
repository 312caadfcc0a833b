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
// when memory is short: when the allocator has no free block left that could hold
// what the callback may need, it would grow linear memory (by doubling it, and Wasm never gives
// memory back), so garbage is collected first. What a callback may need: twice what it is about
// to read from the host (a body, a metrics page, the configuration: the block itself plus what
// the plugin builds from it), and at least a sixteenth of memory for everything else.
// Only large reads are checked on every callback. Otherwise a check waits MIN_GAP callbacks, and
// when a collection frees no such block (the heap is full of live data) the next check waits
// twice as long each time, until the allocator has grown memory and the shortage is over.

import { ROOT } from "rt/tlsf";

/** Callbacks between two checks, doubled while collections do not help (see above). */
// @ts-ignore: decorator
@inline const MIN_GAP: i32 = 4;
// @ts-ignore: decorator
@inline const MAX_GAP: i32 = 4096;
/** Reads from this size up are checked on every callback, not only after the gap. */
// @ts-ignore: decorator
@inline const LARGE_BYTES: usize = 65536;

let callbacksSinceCheck: i32 = 0;
let gap: i32 = MIN_GAP;
/** Callbacks under way: more than one when a host calls back from inside a host call. */
let depth: i32 = 0;

/**
 * Whether the allocator holds a free block of at least `bytes`. Reads the first-level bitmap of
 * AssemblyScript's TLSF allocator (its first word): bit `fl` >= 1 set means a free block of
 * 2^(fl+7) bytes or more exists. Conservative: a block somewhat smaller may also exist.
 */
function hasFreeBlock(bytes: usize): bool {
  const fl = <i32>(32 - clz<u32>(<u32>bytes - 1)) - 7;
  if (fl <= 0) return true;
  if (fl >= 23) return false;
  return (load<u32>(changetype<usize>(ROOT)) >>> fl) != 0;
}

/**
 * First thing in every exported callback, with the size of what it is about to read from the
 * host (0 if nothing); collects when memory is short and no other callback is under way.
 */
export function enterCallback(incoming: usize): void {
  if (depth++ != 0) return;
  // A large read is checked every time: reading it would otherwise grow memory right away.
  const large = incoming >= LARGE_BYTES;
  if (!large && ++callbacksSinceCheck < gap) return;
  callbacksSinceCheck = 0;
  const need = max<usize>((<usize>memory.size() << 16) >> 4, incoming << 1);
  if (hasFreeBlock(need)) return;
  __collect();
  if (!large) gap = hasFreeBlock(need) ? MIN_GAP : min(gap << 1, MAX_GAP);
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
