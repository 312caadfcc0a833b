/**
 * Header maps as Envoy keeps them (lower-cased keys, pseudo-headers first, repeated keys kept in
 * order), the proxy-wasm pairs encoding, and the `proxy_*_header_map_*` host functions.
 *
 * Pairs encoding (both directions): u32 LE count, count x (u32 key_len, u32 value_len), then
 * `key \0 value \0` for each entry.
 */
import { MAP_TYPE_MAX, MapType, WasmResult } from "./abi.js";
import { fromUtf8, utf8, type GuestMemory } from "./memory.js";

/** A list of header entries in order. */
export type HeaderPairs = Array<[string, string]>;

/**
 * What the harness accepts wherever headers are given: a pairs array (keeps repeats and order),
 * a plain object (a string[] value repeats the header), a `HeaderMap`, or undefined (empty).
 */
export type HeaderInput = HeaderPairs | ReadonlyArray<readonly [string, string]> | Record<string, string | number | readonly string[]> | HeaderMap | undefined;

/** An ordered, case-insensitive header map behaving like Envoy's `HeaderMapImpl`. */
export class HeaderMap {
  private entries: HeaderPairs = [];

  constructor(input?: HeaderInput) {
    if (input === undefined) return;
    if (input instanceof HeaderMap) {
      this.entries = input.toPairs();
    } else if (Array.isArray(input)) {
      for (const [k, v] of input as ReadonlyArray<readonly [string, string]>) this.add(k, String(v));
    } else {
      for (const [k, v] of Object.entries(input as Record<string, string | number | readonly string[]>)) {
        if (Array.isArray(v)) for (const one of v) this.add(k, String(one));
        else this.add(k, String(v));
      }
    }
  }

  /** Number of entries (repeats counted), what Envoy passes as `num_headers`. */
  get size(): number {
    return this.entries.length;
  }

  /** First value of `key` (Envoy's `get_header_map_value`), or undefined. */
  get(key: string): string | undefined {
    const k = key.toLowerCase();
    return this.entries.find((e) => e[0] === k)?.[1];
  }

  getAll(key: string): string[] {
    const k = key.toLowerCase();
    return this.entries.filter((e) => e[0] === k).map((e) => e[1]);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Appends an entry (`addCopy`); pseudo-headers go before the first regular header. */
  add(key: string, value: string): void {
    const k = key.toLowerCase();
    if (k.startsWith(":")) {
      const firstRegular = this.entries.findIndex((e) => !e[0].startsWith(":"));
      if (firstRegular >= 0) {
        this.entries.splice(firstRegular, 0, [k, value]);
        return;
      }
    }
    this.entries.push([k, value]);
  }

  /** Replaces every entry of `key` by one entry (`setCopy`: remove all, then add). */
  set(key: string, value: string): void {
    this.remove(key);
    this.add(key, value);
  }

  /**
   * Sets `key` where it already is (first entry keeps its position, later ones go), else appends:
   * Envoy's setter for an inline header such as `content-length` (`setContentLength`).
   */
  setInPlace(key: string, value: string): void {
    const k = key.toLowerCase();
    const i = this.entries.findIndex((e) => e[0] === k);
    if (i < 0) {
      this.add(k, value);
      return;
    }
    this.entries = this.entries.filter((e, j) => j <= i || e[0] !== k);
    this.entries[i] = [k, value];
  }

  /** Removes every entry of `key`; removing an absent key is not an error. */
  remove(key: string): void {
    const k = key.toLowerCase();
    this.entries = this.entries.filter((e) => e[0] !== k);
  }

  /** Replaces the whole map (`proxy_set_header_map_pairs`). */
  replaceAll(pairs: HeaderPairs): void {
    this.entries = [];
    for (const [k, v] of pairs) this.add(k, v);
  }

  toPairs(): HeaderPairs {
    return this.entries.map(([k, v]) => [k, v]);
  }

  /** A plain object; repeated headers are joined with "," (display only). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.entries) out[k] = k in out ? `${out[k]},${v}` : v;
    return out;
  }

  /** Envoy's `byteSize()`: sum of key and value lengths. */
  byteSize(): number {
    let n = 0;
    for (const [k, v] of this.entries) n += utf8(k).length + utf8(v).length;
    return n;
  }

  clone(): HeaderMap {
    return new HeaderMap(this);
  }
}

/** Encodes pairs in the proxy-wasm map format. */
export function encodePairs(pairs: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const encoded = pairs.map(([k, v]) => [utf8(k), utf8(v)] as const);
  let size = 4;
  for (const [k, v] of encoded) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, encoded.length, true);
  let off = 4;
  for (const [k, v] of encoded) {
    dv.setUint32(off, k.length, true);
    dv.setUint32(off + 4, v.length, true);
    off += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, off);
    off += k.length + 1;
    out.set(v, off);
    off += v.length + 1;
  }
  return out;
}

/**
 * Decodes the proxy-wasm map format. Like proxy-wasm-cpp-host `toPairs`, a malformed buffer (too
 * short for its count or its strings) decodes as an empty list instead of failing.
 */
export function decodePairs(bytes: Uint8Array): HeaderPairs {
  return decodePairsRaw(bytes).map(([k, v]) => [fromUtf8(k), fromUtf8(v)]);
}

