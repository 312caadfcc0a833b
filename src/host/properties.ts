/**
 * The property tree behind `proxy_get_property` / `proxy_set_property`, with Envoy's encodings:
 * strings raw, integers 8-byte little-endian int64, doubles 8-byte LE float64, booleans 1 byte,
 * timestamps/durations int64 nanoseconds, maps and lists in the pairs encoding. Paths are segments
 * joined by NUL (`"xds\0cluster_name"`).
 *
 * Values a test supplies (host `properties`, request `properties`) are deep-merged over Envoy's
 * defaults (plugin_name, plugin_root_id, plugin_vm_id, node, request.*, response.*, source.*,
 * destination.*, upstream.*, connection.*, xds.*); a function value is evaluated at lookup time.
 */
import { WasmResult } from "./abi.js";
import { encodePairs, type HeaderMap } from "./headers.js";
import { utf8, type GuestMemory } from "./memory.js";

/** A property with an explicit Envoy encoding. */
export interface TypedProperty {
  $type: "int" | "uint" | "double" | "bool" | "bytes" | "string" | "timestamp" | "duration";
  value: number | bigint | boolean | string | Uint8Array;
}

/** Anything that can sit in the property tree. */
export type PropertyValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | TypedProperty
  | PropertyValue[]
  | PropertyTree
  | (() => PropertyValue | undefined)
  | null
  | undefined;

export interface PropertyTree {
  [segment: string]: PropertyValue;
}

/** Helpers to force an encoding, e.g. `prop.uint(3)` or `prop.double(0.5)`. */
export const prop = {
  int: (value: number | bigint): TypedProperty => ({ $type: "int", value }),
  uint: (value: number | bigint): TypedProperty => ({ $type: "uint", value }),
  double: (value: number): TypedProperty => ({ $type: "double", value }),
  bool: (value: boolean): TypedProperty => ({ $type: "bool", value }),
  bytes: (value: Uint8Array): TypedProperty => ({ $type: "bytes", value }),
  timestampNs: (value: bigint): TypedProperty => ({ $type: "timestamp", value }),
  durationNs: (value: bigint): TypedProperty => ({ $type: "duration", value }),
};

function isTyped(v: unknown): v is TypedProperty {
  return typeof v === "object" && v !== null && "$type" in v && "value" in v;
}

function isTree(v: unknown): v is PropertyTree {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !isTyped(v);
}

function i64(v: bigint, unsigned = false): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  if (unsigned) dv.setBigUint64(0, BigInt.asUintN(64, v), true);
  else dv.setBigInt64(0, BigInt.asIntN(64, v), true);
  return out;
}

function f64(v: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, v, true);
  return out;
}

/** Encodes a resolved value the way Envoy's `serializeValue` does. */
export function encodeProperty(value: PropertyValue): Uint8Array | undefined {
  if (typeof value === "function") return encodeProperty(value());
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return utf8(value);
  if (typeof value === "boolean") return new Uint8Array([value ? 1 : 0]);
  if (typeof value === "bigint") return i64(value);
  if (typeof value === "number") return Number.isInteger(value) ? i64(BigInt(value)) : f64(value);
  if (value instanceof Uint8Array) return value.slice();
  if (isTyped(value)) {
    const v = value.value;
    switch (value.$type) {
      case "int":
      case "timestamp":
      case "duration":
        return i64(BigInt(v as number | bigint));
      case "uint":
        return i64(BigInt(v as number | bigint), true);
      case "double":
        return f64(Number(v));
      case "bool":
        return new Uint8Array([v ? 1 : 0]);
      case "bytes":
        return (v as Uint8Array).slice();
      case "string":
        return utf8(String(v));
    }
  }
  const latin = new TextDecoder("latin1");
  if (Array.isArray(value)) {
    const pairs: Array<[string, string]> = [];
    for (const item of value) pairs.push([latin.decode(encodeProperty(item) ?? new Uint8Array(0)), ""]);
    return encodeLatin1Pairs(pairs);
  }
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value)) {
    const enc = encodeProperty(v);
    if (enc) pairs.push([k, latin.decode(enc)]);
  }
  return encodeLatin1Pairs(pairs);
}

