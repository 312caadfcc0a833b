/**
 * Path matching for rules: exact, prefix and glob.
 *
 * API: `PathPattern.exact(s)`, `PathPattern.prefix(s)`, `PathPattern.glob(s)`;
 * `pattern.matches(path)` where `path` is the request `:path` (a query string `?…` or fragment
 * `#…` is ignored); `pathOnly(path)` strips them; `globError(s)` says why a glob is invalid
 * ("" when valid).
 *
 * - exact: the whole path equals the value.
 * - prefix: segment-aware like Gateway API `PathPrefix`: `/v1` matches `/v1`, `/v1/` and
 *   `/v1/models` but not `/v1beta`; a prefix ending in `/` matches paths that start with it.
 * - glob: `*` matches any run of characters except `/` (so `/v1/*​/completions` matches
 *   `/v1/chat/completions`), `**` matches anything including `/`; a whole segment `/**​/`
 *   also matches no segment at all (`/a/**​/b` matches `/a/b`), and a trailing `/**` matches
 *   the directory itself (`/v1/**` matches `/v1`). Every other character is literal.
 *
 * Glob matching is a DP over (pattern token, path offset) with a reused bit row, so it is
 * O(tokens × path length) with no backtracking blowup and no per-match allocation.
 */

export enum PathMatchKind {
  Exact = 0,
  Prefix = 1,
  Glob = 2,
}

const enum Tok {
  Lit = 0,
  Star = 1, // [^/]*
  Any = 2, // .*
  SlashAnyDirs = 3, // "/" | "/" .* "/"   (from "/**/")
  SlashAnyTail = 4, // "" | "/" .*        (from trailing "/**")
}

export function pathOnly(path: string): string {
  for (let i = 0, n = path.length; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c == 0x3f || c == 0x23) return path.substring(0, i);
  }
  return path;
}

/** Why a glob is not usable, or "" when it is. */
export function globError(s: string): string {
  if (s.length == 0) return "must not be empty";
  if (s.charCodeAt(0) != 0x2f) return "must start with \"/\"";
  if (s.includes("***")) return "\"***\" is not a pattern; use \"**\"";
  return "";
}

// Reused DP rows (grown to the longest path seen).
let rowA = new StaticArray<u8>(256);
let rowB = new StaticArray<u8>(256);

export class PathPattern {
  kind: PathMatchKind = PathMatchKind.Exact;
  value: string = "";
  private tokKinds: Tok[] = [];
  private tokLits: string[] = [];

  static exact(s: string): PathPattern {
    const p = new PathPattern();
    p.kind = PathMatchKind.Exact;
    p.value = s;
    return p;
  }

  static prefix(s: string): PathPattern {
    const p = new PathPattern();
    p.kind = PathMatchKind.Prefix;
    p.value = s;
    return p;
  }

  static glob(s: string): PathPattern {
    const p = new PathPattern();
    p.kind = PathMatchKind.Glob;
    p.value = s;
    p.compile(s);
    return p;
  }

  /** Ends the pending literal `lit` (if any), then adds a wildcard token (none for Tok.Lit). */
  private pushTok(lit: string, kind: Tok): void {
    if (lit.length > 0) {
      this.tokKinds.push(Tok.Lit);
      this.tokLits.push(lit);
    }
    if (kind == Tok.Lit) return;
    this.tokKinds.push(kind);
    this.tokLits.push("");
  }

