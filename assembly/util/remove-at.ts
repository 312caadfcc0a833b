// Removing one element of an array in place.

/**
 * Removes element `i` (0 <= i < length) of `a`, moving the later ones down: `a.splice(i, 1)`
 * without the array of removed elements that splice allocates, and with one small function per
 * element type instead of splice's.
 */
export function removeAt<T>(a: Array<T>, i: i32): void {
  let n = a.length - 1;
  let at = a.dataStart + (<usize>i << alignof<T>());
  memory.copy(at, at + sizeof<T>(), <usize>(n - i) << alignof<T>());
  a.length = n;
}