/** Pairs encoding where values are arbitrary bytes carried as latin1 strings. */
function encodeLatin1Pairs(pairs: Array<[string, string]>): Uint8Array {
  const bytes = pairs.map(([k, v]) => [utf8(k), Uint8Array.from(v, (c) => c.charCodeAt(0))] as const);
  let size = 4;
  for (const [k, v] of bytes) size += 8 + k.length + v.length + 2;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, bytes.length, true);
  let off = 4;
  for (const [k, v] of bytes) {
    dv.setUint32(off, k.length, true);
    dv.setUint32(off + 4, v.length, true);
    off += 8;
  }
  for (const [k, v] of bytes) {
    out.set(k, off);
    off += k.length + 1;
    out.set(v, off);
    off += v.length + 1;
  }
  return out;
}

/** Deep-merges plain trees; later layers win. */
export function mergeProperties(...layers: Array<PropertyTree | undefined>): PropertyTree {
  const out: PropertyTree = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      const cur = out[k];
      out[k] = isTree(cur) && isTree(v) ? mergeProperties(cur, v) : v;
    }
  }
  return out;
}

/** Resolves a path in a tree; undefined means NotFound. */
export function lookupProperty(tree: PropertyTree, segments: readonly string[]): PropertyValue | undefined {
  let cur: PropertyValue = tree;
  for (const seg of segments) {
    if (typeof cur === "function") cur = cur();
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (isTree(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
      cur = cur[seg];
    } else {
      return undefined;
    }
  }
  if (typeof cur === "function") cur = cur();
  return cur === null ? undefined : cur;
}

/**
 * `lookupProperty(mergeProperties(...layers), segments)` without building the merged tree: only
 * the layers' values along the path are looked at. The harness resolves a property on every
 * `proxy_get_property`; merging every default attribute for each call cost more than the
 * plugin's own work around it.
 */
export function lookupMerged(layers: Array<PropertyTree | undefined>, segments: readonly string[]): PropertyValue | undefined {
  let trees = layers.filter((l): l is PropertyTree => l !== undefined);
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s]!;
    const values: PropertyValue[] = [];
    for (const t of trees) if (Object.prototype.hasOwnProperty.call(t, seg)) values.push(t[seg]);
    if (values.length === 0) return undefined;
    // mergeProperties: a later non-tree value replaces; trees after the last non-tree merge.
    let j = values.length - 1;
    if (!isTree(values[j])) return lookupProperty({ v: values[j] }, ["v", ...segments.slice(s + 1)]);
    while (j >= 0 && isTree(values[j])) j--;
    trees = values.slice(j + 1) as PropertyTree[];
  }
  return mergeProperties(...trees);
}

/** Splits a NUL-joined path. */
export function splitPath(path: string): string[] {
  if (path.length === 0) return [];
  const parts = path.split("\u0000");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** A `"host:port"` address split for `*.address` / `*.port`. */
export function addressTree(address: string | undefined): PropertyTree | undefined {
  if (!address) return undefined;
  const i = address.lastIndexOf(":");
  const port = i > 0 ? Number(address.slice(i + 1)) : NaN;
  return Number.isFinite(port) ? { address, port } : { address };
}

/** Headers as the CEL map Envoy exposes (`request.headers`): first value per key. */
export function headersTree(map: HeaderMap | null | undefined): PropertyTree | undefined {
  if (!map) return undefined;
  const out: PropertyTree = {};
  for (const [k, v] of map.toPairs()) if (!(k in out)) out[k] = v;
  return out;
}

/** What the property imports need from the VM that links them. */
export interface PropertyVm {
  readonly mem: GuestMemory;
  getProperty(path: string): Uint8Array | undefined;
  setProperty(path: string, value: Uint8Array): number;
}

export function propertyImports(vm: PropertyVm): Record<string, (...args: number[]) => number> {
  const mem = vm.mem;
  return {
    proxy_get_property(pp, ps, rp, rs) {
      const path = mem.readString(pp, ps);
      if (path === null) return WasmResult.InvalidMemoryAccess;
      const value = vm.getProperty(path);
      if (value === undefined) return WasmResult.NotFound;
      return mem.copyOut(value, rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_property(pp, ps, vp, vs) {
      const path = mem.readString(pp, ps);
      const value = mem.read(vp, vs);
      if (path === null || value === null) return WasmResult.InvalidMemoryAccess;
      return vm.setProperty(path, value);
    },
  };
}
