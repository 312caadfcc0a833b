/**
 * Minimal reader of a wasm binary's type, import, function and export sections, enough to check
 * the ABI signatures of a proxy-wasm module in tests. (WebAssembly.Module.imports/exports give
 * names but not types.)
 */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

/** A function signature, written like `(i32,i64)->i32`. */
export type Signature = string;

export interface ModuleShape {
  /** `module.name` → signature, function imports only. */
  importedFunctions: Map<string, Signature>;
  /** export name → signature, function exports only. */
  exportedFunctions: Map<string, Signature>;
}

const VAL_TYPES: Record<number, ValType> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
  ) {}

  byte(): number {
    const b = this.bytes[this.pos++];
    if (b === undefined) throw new Error("unexpected end of wasm binary");
    return b;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  name(): string {
    const length = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }

  valType(): ValType {
    const code = this.byte();
    const type = VAL_TYPES[code];
    if (!type) throw new Error(`unknown value type 0x${code.toString(16)}`);
    return type;
  }

  limits(): void {
    const flags = this.u32();
    this.u32();
    if (flags & 1) this.u32();
  }
}

export function readModuleShape(binary: Uint8Array): ModuleShape {
  const c = new Cursor(binary, 8);
  const types: Signature[] = [];
  const importedFunctionTypes: number[] = [];
  const importedFunctions = new Map<string, Signature>();
  const definedFunctionTypes: number[] = [];
  const exportedFunctions = new Map<string, Signature>();

  while (c.pos < binary.length) {
    const id = c.byte();
    const size = c.u32();
    const end = c.pos + size;
    if (id === 1) {
      const count = c.u32();
      for (let i = 0; i < count; i++) {
        if (c.byte() !== 0x60) throw new Error("expected func type");
        const params = Array.from({ length: c.u32() }, () => c.valType());
        const results = Array.from({ length: c.u32() }, () => c.valType());
        types.push(`(${params.join(",")})->${results.join(",") || "void"}`);
      }
    } else if (id === 2) {
      const count = c.u32();
      for (let i = 0; i < count; i++) {
        const module = c.name();
        const name = c.name();
        const kind = c.byte();
        if (kind === 0) {
          const typeIndex = c.u32();
          importedFunctionTypes.push(typeIndex);
          importedFunctions.set(`${module}.${name}`, types[typeIndex]!);
        } else if (kind === 1) {
          c.byte();
          c.limits();
        } else if (kind === 2) {
          c.limits();
        } else if (kind === 3) {
          c.valType();
          c.byte();
        }
      }
    } else if (id === 3) {
      const count = c.u32();
      for (let i = 0; i < count; i++) definedFunctionTypes.push(c.u32());
    } else if (id === 7) {
      const count = c.u32();
      for (let i = 0; i < count; i++) {
        const name = c.name();
        const kind = c.byte();
        const index = c.u32();
        if (kind === 0) {
          const typeIndex =
            index < importedFunctionTypes.length
              ? importedFunctionTypes[index]!
              : definedFunctionTypes[index - importedFunctionTypes.length]!;
          exportedFunctions.set(name, types[typeIndex]!);
        }
      }
    }
    c.pos = end;
  }
  return { importedFunctions, exportedFunctions };
}
