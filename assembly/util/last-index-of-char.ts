// The last position of one UTF-16 code unit in a string.

/**
 * Index of the last `c` in `s`, -1 when absent: `s.lastIndexOf(":")` for a one-character search,
 * as a plain scan (no substring comparison per position, and not the standard library's
 * general routine in the module).
 */
export function lastIndexOfChar(s: string, c: i32): i32 {
  let i = s.length - 1;
  while (i >= 0 && <i32>s.charCodeAt(i) != c) i--;
  return i;
}
