// Endpoint address validation: `ip:port` with a dotted-quad IPv4 or a bracketed IPv6 host.
// Used by the pool config parser and the endpoint feed, so a bad address is refused before it can
// ever reach the proxy as a steering header.
import { lastIndexOfChar } from "../util/last-index-of-char";

/** Result of validating an address: `ok` with the canonical text, or `error` saying why not. */
export class AddressCheck {
  constructor(public ok: bool, public address: string, public error: string) {}
}

function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

function isHex(c: i32): bool {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** True when `s[from, to)` is a dotted-quad IPv4 address with octets 0..255 and no leading zeros. */
export function isIPv4(s: string, from: i32, to: i32): bool {
  let parts = 0;
  let i = from;
  while (i <= to) {
    let start = i;
    let value = 0;
    while (i < to && isDigit(s.charCodeAt(i))) {
      value = value * 10 + (s.charCodeAt(i) - 48);
      if (value > 255) return false;
      i++;
    }
    let len = i - start;
    if (len == 0 || len > 3) return false;
    if (len > 1 && s.charCodeAt(start) == 48) return false;
    parts++;
    if (i == to) break;
    if (s.charCodeAt(i) != 46 /* . */) return false;
    i++;
    if (i == to) return false; // trailing dot
  }
  return parts == 4;
}

/** True when `s[from, to)` is an IPv6 address (RFC 4291 text form, optional embedded IPv4 tail). */
export function isIPv6(s: string, from: i32, to: i32): bool {
  if (to - from < 2) return false;
  let groups = 0;
  let doubleColon = false;
  let i = from;
  if (s.charCodeAt(i) == 58 /* : */) {
    if (s.charCodeAt(i + 1) != 58) return false;
    doubleColon = true;
    i += 2;
    if (i == to) return true; // "::"
  }
  while (i < to) {
    let start = i;
    while (i < to && isHex(s.charCodeAt(i))) i++;
    let len = i - start;
    if (i < to && s.charCodeAt(i) == 46 /* . */) {
      // Embedded IPv4 tail takes two groups and must end the address.
      if (!isIPv4(s, start, to)) return false;
      groups += 2;
      i = to;
      break;
    }
    if (len == 0 || len > 4) return false;
    groups++;
    if (i == to) break;
    if (s.charCodeAt(i) != 58) return false;
    i++;
    if (i < to && s.charCodeAt(i) == 58) {
      if (doubleColon) return false;
      doubleColon = true;
      i++;
      if (i == to) break;
    } else if (i == to) {
      return false; // trailing single colon
    }
  }
  if (groups > 8) return false;
  return doubleColon ? groups < 8 : groups == 8;
}

/**
 * Validates `ip:port` (IPv4) or `[ipv6]:port`. Port 1..65535 without leading zeros.
 * Never traps: any input, including empty or huge strings, yields a result.
 */
export function checkAddress(s: string): AddressCheck {
  let n = s.length;
  if (n == 0) return new AddressCheck(false, s, "empty address");
  if (n > 64) return new AddressCheck(false, s, "address longer than 64 characters");
  let colon = lastIndexOfChar(s, 0x3a /* : */);
  if (colon <= 0) return new AddressCheck(false, s, "missing ':port' (expected ip:port or [ipv6]:port)");
  let hostOk: bool;
  if (s.charCodeAt(0) == 91 /* [ */) {
    if (s.charCodeAt(colon - 1) != 93 /* ] */) {
      return new AddressCheck(false, s, "IPv6 host must be written [addr]:port");
    }
    hostOk = isIPv6(s, 1, colon - 1);
    if (!hostOk) return new AddressCheck(false, s, "host is not a valid IPv6 address");
  } else {
    hostOk = isIPv4(s, 0, colon);
    if (!hostOk) {
      return new AddressCheck(false, s, "host is not a dotted-quad IPv4 address (IPv6 needs brackets)");
    }
  }
  let portLen = n - colon - 1;
  if (portLen < 1 || portLen > 5) return new AddressCheck(false, s, "port must be 1..65535");
  if (portLen > 1 && s.charCodeAt(colon + 1) == 48) return new AddressCheck(false, s, "port has a leading zero");
  let port = 0;
  for (let i = colon + 1; i < n; i++) {
    let c = s.charCodeAt(i);
    if (!isDigit(c)) return new AddressCheck(false, s, "port must be 1..65535");
    port = port * 10 + (c - 48);
  }
  if (port < 1 || port > 65535) return new AddressCheck(false, s, "port must be 1..65535");
  return new AddressCheck(true, s, "");
}
