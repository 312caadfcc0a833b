// Strict number text for the Prometheus exposition format: a Go ParseFloat-compatible subset.
// Validates before converting so "1.5abc" is an error, not 1.5.

function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

/**
 * `s` (blanks around allowed) as a plain decimal number of 1 to `maxDigits` digits, else -1
 * (also for null). Header and label values: Content-Length, `max_lora`, `:status`.
 */
export function parseDecimal(s: string | null, maxDigits: i32): i64 {
  if (s == null) return -1;
  let t = s.trim();
  if (t.length == 0 || t.length > maxDigits) return -1;
  let v: i64 = 0;
  for (let i = 0; i < t.length; i++) {
    let c = t.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + <i64>(c - 48);
  }
  return v;
}

/**
 * Parses `s[from, to)` as a float; NaN (and `ok == false` via isStrictNumber) when malformed.
 * Through the byte versions below (one implementation of the grammar): the text's UTF-8.
 */
export function parseStrictNumber(s: string, from: i32, to: i32): f64 {
  let b = String.UTF8.encode(s.substring(from, to));
  let p = changetype<usize>(b);
  let n = b.byteLength;
  return isStrictNumberBytes(p, 0, n) ? parseStrictNumberBytes(p, 0, n) : NaN;
}

/** True when `s[from, to)` is `[+-]digits[.digits][e[+-]digits]`, `.5`, `NaN` or `[+-]Inf`. */
export function isStrictNumber(s: string, from: i32, to: i32): bool {
  let b = String.UTF8.encode(s.substring(from, to));
  return isStrictNumberBytes(changetype<usize>(b), 0, b.byteLength);
}

// Byte versions: the scrape reader works on the page's UTF-8 bytes in place.

const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

// @ts-ignore: decorator
@inline function byteAt(base: usize, i: i32): i32 {
  return <i32>load<u8>(base + <usize>i);
}

/** isStrictNumber over the bytes `[from, to)` at `base`. */
export function isStrictNumberBytes(base: usize, from: i32, to: i32): bool {
  if (from >= to) return false;
  let i = from;
  let c = byteAt(base, i);
  if (c == 43 || c == 45) i++;
  if (i >= to) return false;
  c = byteAt(base, i);
  if (c == 73 || c == 105 || c == 78 || c == 110) {
    let word = String.UTF8.decodeUnsafe(base + <usize>i, <usize>(to - i)).toLowerCase();
    return word == "inf" || word == "infinity" || (word == "nan" && i == from);
  }
  let digits = 0;
  while (i < to && isDigit(byteAt(base, i))) { i++; digits++; }
  if (i < to && byteAt(base, i) == 46) {
    i++;
    while (i < to && isDigit(byteAt(base, i))) { i++; digits++; }
  }
  if (digits == 0) return false;
  if (i < to && (byteAt(base, i) == 101 || byteAt(base, i) == 69)) {
    i++;
    if (i < to && (byteAt(base, i) == 43 || byteAt(base, i) == 45)) i++;
    let exp = 0;
    while (i < to && isDigit(byteAt(base, i))) { i++; exp++; }
    if (exp == 0) return false;
  }
  return i == to;
}

/** Value of bytes `[from, to)` that isStrictNumberBytes accepted. */
export function parseStrictNumberBytes(base: usize, from: i32, to: i32): f64 {
  let first = byteAt(base, from);
  let body = first == 43 || first == 45 ? from + 1 : from;
  let c = byteAt(base, body);
  if (c == 73 || c == 105) return first == 45 ? -Infinity : Infinity;
  if (c == 78 || c == 110) return NaN;
  // Exact fast path (Clinger): at most 15 significant digits and a power of ten up to 1e22
  // are both exact doubles, so one multiplication or division rounds correctly. Covers the
  // usual gauge text (`3`, `12.0`, `0.42`, `1.7e+09`) without building a string.
  let m: f64 = 0;
  let digits = 0;
  let frac = 0;
  let i = body;
  while (i < to && isDigit(byteAt(base, i))) {
    if (digits > 0 || byteAt(base, i) != 48) digits++;
    m = m * 10 + <f64>(byteAt(base, i) - 48);
    i++;
  }
  if (i < to && byteAt(base, i) == 46) {
    i++;
    while (i < to && isDigit(byteAt(base, i))) {
      if (digits > 0 || byteAt(base, i) != 48) digits++;
      m = m * 10 + <f64>(byteAt(base, i) - 48);
      frac++;
      i++;
    }
  }
  let exp = 0;
  if (i < to) {
    i++; // e or E (validated)
    let negExp = false;
    if (byteAt(base, i) == 43 || byteAt(base, i) == 45) { negExp = byteAt(base, i) == 45; i++; }
    while (i < to && exp < 1000) { exp = exp * 10 + (byteAt(base, i) - 48); i++; }
    if (negExp) exp = -exp;
  }
  let e10 = exp - frac;
  if (digits <= 15 && e10 >= -22 && e10 <= 22) {
    let x = e10 >= 0 ? m * unchecked(POW10[e10]) : m / unchecked(POW10[-e10]);
    return first == 45 ? -x : x;
  }
  return parseFloat(String.UTF8.decodeUnsafe(base + <usize>from, <usize>(to - from)));
}
