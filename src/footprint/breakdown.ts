/**
 * Size breakdown of a wasm module built by AssemblyScript: bytes per function, per source file
 * and per area (folder), from the module's `name` section, plus the data section's share taken by
 * static strings. AssemblyScript names functions `<file path without .ts>/<Class#method|name>`,
 * e.g. `assembly/pools/config/parsePool` or `~lib/map/Map<i32,i32>#set`, so the file is the
 * name up to the last `/` outside type arguments.
 */
import { readWasmLayout, type FunctionSize } from "./wasm-layout.js";

export interface SizeRow {
  name: string;
  bytes: number;
  /** Number of functions in the row (files and areas). */
  functions?: number;
}

export interface Breakdown {
  totalBytes: number;
  codeBytes: number;
  dataBytes: number;
  /** Data segments' payload that is static AssemblyScript strings (UTF-16 plus a 20-byte header). */
  stringBytes: number;
  stringCount: number;
  sections: SizeRow[];
  functions: SizeRow[];
  files: SizeRow[];
  areas: SizeRow[];
  /** Generic classes or functions grouped over their type arguments, with more than one instance. */
  generics: SizeRow[];
  hasNames: boolean;
}

/** `~lib/map/Map<~lib/string/String,i32>#set` without its type arguments: `~lib/map/Map#set`. */
export function withoutTypeArguments(name: string): string {
  let out = "";
  let depth = 0;
  for (const ch of name) {
    if (ch === "<") depth++;
    else if (ch === ">") depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return out;
}

/** Source file (path without `.ts`) a function was compiled from, by its name. */
export function sourceFileOf(name: string): string {
  // `start:<file>` is a file's top-level code; `~instanceof|<class>` a generated type check.
  if (name.startsWith("start:")) return name.slice("start:".length);
  const plain = withoutTypeArguments(name).replace(/^~instanceof\|/, "");
  const slash = plain.lastIndexOf("/");
  return slash > 0 ? plain.slice(0, slash) : "(unnamed)";
}

/** The area of a source file: `assembly/<folder>`, `proxy-wasm`, or `~lib/<folder>`. */
export function areaOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "proxy-wasm") return "proxy-wasm";
  if (parts[0] === "~lib" && parts[1] === "rt") return "~lib/rt (runtime, GC)";
  if (parts[0] === "~lib") return "~lib (standard library)";
  if (parts.length >= 3) return `${parts[0]}/${parts[1]}`;
  return parts[0] ?? file;
}

function group(functions: FunctionSize[], key: (f: FunctionSize) => string): SizeRow[] {
  const rows = new Map<string, SizeRow>();
  for (const f of functions) {
    const k = key(f);
    const row = rows.get(k) ?? { name: k, bytes: 0, functions: 0 };
    row.bytes += f.bytes;
    row.functions = (row.functions ?? 0) + 1;
    rows.set(k, row);
  }
  return [...rows.values()].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/**
 * Static strings in the data segments: AssemblyScript lays each static object out with a 20-byte
 * header whose last two words are the runtime type id (2 for String) and the payload size.
 */
function countStrings(bytes: Uint8Array): { count: number; bytes: number } {
  const image = dataImage(bytes);
  if (!image) return { count: 0, bytes: 0 };
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  let count = 0;
  let total = 0;
  for (let payload = 32; payload <= image.length; payload += 16) {
    const header = payload - 20;
    const id = view.getUint32(header + 12, true);
    const size = view.getUint32(header + 16, true);
    if (id !== 2 || size === 0 || size % 2 !== 0 || payload + size > image.length) continue;
    count++;
    total += 20 + size;
    payload += Math.floor((size - 1) / 16) * 16; // skip the string's own bytes
  }
  return { count, bytes: total };
}

/** The initial memory image the active data segments write (offsets from 0). */
function dataImage(bytes: Uint8Array): Uint8Array | null {
  let pos = 8;
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = u32();
    const end = pos + size;
    if (id === 11) {
      const segments: Array<{ offset: number; at: number; length: number }> = [];
      const count = u32();
      for (let i = 0; i < count; i++) {
        const flags = u32();
        if (flags !== 0 || bytes[pos++] !== 0x41) return null;
        const offset = u32(); // offsets are small positive i32s: unsigned LEB reads them the same
        pos++; // end
        const length = u32();
        segments.push({ offset, at: pos, length });
        pos += length;
      }
      const top = Math.max(0, ...segments.map((s) => s.offset + s.length));
      const image = new Uint8Array(top);
      for (const s of segments) image.set(bytes.subarray(s.at, s.at + s.length), s.offset);
      return image;
    }
    pos = end;
  }
  return null;
}

/** Computes the breakdown of a wasm binary. */
export function breakdown(bytes: Uint8Array): Breakdown {
  const layout = readWasmLayout(bytes);
  const section = (name: string) => layout.sections.filter((s) => s.name === name).reduce((n, s) => n + s.bytes, 0);
  const files = group(layout.functions, (f) => sourceFileOf(f.name));
  const areas = group(layout.functions, (f) => areaOf(sourceFileOf(f.name)));
  const generics = group(
    layout.functions.filter((f) => f.name.includes("<")),
    (f) => withoutTypeArguments(f.name),
  ).filter((g) => (g.functions ?? 0) > 1);
  const strings = countStrings(bytes);
  return {
    totalBytes: layout.totalBytes,
    codeBytes: section("code"),
    dataBytes: section("data"),
    stringBytes: strings.bytes,
    stringCount: strings.count,
    sections: layout.sections.map((s) => ({ name: s.name, bytes: s.bytes })),
    functions: layout.functions.map((f) => ({ name: f.name, bytes: f.bytes })).sort((a, b) => b.bytes - a.bytes),
    files,
    areas,
    generics,
    hasNames: layout.hasNames,
  };
}
