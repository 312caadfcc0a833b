/**
 * Guest linear memory access with Envoy's bounds rules: every out-of-range pointer or length makes
 * the host function return InvalidMemoryAccess instead of throwing. The memory buffer is re-read on
 * every access because guests grow memory (Go, Emscripten) during calls.
 */

const encoder = new TextEncoder();
// ignoreBOM: a value that starts with U+FEFF keeps it (Envoy passes header bytes as they are).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Allocates `size` (> 0) bytes in the guest; returns the pointer, or 0 when allocation failed. */
export type GuestAllocator = (size: number) => number;

export class GuestMemory {
  constructor(
    private readonly memory: () => WebAssembly.Memory | undefined,
    private readonly allocator: () => GuestAllocator | undefined,
  ) {}

  // One view per memory buffer: a host call touches memory several times, and a grown memory
  // has a new buffer (the old one is detached), so the view is rebuilt exactly when needed.
  private view: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));

  private bytes(): Uint8Array {
    const m = this.memory();
    if (!m) return new Uint8Array(0);
    const buf = m.buffer;
    if (this.view.buffer !== buf) {
      this.view = new Uint8Array(buf);
      this.dv = new DataView(buf);
    }
    return this.view;
  }

  private dataView(): DataView {
    this.bytes();
    return this.dv;
  }

  /** Whether [ptr, ptr+len) lies inside memory. Pointers and lengths are unsigned 32-bit. */
  inRange(ptr: number, len: number): boolean {
    const p = ptr >>> 0;
    const l = len >>> 0;
    return p + l <= this.bytes().length;
  }

  /** A copy of [ptr, ptr+len), or null when out of range. */
  read(ptr: number, len: number): Uint8Array | null {
    const p = ptr >>> 0;
    const l = len >>> 0;
    const b = this.bytes();
    if (p + l > b.length) return null;
    return b.slice(p, p + l);
  }

  readString(ptr: number, len: number): string | null {
    const p = ptr >>> 0;
    const l = len >>> 0;
    const b = this.bytes();
    if (p + l > b.length) return null;
    const sub = b.subarray(p, p + l);
    // Short ASCII text (keys, header names, property paths: most calls) is built directly,
    // several times cheaper than a TextDecoder call and the same string.
    if (l <= 64) {
      let ascii = true;
      for (let i = 0; i < l; i++) {
        if (sub[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, sub as unknown as number[]);
    }
    return fromUtf8(sub);
  }

  write(ptr: number, data: Uint8Array): boolean {
    const p = ptr >>> 0;
    const b = this.bytes();
    if (p + data.length > b.length) return false;
    b.set(data, p);
    return true;
  }

  setU32(ptr: number, value: number): boolean {
    const p = ptr >>> 0;
    const b = this.bytes();
    if (p + 4 > b.length) return false;
    this.dataView().setUint32(p, value >>> 0, true);
    return true;
  }

  setU64(ptr: number, value: bigint): boolean {
    const p = ptr >>> 0;
    const b = this.bytes();
    if (p + 8 > b.length) return false;
    this.dataView().setBigUint64(p, BigInt.asUintN(64, value), true);
    return true;
  }

  getU32(ptr: number): number | null {
    const p = ptr >>> 0;
    const b = this.bytes();
    if (p + 4 > b.length) return null;
    return this.dataView().getUint32(p, true);
  }

  /**
   * Copies `data` into freshly allocated guest memory and writes pointer and size to
   * `ptrPtr`/`sizePtr` (proxy-wasm-cpp-host `copyToPointerSize`). Empty data is written as
   * pointer 0 / size 0 without calling the allocator: several SDKs trap on `malloc(0)`.
   */
  copyOut(data: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (data.length > 0) {
      const alloc = this.allocator();
      if (!alloc) return false;
      ptr = alloc(data.length) >>> 0;
      if (ptr === 0 || !this.write(ptr, data)) return false;
    }
    return this.setU32(ptrPtr, ptr) && this.setU32(sizePtr, data.length);
  }
}