/** decodePairs without the UTF-8 decode: each key and value as the bytes sent. */
export function decodePairsRaw(bytes: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  if (bytes.length < 4) return [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getUint32(0, true);
  if (4 + count * 8 > bytes.length) return [];
  const sizes: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) sizes.push([dv.getUint32(4 + i * 8, true), dv.getUint32(8 + i * 8, true)]);
  let off = 4 + count * 8;
  const out: Array<[Uint8Array, Uint8Array]> = [];
  for (const [kl, vl] of sizes) {
    if (off + kl + 1 + vl + 1 > bytes.length) return [];
    const k = bytes.subarray(off, off + kl);
    off += kl + 1;
    const v = bytes.subarray(off, off + vl);
    off += vl + 1;
    out.push([k, v]);
  }
  return out;
}

/**
 * One header write exactly as the plugin made it: the key and value BYTES it passed to
 * `proxy_add_header_map_value`, `proxy_replace_header_map_value` or (one per pair)
 * `proxy_set_header_map_pairs`, before any UTF-8 decoding. For tests that check what a plugin
 * would put on the wire (a lossy decode would hide invalid UTF-8 or stray bytes).
 */
export interface RawHeaderWrite {
  call: "add" | "replace" | "set_pairs";
  mapType: number;
  key: Uint8Array;
  value: Uint8Array;
  worker: number;
}

/** What the header-map imports need from the VM that links them. */
export interface HeaderVm {
  readonly mem: GuestMemory;
  readonly abi: string;
  readonly worker: number;
  readonly core: { readonly onHeaderWrite?: (write: RawHeaderWrite) => void };
  /** The map of this type the current context may change, null when there is none. */
  mutableMap(type: number): HeaderMap | null;
  /** The map of this type the current context may read, null when there is none. */
  constMap(type: number): HeaderMap | null;
  noteHeaderMutation(type: number): void;
  activeStream(): { readonly inAccessLog: boolean } | undefined;
}

/** The header-map host functions (`env.proxy_*_header_map_*`). */
export function headerImports(vm: HeaderVm): Record<string, (...args: number[]) => number> {
  const mem = vm.mem;
  const badType = (t: number) => t >>> 0 > MAP_TYPE_MAX;
  // Raw view for byte-level checks (RawHeaderWrite); only when a test asked for it.
  const rawWrite = (call: "add" | "replace", type: number, kp: number, ks: number, vp: number, vs: number) => {
    const hook = vm.core.onHeaderWrite;
    if (!hook) return;
    const key = mem.read(kp, ks);
    const value = mem.read(vp, vs);
    if (key && value) hook({ call, mapType: type, key, value, worker: vm.worker });
  };
  // add / replace / remove / set-pairs: edit the active stream's mutable map, then note the mutation.
  const editMap = (type: number, edit: (map: HeaderMap) => void): number => {
    const map = vm.mutableMap(type);
    if (!map) return WasmResult.BadArgument;
    edit(map);
    vm.noteHeaderMutation(type);
    return WasmResult.Ok;
  };
  return {
    proxy_add_header_map_value(type, kp, ks, vp, vs) {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(kp, ks);
      const value = mem.readString(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      rawWrite("add", type, kp, ks, vp, vs);
      return editMap(type, (map) => map.add(key, value));
    },
    proxy_get_header_map_value(type, kp, ks, rp, rs) {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(kp, ks);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const map = vm.constMap(type);
      // Envoy: a map missing in the access-log phase reads as NotFound, otherwise BadArgument.
      if (!map) return vm.activeStream()?.inAccessLog ? WasmResult.NotFound : WasmResult.BadArgument;
      const value = map.get(key);
      if (value === undefined) {
        if (vm.abi !== "0.1.0") return WasmResult.NotFound;
        return mem.copyOut(new Uint8Array(0), rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      }
      return mem.copyOut(utf8(value), rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_replace_header_map_value(type, kp, ks, vp, vs) {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(kp, ks);
      const value = mem.readString(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      rawWrite("replace", type, kp, ks, vp, vs);
      return editMap(type, (map) => map.set(key, value));
    },
    proxy_remove_header_map_value(type, kp, ks) {
      if (badType(type)) return WasmResult.BadArgument;
      const key = mem.readString(kp, ks);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      return editMap(type, (map) => map.remove(key));
    },
    proxy_get_header_map_pairs(type, rp, rs) {
      if (badType(type)) return WasmResult.BadArgument;
      const map = vm.constMap(type);
      // Envoy: an unavailable map reads as an empty list; an empty list is written as ptr 0 / len 0.
      const pairs = map ? map.toPairs() : [];
      const data = pairs.length === 0 ? new Uint8Array(0) : encodePairs(pairs);
      return mem.copyOut(data, rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_header_map_pairs(type, p, s) {
      if (badType(type)) return WasmResult.BadArgument;
      const data = mem.read(p, s);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      const hook = vm.core.onHeaderWrite;
      if (hook) for (const [key, value] of decodePairsRaw(data)) hook({ call: "set_pairs", mapType: type, key, value, worker: vm.worker });
      return editMap(type, (map) => map.replaceAll(decodePairs(data)));
    },
    proxy_get_header_map_size(type, rp) {
      if (badType(type)) return WasmResult.BadArgument;
      const map = vm.mutableMap(type);
      if (!map) return WasmResult.BadArgument;
      return mem.setU32(rp, map.byteSize()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

export { MapType };
