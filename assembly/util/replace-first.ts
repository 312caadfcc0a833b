// Replacing the first occurrence of a text in a string.

/**
 * `s` with its first `search` replaced by `by` (`s` itself when there is none); `search` is not
 * empty. What `s.replace(search, by)` returns, without the standard library's general routine in
 * the module.
 */
export function replaceFirst(s: string, search: string, by: string): string {
  let i = s.indexOf(search);
  return i < 0 ? s : s.substring(0, i) + by + s.substring(i + search.length);
}
