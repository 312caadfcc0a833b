/**
 * Property paths as written in config, and the key the engine looks them up by.
 *
 * Syntax: segments separated by `.`, or a segment in brackets when it contains dots:
 * `source.address`, `connection.uri_san_peer_certificate`,
 * `filter_state[io.istio.peer_principal]` (Istio waypoints keep the caller's identity in that
 * filter state object). `[...]` may follow any segment and holds any text except `]`.
 *
 * API: `propertyKey(path): string | null` → the segments joined by NUL (the proxy-wasm property
 * path encoding), or null when the path is malformed (empty segment, unclosed bracket);
 * `propertySegments(key)` splits a key back into segments.
 */
export function propertyKey(path: string): string | null {
  const segs = new Array<string>();
  let i = 0;
  const n = path.length;
  let cur = "";
  let afterBracket = false;
  while (i < n) {
    const c = path.charCodeAt(i);
    if (c == 0x2e) {
      // '.'
      if (!afterBracket) {
        if (cur.length == 0) return null;
        segs.push(cur);
      }
      cur = "";
      afterBracket = false;
      i++;
      if (i == n) return null; // trailing dot
      continue;
    }
    if (c == 0x5b) {
      // '['
      if (!afterBracket && cur.length > 0) segs.push(cur);
      else if (!afterBracket && i > 0) return null; // "a.[b]"
      const close = path.indexOf("]", i + 1);
      if (close < 0 || close == i + 1) return null;
      segs.push(path.substring(i + 1, close));
      cur = "";
      afterBracket = true;
      i = close + 1;
      if (i < n && path.charCodeAt(i) != 0x2e && path.charCodeAt(i) != 0x5b) return null;
      continue;
    }
    if (c == 0x5d || c == 0) return null;
    if (afterBracket) return null;
    cur += String.fromCharCode(c);
    i++;
  }
  if (!afterBracket) {
    if (cur.length == 0) return null;
    segs.push(cur);
  }
  return segs.join("\0");
}

export function propertySegments(key: string): string[] {
  return key.split("\0");
}