  private compile(s: string): void {
    let lit = "";
    const n = s.length;
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c != 0x2a) {
        lit += String.fromCharCode(c);
        i++;
        continue;
      }
      let kind = Tok.Star;
      let len = 1;
      if (i + 1 < n && s.charCodeAt(i + 1) == 0x2a) {
        kind = Tok.Any;
        len = 2;
        const slashBefore = lit.length > 0 && lit.charCodeAt(lit.length - 1) == 0x2f;
        const slashAfter = i + 2 < n && s.charCodeAt(i + 2) == 0x2f;
        if (slashBefore && (slashAfter || i + 2 == n)) {
          // "/**/" or a trailing "/**": the slash belongs to the token.
          lit = lit.substring(0, lit.length - 1);
          kind = slashAfter ? Tok.SlashAnyDirs : Tok.SlashAnyTail;
          len = slashAfter ? 3 : 2;
        }
      }
      this.pushTok(lit, kind);
      lit = "";
      i += len;
    }
    this.pushTok(lit, Tok.Lit);
  }

  matches(rawPath: string): bool {
    const path = pathOnly(rawPath);
    switch (this.kind) {
      case PathMatchKind.Exact:
        return path == this.value;
      case PathMatchKind.Prefix:
        return prefixMatches(this.value, path);
      default:
        return this.globMatches(path);
    }
  }

  private globMatches(path: string): bool {
    const n = path.length;
    if (rowA.length < n + 1) {
      rowA = new StaticArray<u8>(n + 1);
      rowB = new StaticArray<u8>(n + 1);
    }
    let cur = rowA;
    let next = rowB;
    for (let j = 0; j <= n; j++) unchecked((cur[j] = 0));
    unchecked((cur[0] = 1));
    const kinds = this.tokKinds;
    for (let t = 0, tn = kinds.length; t < tn; t++) {
      for (let j = 0; j <= n; j++) unchecked((next[j] = 0));
      const kind = unchecked(kinds[t]);
      let any = false;
      if (kind == Tok.Lit) {
        const lit = unchecked(this.tokLits[t]);
        const ln = lit.length;
        for (let j = 0; j + ln <= n; j++) {
          if (unchecked(cur[j]) && substringEquals(path, j, lit)) {
            unchecked((next[j + ln] = 1));
            any = true;
          }
        }
      } else if (kind == Tok.Star || kind == Tok.Any) {
        // reachable j → every k >= j; for Star only while path[k-1] != '/'
        const stopAtSlash = kind == Tok.Star;
        let on = false;
        for (let j = 0; j <= n; j++) {
          if (unchecked(cur[j])) on = true;
          if (on) {
            unchecked((next[j] = 1));
            any = true;
          }
          if (stopAtSlash && j < n && path.charCodeAt(j) == 0x2f) on = false;
        }
      } else if (kind == Tok.SlashAnyDirs) {
        // "/" then optionally anything ending in "/"
        let on = false;
        for (let j = 0; j < n; j++) {
          if (unchecked(cur[j]) && path.charCodeAt(j) == 0x2f) {
            unchecked((next[j + 1] = 1));
            any = true;
            on = true;
            continue;
          }
          if (on && path.charCodeAt(j) == 0x2f) {
            unchecked((next[j + 1] = 1));
          }
        }
      } else {
        // SlashAnyTail: "" or "/" followed by anything
        let on = false;
        for (let j = 0; j <= n; j++) {
          if (unchecked(cur[j])) {
            unchecked((next[j] = 1));
            any = true;
            if (j < n && path.charCodeAt(j) == 0x2f) on = true;
          }
          if (on && j > 0) unchecked((next[j] = 1));
        }
      }
      if (!any) return false;
      const tmp = cur;
      cur = next;
      next = tmp;
    }
    return unchecked(cur[n]) != 0;
  }
}

function substringEquals(s: string, at: i32, lit: string): bool {
  for (let k = 0, ln = lit.length; k < ln; k++) {
    if (s.charCodeAt(at + k) != lit.charCodeAt(k)) return false;
  }
  return true;
}

/** Gateway API PathPrefix: element-wise prefix. */
export function prefixMatches(prefix: string, path: string): bool {
  const pn = prefix.length;
  if (!path.startsWith(prefix)) return false;
  if (pn == 0 || path.length == pn) return true;
  if (prefix.charCodeAt(pn - 1) == 0x2f) return true;
  return path.charCodeAt(pn) == 0x2f;
}
