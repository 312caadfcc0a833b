/**
 * Header name and value safety rules for everything the plugin emits.
 *
 * API: `isValidHeaderName(name)`: a non-empty lowercase RFC 9110 token (`a-z 0-9` and
 * `!#$%&'*+-.^_`|~`); uppercase is refused rather than folded so a config says what is sent.
 * `isSafeHeaderValue(value)`: no CR, LF or NUL (the characters that split or truncate a header
 * line); such values are never emitted. `isHeaderSafeModel(value)`: the stricter rule for a
 * model name taken from a body or a config: no control character (U+0000-U+001F, U+007F) and
 * no lone surrogate, so its UTF-8 bytes are exactly the text the client sent and no proxy or
 * backend has to clean it up (a cleaned-up name would be a model nobody named).
 * `isReservedHeaderName(name)`: names rules may not
 * touch because the proxy owns them (`host`, `content-length`, `transfer-encoding`,
 * `connection`, `upgrade`, `te`, `keep-alive`, `proxy-connection`); `:authority` and `:path`
 * change through the dedicated actions.
 */
/** RFC 9110 tchar with no upper case, as a 128-bit set: bit c of (LO for c < 64, HI for c >= 64). */
const TCHAR_LO: u64 = 0x03ff_6cfa_0000_0000; // ! # $ % & ' * + - . 0-9
const TCHAR_HI: u64 = 0x57ff_ffff_c000_0000; // ^ _ ` a-z | ~

export function isValidHeaderName(name: string): bool {
  const n = name.length;
  if (n == 0) return false;
  for (let i = 0; i < n; i++) {
    const c = <u32>name.charCodeAt(i);
    if (c >= 128 || (((c < 64 ? TCHAR_LO : TCHAR_HI) >> <u64>(c & 63)) & 1) == 0) return false;
  }
  return true;
}

export function isSafeHeaderValue(value: string): bool {
  for (let i = 0, n = value.length; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0x00) return false;
  }
  return true;
}

export function isHeaderSafeModel(value: string): bool {
  for (let i = 0, n = value.length; i < n; i++) {
    const c = <u32>value.charCodeAt(i);
    if (c < 0x20 || c == 0x7f) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate must be followed by a low one; a low one never stands first.
      if (c >= 0xdc00 || i + 1 >= n) return false;
      const lo = <u32>value.charCodeAt(i + 1);
      if (lo < 0xdc00 || lo > 0xdfff) return false;
      i++;
    }
  }
  return true;
}

export function isReservedHeaderName(name: string): bool {
  return (
    name == "host" || name == "content-length" || name == "transfer-encoding" || name == "connection" ||
    name == "upgrade" || name == "te" || name == "keep-alive" || name == "proxy-connection"
  );
}
