/**
 * Byte buffers (bodies, configurations, http-call response bodies) and the
 * `proxy_get_buffer_bytes` / `proxy_set_buffer_bytes` / `proxy_get_buffer_status` host functions.
 */
import { BUFFER_TYPE_MAX, WasmResult, type WasmResultCode } from "./abi.js";
import type { GuestMemory } from "./memory.js";

/**
 * A growable byte buffer with Envoy's `Buffer::copyFrom` write conventions. Appends grow the
 * storage geometrically, so buffering a body chunk by chunk costs linear time, not quadratic.
 */
export class BodyBuffer {
  private store: Uint8Array;
  private length: number;

  constructor(
    bytes: Uint8Array = new Uint8Array(0),
    /** Immutable buffers (configurations, http-call responses) refuse writes with BadArgument. */
    readonly mutable = true,
  ) {
    this.store = bytes;
    this.length = bytes.length;
  }

  /** The content (a view of the storage: valid until the next write). */
  get bytes(): Uint8Array {
    return this.length === this.store.length ? this.store : this.store.subarray(0, this.length);
  }

  set bytes(value: Uint8Array) {
    this.store = value;
    this.length = value.length;
  }

  get size(): number {
    return this.length;
  }

  append(data: Uint8Array): void {
    if (data.length === 0) return;
    const need = this.length + data.length;
    if (need > this.store.length) {
      // Grow: copy once into room for twice the content.
      const next = new Uint8Array(Math.max(need, this.length * 2, 64));
      next.set(this.bytes, 0);
      this.store = next;
    }
    this.store.set(data, this.length);
    this.length = need;
  }

  /**
   * Envoy's write rules (`Context::Buffer::copyFrom`):
   * start 0 & length 0 prepends; start 0 & length >= size replaces; start >= size appends;
   * anything else (a write into the middle) is BadArgument.
   */
  copyFrom(start: number, length: number, data: Uint8Array): WasmResultCode {
    if (!this.mutable) return WasmResult.BadArgument;
    const size = this.bytes.length;
    if (start === 0) {
      if (length === 0) {
        this.bytes = concatBytes(data, this.bytes);
        return WasmResult.Ok;
      }
      if (length >= size) {
        this.bytes = data.slice();
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    }
    if (start >= size) {
      this.append(data);
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The buffer host functions. */
/** What the buffer imports need from the VM that links them. */
export interface BufferVm {
  readonly mem: GuestMemory;
  /** The buffer of this type in the current context, null when there is none. */
  buffer(type: number): BodyBuffer | null;
  noteBodyMutation(type: number): void;
}

export function bufferImports(vm: BufferVm): Record<string, (...args: number[]) => number> {
  const mem = vm.mem;
  return {
    proxy_get_buffer_bytes(type, start, length, rp, rs) {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = vm.buffer(type);
      if (!buffer) return WasmResult.NotFound;
      const s = start >>> 0;
      let len = length >>> 0;
      // Don't over-read: clamp to what is available (proxy-wasm-cpp-host get_buffer_bytes).
      if (s + len > buffer.size) len = Math.max(0, buffer.size - s);
      // Envoy returns Ok WITHOUT writing ptr/size when nothing is left to read.
      if (len === 0) return WasmResult.Ok;
      return mem.copyOut(buffer.bytes.subarray(s, s + len), rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_buffer_status(type, lp, fp) {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = vm.buffer(type);
      if (!buffer) return WasmResult.NotFound;
      if (!mem.setU32(lp, buffer.size)) return WasmResult.InvalidMemoryAccess;
      return mem.setU32(fp, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_buffer_bytes(type, start, length, dp, ds) {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = vm.buffer(type);
      if (!buffer) return WasmResult.NotFound;
      const data = mem.read(dp, ds);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      const result = buffer.copyFrom(start >>> 0, length >>> 0, data);
      if (result === WasmResult.Ok) vm.noteBodyMutation(type);
      return result;
    },
  };
}
