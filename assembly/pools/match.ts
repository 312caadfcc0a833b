// Which pool a request belongs to: the first pool whose match accepts the request's
// :authority (exact, case-insensitive, port ignored), :path (prefix) and headers.

import { PoolMatch } from "./config";
import { lastIndexOfChar } from "../util/last-index-of-char";

/** Host part of an authority, lower-cased: "Api.Example:443" → "api.example", "[::1]:80" → "[::1]". */
export function authorityHost(authority: string): string {
  let a = authority;
  if (a.startsWith("[")) {
    let close = a.indexOf("]");
    return (close > 0 ? a.substring(0, close + 1) : a).toLowerCase();
  }
  let colon = lastIndexOfChar(a, 0x3a /* : */);
  if (colon >= 0) a = a.substring(0, colon);
  return a.toLowerCase();
}

/**
 * `headerValue(name)` returns the request header value or null. Declared as a plain function
 * type so the entry can pass a reader bound to the current stream.
 */
export function poolMatches(
  m: PoolMatch,
  authority: string,
  path: string,
  headerNames: string[],
  headerValues: Array<string | null>,
): bool {
  if (m.authority.length > 0 && authorityHost(authority) != authorityHost(m.authority)) return false;
  if (m.pathPrefix.length > 0 && !path.startsWith(m.pathPrefix)) return false;
  for (let i = 0; i < m.headers.length; i++) {
    let h = m.headers[i];
    let idx = headerNames.indexOf(h.name);
    let v: string | null = idx >= 0 ? headerValues[idx] : null;
    if (v == null) return false;
    if (!h.present && v != h.value) return false;
  }
  return true;
}
