/**
 * ByteBuffer: a growable byte array meant to be reused.
 *
 * API: `length`, `reset()`, `limit(n)`, `reserve(n)`, `reserveExact(n)`, `truncate(n)`, `pushByte(b)`, `pushBytes(ptr, len)`, `pushString(s)` (UTF-8),
 * `dataStart` (address of byte 0; valid until the next push), `byteAt(i)`, `toString()`
 * (UTF-8 decode), `toArrayBuffer()` (a copy).
 *
 * Hot paths (prompt text extraction, body rewriting) keep one ByteBuffer per VM and call
 * `reset()` per request, so the backing store grows to the largest request once and is then
 * reused without allocating.
 */
export class ByteBuffer {
  private store: ArrayBuffer;
  private used: i32 = 0;
  /** Bytes past this length are dropped (-1: no limit); see `limit`. */
  private cap: i32 = -1;

  constructor(initialCapacity: i32 = 256) {
    this.store = new ArrayBuffer(initialCapacity < 16 ? 16 : initialCapacity);
  }

  get length(): i32 {
    return this.used;
  }

  get capacity(): i32 {
    return this.store.byteLength;
  }

  /** Address of the first byte. Invalidated by any push that grows the store. */
  get dataStart(): usize {
    return changetype<usize>(this.store);
  }

  reset(): void {
    this.used = 0;
  }

  /**
   * Drops every byte pushed past `n` bytes (-1 lifts the limit), as if truncated afterwards but
   * without growing the store for bytes that would be cut: a text capped at n bytes then costs
   * n bytes of memory, not the doubling step past it.
   */
  limit(n: i32): void {
    this.cap = n;
  }

  /**
   * Makes room for `total` bytes in all with one allocation, where pushing would double the store
   * step by step (each step a copy, and up to 2x the need). An eighth more than asked, so the next
   * slightly longer body reuses this store instead of growing (and fragmenting) again.
   */
  reserve(total: i32): void {
    if (total > this.store.byteLength) this.ensure(total + (total >> 3) - this.used, true);
  }

  /** Makes room for `total` bytes in all with one allocation of exactly that size. */
  reserveExact(total: i32): void {
    if (total > this.store.byteLength) this.ensure(total - this.used, true);
  }

  /** Drops bytes past `n` (no-op when already shorter). */
  truncate(n: i32): void {
    if (n >= 0 && n < this.used) this.used = n;
  }

  /** Byte `i`, or -1 when out of range. */
  byteAt(i: i32): i32 {
    if (i < 0 || i >= this.used) return -1;
    return <i32>load<u8>(changetype<usize>(this.store) + <usize>i);
  }

  pushByte(b: u32): void {
    if (this.used == this.cap) return;
    this.ensure(1);
    store<u8>(changetype<usize>(this.store) + <usize>this.used, <u8>b);
    this.used += 1;
  }

  pushBytes(ptr: usize, len: i32): void {
    if (this.cap >= 0 && len > this.cap - this.used) len = this.cap - this.used;
    if (len <= 0) return;
    this.ensure(len);
    memory.copy(changetype<usize>(this.store) + <usize>this.used, ptr, <usize>len);
    this.used += len;
  }

  /** Appends the UTF-8 encoding of `s`. */
  pushString(s: string): void {
    const bytes = String.UTF8.byteLength(s, false);
    if (this.cap >= 0 && bytes > this.cap - this.used) {
      // Over the limit: through a temporary copy, cut at the limit like every other push.
      const encoded = String.UTF8.encode(s, false);
      this.pushBytes(changetype<usize>(encoded), encoded.byteLength);
      return;
    }
    this.ensure(bytes);
    String.UTF8.encodeUnsafe(
      changetype<usize>(s),
      s.length,
      changetype<usize>(this.store) + <usize>this.used,
      false,
    );
    this.used += bytes;
  }

  /** Appends a code point as UTF-8 (surrogate code points become U+FFFD). */
  pushCodePoint(cp: u32): void {
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) {
      this.pushByte(cp);
    } else if (cp < 0x800) {
      this.ensure(2);
      this.pushByte(0xc0 | (cp >> 6));
      this.pushByte(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      this.ensure(3);
      this.pushByte(0xe0 | (cp >> 12));
      this.pushByte(0x80 | ((cp >> 6) & 0x3f));
      this.pushByte(0x80 | (cp & 0x3f));
    } else {
      this.ensure(4);
      this.pushByte(0xf0 | (cp >> 18));
      this.pushByte(0x80 | ((cp >> 12) & 0x3f));
      this.pushByte(0x80 | ((cp >> 6) & 0x3f));
      this.pushByte(0x80 | (cp & 0x3f));
    }
  }

  toString(): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.store), <usize>this.used, false);
  }

  toArrayBuffer(): ArrayBuffer {
    const out = new ArrayBuffer(this.used);
    memory.copy(changetype<usize>(out), changetype<usize>(this.store), <usize>this.used);
    return out;
  }

  private ensure(extra: i32, exact: bool = false): void {
    const need = this.used + extra;
    const cap = this.store.byteLength;
    if (need <= cap) return;
    let next = exact ? need : cap << 1;
    if (next < need) next = need;
    const grown = new ArrayBuffer(next);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.store), <usize>this.used);
    this.store = grown;
  }
}
