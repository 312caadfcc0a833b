// The proxy-wasm header map encoding, used for header maps, trailers, http_call headers and
// local-response headers:
//
//   u32 count                                  (little endian, like every word below)
//   count x { u32 keyLength, u32 valueLength }
//   count x { key bytes, 0x00, value bytes, 0x00 }
//
// Pure: no host calls, so as-pect tests it directly (header-map.spec.ts).

/** One header (or trailer / metadata) entry. Keys from Envoy are lower case. */
export class HeaderPair {
  constructor(
    public key: string,
    public value: string,
  ) {}
}

/** Encodes `pairs` into a freshly allocated buffer in the wire format above. */
export function serializeHeaderMap(pairs: HeaderPair[]): ArrayBuffer {
  const count = pairs.length;
  // Encode each string once; lengths must be UTF-8 byte lengths, not UTF-16 code units.
  const keys = new Array<ArrayBuffer>(count);
  const values = new Array<ArrayBuffer>(count);
  let size: usize = 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const pair = unchecked(pairs[i]);
    const key = String.UTF8.encode(pair.key);
    const value = String.UTF8.encode(pair.value);
    unchecked((keys[i] = key));
    unchecked((values[i] = value));
    size += <usize>key.byteLength + <usize>value.byteLength + 2;
  }
  const out = new ArrayBuffer(<i32>size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>count);
  let lengths = base + 4;
  let data = base + 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const key = unchecked(keys[i]);
    const value = unchecked(values[i]);
    const keyLength = <usize>key.byteLength;
    const valueLength = <usize>value.byteLength;
    store<u32>(lengths, <u32>keyLength);
    store<u32>(lengths + 4, <u32>valueLength);
    lengths += 8;
    memory.copy(data, changetype<usize>(key), keyLength);
    data += keyLength;
    store<u8>(data++, 0);
    memory.copy(data, changetype<usize>(value), valueLength);
    data += valueLength;
    store<u8>(data++, 0);
  }
  return out;
}

/**
 * Decodes the wire format from `size` bytes at `ptr`. A malformed map (too short, counts or
 * lengths running past the end, missing terminators) decodes to an empty list, as Envoy treats
 * it; it never traps.
 */
export function deserializeHeaderMapAt(ptr: usize, size: usize): HeaderPair[] {
  const result = new Array<HeaderPair>(0);
  if (size < 4) return result;
  const count = <u64>load<u32>(ptr);
  // u64 arithmetic: a hostile count must not wrap the bounds checks.
  const headerBytes: u64 = 4 + count * 8;
  if (headerBytes > <u64>size) return result;
  // First pass: check that every entry (plus its two terminators) fits.
  let dataSize: u64 = 0;
  for (let i: u64 = 0; i < count; i++) {
    const at = ptr + 4 + <usize>(i * 8);
    dataSize += <u64>load<u32>(at) + <u64>load<u32>(at + 4) + 2;
    if (headerBytes + dataSize > <u64>size) return result;
  }
  let lengths = ptr + 4;
  let data = ptr + <usize>headerBytes;
  for (let i: u64 = 0; i < count; i++) {
    const keyLength = <usize>load<u32>(lengths);
    const valueLength = <usize>load<u32>(lengths + 4);
    lengths += 8;
    const key = String.UTF8.decodeUnsafe(data, keyLength);
    data += keyLength + 1;
    const value = String.UTF8.decodeUnsafe(data, valueLength);
    data += valueLength + 1;
    result.push(new HeaderPair(key, value));
  }
  return result;
}

/** Decodes a whole buffer; see deserializeHeaderMapAt. */
export function deserializeHeaderMap(buffer: ArrayBuffer): HeaderPair[] {
  return deserializeHeaderMapAt(changetype<usize>(buffer), <usize>buffer.byteLength);
}

/** First value of `key` (exact, case-sensitive match) in `pairs`, or null. */
export function findHeader(pairs: HeaderPair[], key: string): string | null {
  for (let i = 0, k = pairs.length; i < k; i++) {
    const pair = unchecked(pairs[i]);
    if (pair.key == key) return pair.value;
  }
  return null;
}
