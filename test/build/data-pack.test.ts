/**
 * The packed data of build/plugin.wasm (src/datapack): the codec round-trips any bytes, and the
 * wasm decoder that the build adds restores memory exactly: a packed module's memory after
 * `_initialize` equals the unpacked module's, byte for byte, for generated modules and for the
 * real plugin (build/plugin.names.wasm is the unpacked build of the same code).
 */
import binaryen from "binaryen";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lzCompress, lzDecompress } from "../../src/datapack/lz-codec.js";
import { packData } from "../../src/datapack/pack-data.js";
import { readWasmLayout } from "../../src/footprint/wasm-layout.js";
import { wasmBytes } from "./wasm-files.js";

/** Memory right after `_initialize`, with every import a function that returns 0. */
function memoryAfterInitialize(binary: Uint8Array): { memory: Uint8Array; hostCalls: string[] } {
  const module = new WebAssembly.Module(binary);
  const hostCalls: string[] = [];
  const imports: Record<string, Record<string, () => number>> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    (imports[i.module] ??= {})[i.name] = () => {
      hostCalls.push(i.name);
      return 0;
    };
  }
  const instance = new WebAssembly.Instance(module, imports);
  (instance.exports._initialize as () => void)();
  return { memory: new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer.slice(0)), hostCalls };
}

/** Bytes like AssemblyScript's static data: UTF-16 ASCII text, small integers, runs, noise. */
const dataBytes = fc.oneof(
  fc.string({ maxLength: 60 }).map((s) => {
    const out = new Uint8Array(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      out[2 * i] = s.charCodeAt(i) & 0xff;
      out[2 * i + 1] = s.charCodeAt(i) >> 8;
    }
    return out;
  }),
  fc.uint8Array({ maxLength: 80 }),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 300 })).map(([b, n]) => new Uint8Array(n).fill(b)),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).chain((unit) => fc.integer({ min: 1, max: 20 }).map((n) => Uint8Array.from({ length: unit.length * n }, (_, i) => unit[i % unit.length]!))),
);

const image = fc.array(dataBytes, { maxLength: 40 }).map((parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
});

/** A module with `segments` at their offsets, one page, and an `_initialize` that stores 42 at 0. */
function moduleWith(segments: Array<{ offset: number; data: Uint8Array }>): Uint8Array {
  const m = new binaryen.Module();
  try {
    m.setMemory(1, -1, "memory", segments.map((s) => ({ offset: m.i32.const(s.offset), data: s.data, passive: false })));
    m.addFunction("start", binaryen.none, binaryen.none, [], m.i32.store(0, 4, m.i32.const(0), m.i32.const(42)));
    m.addFunctionExport("start", "_initialize");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

describe("lz codec", () => {
  it("round-trips any bytes, decodable in place with the slack it reports", () => {
    fc.assert(
      fc.property(image, (bytes) => {
        const stream = lzCompress(bytes);
        const { output, inPlaceSlack } = lzDecompress(stream, bytes.length);
        expect(Buffer.from(output).equals(Buffer.from(bytes))).toBe(true);
        expect(inPlaceSlack).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it("stores UTF-16 ASCII text in about one byte per character", () => {
    const text = "no endpoint in pool matches the request's model; ".repeat(1);
    const utf16 = Uint8Array.from([...text].flatMap((c) => [c.charCodeAt(0), 0]));
    expect(lzCompress(utf16).length).toBeLessThanOrEqual(text.length + 4);
  });
});

describe("packed data in wasm", () => {
  it("restores memory byte for byte after _initialize, for any active segments", () => {
    const layout = fc.array(fc.tuple(fc.integer({ min: 0, max: 64 }), dataBytes), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 2000 }), layout, (first, parts) => {
        const segments: Array<{ offset: number; data: Uint8Array }> = [];
        let at = first;
        for (const [gap, data] of parts) {
          at += gap;
          if (data.length === 0) continue;
          segments.push({ offset: at, data });
          at += data.length;
        }
        const plain = moduleWith(segments);
        const result = packData(plain);
        const expected = memoryAfterInitialize(plain).memory;
        const actual = memoryAfterInitialize(result.binary).memory;
        expect(actual.length).toBe(expected.length);
        expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
        if (result.packed) {
          expect(readWasmLayout(result.binary).dataSegments).toEqual([result.packedBytes]);
          expect(result.packedBytes).toBeLessThan(result.imageBytes);
        } else {
          expect(result.binary).toBe(plain);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("build/plugin.wasm starts with the memory of its unpacked build, in one data segment", () => {
    const shipped = wasmBytes("plugin.wasm");
    const unpacked = wasmBytes("plugin.names.wasm");
    const packed = memoryAfterInitialize(shipped);
    const plain = memoryAfterInitialize(unpacked);
    expect(packed.hostCalls).toEqual([]);
    expect(packed.memory.length).toBe(plain.memory.length);
    expect(Buffer.from(packed.memory).equals(Buffer.from(plain.memory))).toBe(true);
    const segments = readWasmLayout(shipped).dataSegments;
    expect(segments).toHaveLength(1);
    expect(readWasmLayout(unpacked).dataSegments.length).toBeGreaterThan(100);
  });
});
