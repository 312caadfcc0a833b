// Two lower-case hex digits for a byte, for error messages. Written out rather than with
// `toString(16)`, which brings in the standard library's any-radix number formatting.

const DIGITS = "0123456789abcdef";

/** `b` (0-255) as two lower-case hex digits: 10 -> "0a". */
export function hexByte(b: u32): string {
  return String.fromCharCode(DIGITS.charCodeAt(<i32>((b >> 4) & 15)), DIGITS.charCodeAt(<i32>(b & 15)));
}
