// Property paths and property values (proxy_get_property / proxy_set_property).
//
// A path is its segments' UTF-8 bytes joined by a single 0x00, with no trailing 0x00:
// ["xds", "cluster_name"] -> "xds\0cluster_name". String properties come back as raw bytes,
// integer properties as 8-byte little-endian values.
//
// Pure: no host calls (property-path.spec.ts tests it directly).

/** Encodes path segments into the host's property path format. */
export function encodePropertyPath(segments: string[]): ArrayBuffer {
  const count = segments.length;
  if (count == 0) return new ArrayBuffer(0);
  const encoded = new Array<ArrayBuffer>(count);
  let size: usize = <usize>(count - 1); // separators
  for (let i = 0; i < count; i++) {
    const bytes = String.UTF8.encode(unchecked(segments[i]));
    unchecked((encoded[i] = bytes));
    size += <usize>bytes.byteLength;
  }
  const out = new ArrayBuffer(<i32>size);
  let at = changetype<usize>(out);
  for (let i = 0; i < count; i++) {
    if (i > 0) store<u8>(at++, 0);
    const bytes = unchecked(encoded[i]);
    memory.copy(at, changetype<usize>(bytes), <usize>bytes.byteLength);
    at += <usize>bytes.byteLength;
  }
  return out;
}

/** Splits an encoded path back into segments (for tests and diagnostics). */
export function decodePropertyPath(path: ArrayBuffer): string[] {
  const result = new Array<string>(0);
  const base = changetype<usize>(path);
  const size = <usize>path.byteLength;
  if (size == 0) return result;
  let start: usize = 0;
  for (let i: usize = 0; i <= size; i++) {
    if (i == size || load<u8>(base + i) == 0) {
      result.push(String.UTF8.decodeUnsafe(base + start, i - start));
      start = i + 1;
    }
  }
  return result;
}

/**
 * Reads an integer property value (8 bytes little endian). Returns `fallback` when the value is
 * not exactly 8 bytes, e.g. the property holds a string.
 */
export function decodePropertyU64(value: ArrayBuffer, fallback: u64 = 0): u64 {
  if (value.byteLength != 8) return fallback;
  return load<u64>(changetype<usize>(value));
}

/** Decodes a string property value (raw UTF-8 bytes). */
export function decodePropertyString(value: ArrayBuffer): string {
  return String.UTF8.decode(value);
}
