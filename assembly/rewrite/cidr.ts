/**
 * IP addresses and CIDR ranges (IPv4 and IPv6), for matching Envoy's `source.address`.
 *
 * API: `parseIp(text, out: StaticArray<u8>(16)): i32` → 4 or 6 (the family) or 0 when invalid;
 * `ipFromAddress(address, out)`: the IP of an Envoy address property, which is `ip:port`,
 * `[v6]:port`, or a bare IP; `Cidr.parse(text): Cidr | null` (`10.0.0.0/8`, `fd00::/8`, a bare
 * IP means a single host); `cidr.contains(family, bytes)`.
 *
 * An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is matched as the IPv4 address, since
 * dual-stack listeners report IPv4 peers that way. Zone ids (`fe80::1%eth0`) are refused.
 */

// @ts-ignore: decorator
@inline
function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Parses dotted IPv4 in s[start, end) into out[at..at+4]. */
function parseV4(s: string, start: i32, end: i32, out: StaticArray<u8>, at: i32): bool {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c == 0x2e) {
      if (digits == 0 || part > 3) return false;
      unchecked((out[at + part] = <u8>value));
      part++;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39) return false;
    if (digits > 0 && value == 0) return false; // leading zero ("01") is ambiguous (octal)
    value = value * 10 + (c - 0x30);
    digits++;
    if (value > 255) return false;
  }
  return part == 4;
}

function parseV6(s: string, start: i32, end: i32, out: StaticArray<u8>): bool {
  // Up to 8 groups; "::" once; an IPv4 tail counts as two groups.
  const groups = new StaticArray<i32>(8);
  let count = 0;
  let gap = -1;
  let i = start;
  if (end - start >= 2 && s.charCodeAt(i) == 0x3a && s.charCodeAt(i + 1) == 0x3a) {
    gap = 0;
    i += 2;
    if (i == end) {
      for (let k = 0; k < 16; k++) unchecked((out[k] = 0));
      return true;
    }
  } else if (i < end && s.charCodeAt(i) == 0x3a) {
    return false;
  }
  while (i < end) {
    // IPv4 tail?
    let j = i;
    let hasDot = false;
    while (j < end && s.charCodeAt(j) != 0x3a) {
      if (s.charCodeAt(j) == 0x2e) hasDot = true;
      j++;
    }
    if (hasDot) {
      if (j != end || count > 6) return false;
      const v4 = new StaticArray<u8>(16);
      if (!parseV4(s, i, end, v4, 0)) return false;
      groups[count++] = (<i32>v4[0] << 8) | v4[1];
      groups[count++] = (<i32>v4[2] << 8) | v4[3];
      i = end;
      break;
    }
    const len = j - i;
    if (len == 0 || len > 4 || count >= 8) return false;
    let v = 0;
    for (let k = i; k < j; k++) {
      const h = hexDigit(s.charCodeAt(k));
      if (h < 0) return false;
      v = (v << 4) | h;
    }
    groups[count++] = v;
    i = j;
    if (i == end) break;
    // at ':'
    i++;
    if (i < end && s.charCodeAt(i) == 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      i++;
      if (i == end) break;
    } else if (i == end) {
      return false; // trailing single ':'
    }
  }
  if (gap < 0 && count != 8) return false;
  if (gap >= 0 && count > 7) return false;
  const zeros = 8 - count;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let v = 0;
    if (gap >= 0 && k >= gap && k < gap + zeros) v = 0;
    else v = groups[g++];
    unchecked((out[2 * k] = <u8>(v >> 8)));
    unchecked((out[2 * k + 1] = <u8>(v & 0xff)));
  }
  return true;
}

/** Parses an IPv4 or IPv6 literal; returns 4, 6 or 0. IPv4-mapped IPv6 returns 4. */
export function parseIp(s: string, out: StaticArray<u8>): i32 {
  return parseIpRange(s, 0, s.length, out);
}

function parseIpRange(s: string, start: i32, end: i32, out: StaticArray<u8>): i32 {
  if (end <= start) return 0;
  let hasColon = false;
  for (let i = start; i < end; i++) if (s.charCodeAt(i) == 0x3a) hasColon = true;
  if (!hasColon) return parseV4(s, start, end, out, 0) ? 4 : 0;
  if (!parseV6(s, start, end, out)) return 0;
  // ::ffff:a.b.c.d → IPv4
  let mapped = true;
  for (let k = 0; k < 10; k++) if (unchecked(out[k]) != 0) mapped = false;
  if (mapped && unchecked(out[10]) == 0xff && unchecked(out[11]) == 0xff) {
    for (let k = 0; k < 4; k++) unchecked((out[k] = out[12 + k]));
    return 4;
  }
  return 6;
}

/** The IP of `ip:port`, `[v6]:port`, `[v6]`, or a bare IP. */
export function ipFromAddress(address: string, out: StaticArray<u8>): i32 {
  const n = address.length;
  if (n == 0) return 0;
  if (address.charCodeAt(0) == 0x5b) {
    const close = address.indexOf("]");
    if (close < 0) return 0;
    const fam = parseIpRange(address, 1, close, out);
    return fam;
  }
  let colons = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (address.charCodeAt(i) == 0x3a) {
      colons++;
      last = i;
    }
  }
  if (colons == 1) return parseIpRange(address, 0, last, out); // v4:port
  return parseIpRange(address, 0, n, out);
}

export class Cidr {
  family: i32 = 4;
  bits: i32 = 32;
  readonly addr: StaticArray<u8> = new StaticArray<u8>(16);

  static parse(text: string): Cidr | null {
    const c = new Cidr();
    const slash = text.indexOf("/");
    const end = slash < 0 ? text.length : slash;
    const fam = parseIpRange(text, 0, end, c.addr);
    if (fam == 0) return null;
    c.family = fam;
    const max = fam == 4 ? 32 : 128;
    if (slash < 0) {
      c.bits = max;
      return c;
    }
    const digits = text.substring(slash + 1);
    if (digits.length == 0 || digits.length > 3) return null;
    let bits = 0;
    for (let i = 0; i < digits.length; i++) {
      const d = digits.charCodeAt(i);
      if (d < 0x30 || d > 0x39) return null;
      bits = bits * 10 + (d - 0x30);
    }
    if (bits > max) return null;
    c.bits = bits;
    return c;
  }

  contains(family: i32, ip: StaticArray<u8>): bool {
    if (family != this.family) return false;
    const full = this.bits >> 3;
    for (let k = 0; k < full; k++) {
      if (unchecked(ip[k]) != unchecked(this.addr[k])) return false;
    }
    const rest = this.bits & 7;
    if (rest == 0) return true;
    const mask: u8 = <u8>(<u32>0xff << <u32>(8 - rest));
    return (unchecked(ip[full]) & mask) == (unchecked(this.addr[full]) & mask);
  }
}
