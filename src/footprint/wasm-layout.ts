/**
 * Where a wasm module's bytes are: its sections, the body size of every defined function (with
 * its name from the `name` custom section when the module has one) and its data segments.
 * A reader of the binary format only (no validation); enough for size accounting.
 */

/** One section of the module, in file order. */
export interface SectionSize {
  /** Section name: "type", "import", "code", "data", ... or `custom:<name>`. */
  name: string;
  /** Bytes of the section including its id and size header. */
  bytes: number;
}

/** One function defined by the module (imports are not listed). */
export interface FunctionSize {
  /** Function index in the module's function index space (imports first). */
  index: number;
  /** Name from the `name` section, or `$<index>` when the module carries none. */
  name: string;
  /** Bytes of the body including its size prefix. */
  bytes: number;
}

export interface WasmLayout {
  totalBytes: number;
  sections: SectionSize[];
  functions: FunctionSize[];
  /** Byte length of each data segment's payload. */
  dataSegments: number[];
  /** True when the module has a `name` section with function names. */
  hasNames: boolean;
}

const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount", "tag"];

/** Thrown for a binary that is not a readable wasm module. */
export class WasmLayoutError extends Error {
  readonly code = "E_WASM_LAYOUT";
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
  ) {}
  byte(): number {
    const b = this.bytes[this.pos++];
    if (b === undefined) throw new WasmLayoutError("unexpected end of the wasm binary");
    return b;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new WasmLayoutError("LEB128 value too long");
    }
  }
  name(): string {
    const length = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
}

/** Reads the layout of a wasm binary. */
export function readWasmLayout(bytes: Uint8Array): WasmLayout {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmLayoutError("not a wasm binary (missing the \\0asm header)");
  }
  const r = new Reader(bytes, 8);
  const sections: SectionSize[] = [];
  const bodies: Array<{ bytes: number }> = [];
  const dataSegments: number[] = [];
  const names = new Map<number, string>();
  let importedFunctions = 0;
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const bodyStart = r.pos;
    const end = bodyStart + size;
    if (end > bytes.length) throw new WasmLayoutError(`section ${id} runs past the end of the binary`);
    let name = SECTION_NAMES[id] ?? `unknown(${id})`;
    if (id === 0) {
      const custom = r.name();
      name = `custom:${custom}`;
      if (custom === "name") readFunctionNames(new Reader(bytes.subarray(0, end), r.pos), names);
    } else if (id === 2) {
      importedFunctions = countFunctionImports(r);
    } else if (id === 10) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const at = r.pos;
        const length = r.u32();
        r.pos += length;
        bodies.push({ bytes: r.pos - at });
      }
    } else if (id === 11) {
      readDataSegments(r, dataSegments);
    }
    sections.push({ name, bytes: end - start });
    r.pos = end;
  }
  const functions = bodies.map((b, i) => {
    const index = importedFunctions + i;
    return { index, name: names.get(index) ?? `$${index}`, bytes: b.bytes };
  });
  return { totalBytes: bytes.length, sections, functions, dataSegments, hasNames: names.size > 0 };
}

function countFunctionImports(r: Reader): number {
  const count = r.u32();
  let functions = 0;
  for (let i = 0; i < count; i++) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0) {
      r.u32();
      functions++;
    } else if (kind === 1) {
      r.byte();
      skipLimits(r);
    } else if (kind === 2) {
      skipLimits(r);
    } else if (kind === 3) {
      r.byte();
      r.byte();
    } else if (kind === 4) {
      r.byte();
      r.u32();
    } else throw new WasmLayoutError(`unknown import kind ${kind}`);
  }
  return functions;
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

function readFunctionNames(r: Reader, out: Map<number, string>): void {
  const end = r.bytes.length;
  while (r.pos < end) {
    const sub = r.byte();
    const size = r.u32();
    const next = r.pos + size;
    if (sub === 1) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const index = r.u32();
        out.set(index, r.name());
      }
    }
    r.pos = next;
  }
}

function readDataSegments(r: Reader, out: number[]): void {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags === 2) r.u32();
    if (flags === 0 || flags === 2) skipConstExpr(r);
    const length = r.u32();
    r.pos += length;
    out.push(length);
  }
}

function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42 || op === 0x23) r.u32();
    else throw new WasmLayoutError(`unsupported opcode 0x${op.toString(16)} in a data segment offset`);
  }
}
