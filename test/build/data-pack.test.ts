/**
 * The packed data of build/plugin.wasm (src/datapack): the codec round-trips any bytes, through
 * the reference decoder and through the wasm decoder the build emits (run in place, in a tiny
 * module, touching nothing but its output, the stream's slack and its probability table), and
 * the packed module restores memory exactly: its memory after `_initialize` equals the unpacked
 * module's, byte for byte, for generated modules and for the real plugin
 * (build/plugin.names.wasm is the unpacked build of the same code).
 */
import binaryen from "binaryen";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lzCompress, lzDecompress } from "../../src/datapack/lz-codec.js";
import { packData, placeTable } from "../../src/datapack/pack-data.js";
import { TABLE_BYTES, addUnpackFunction } from "../../src/datapack/unpack-function.js";
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

function utf16(text: string): Uint8Array {
  return Uint8Array.from([...text].flatMap((c) => [c.charCodeAt(0), 0]));
}

/** `length` bytes of UTF-16 text with some variety (compressible, not one long run). */
function pageOfText(length: number): Uint8Array {
  const words = ["endpoint", "queue", "pool", "model", "config", "field", "weight", "scorer", "filter", "header"];
  let text = "";
  for (let i = 0; text.length * 2 < length; i++) text += `${words[(i * 7) % words.length]}${i % 97} `;
  return utf16(text).subarray(0, length);
}

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

/** Bytes that stress the codec: empty, zeros, incompressible, long runs, UTF-16 text, periods. */
const adversarial = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.integer({ min: 1, max: 3000 }).map((n) => new Uint8Array(n)),
  fc.uint8Array({ minLength: 1, maxLength: 2000 }),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 500, max: 2000 }), fc.uint8Array({ maxLength: 40 })).map(([b, n, tail]) => {
    const out = new Uint8Array(n + tail.length).fill(b);
    out.set(tail, n);
    return out;
  }),
  fc.string({ unit: "binary", maxLength: 400 }).map((s) => {
    const out = new Uint8Array(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      out[2 * i] = s.charCodeAt(i) & 0xff;
      out[2 * i + 1] = s.charCodeAt(i) >> 8;
    }
    return out;
  }),
  image,
);

/** Where the stream ends when decoded in place at `at` (never starting below the output). */
function streamEnd(stream: Uint8Array, length: number, inPlaceSlack: number, at: number): number {
  return Math.max(at + length + inPlaceSlack, at + stream.length);
}

/**
 * Decodes `stream` with the wasm decoder, in place: the output at `at`, the stream ending at
 * `streamEnd`, the probability table at `tableAt`. Returns the output and checks that no byte
 * outside output, stream and table changed.
 */
function wasmDecode(stream: Uint8Array, length: number, inPlaceSlack: number, at: number, tableAt: number): Uint8Array {
  const end = streamEnd(stream, length, inPlaceSlack, at);
  const pages = Math.ceil(Math.max(end, tableAt + TABLE_BYTES) / 65536) + 1;
  const m = new binaryen.Module();
  let binary: Uint8Array;
  try {
    m.setMemory(pages, -1, "memory");
    addUnpackFunction(m, "unpack", tableAt);
    m.addFunctionExport("unpack", "unpack");
    if (!m.validate()) throw new Error("decoder module does not validate");
    binary = m.emitBinary();
  } finally {
    m.dispose();
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(binary));
  const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  const streamAt = end - stream.length;
  memory.set(stream, streamAt);
  (instance.exports.unpack as (src: number, dst: number, end: number) => void)(streamAt, at, at + length);
  for (let i = 0; i < memory.length; i++) {
    const scratch = (i >= at && i < end) || (i >= tableAt && i < tableAt + TABLE_BYTES);
    if (!scratch && memory[i] !== 0) throw new Error(`the decoder wrote byte ${i}, outside its output, slack and table`);
  }
  return memory.slice(at, at + length);
}

/** The first test to read build/ may have to build the modules (~40 s, more on a loaded machine). */
const BUILD_TIMEOUT_MS = 240_000;

/** The encoder's optimal parse takes a while on inputs of a few KB, more so on a loaded machine. */
const CODEC_TIMEOUT_MS = 240_000;

describe("lz codec", () => {
  it("round-trips any bytes, decodable in place with the slack it reports", () => {
    fc.assert(
      fc.property(fc.oneof(image, adversarial), fc.integer({ min: 0, max: 1 }), (bytes, address) => {
        const stream = lzCompress(bytes, address);
        const { output, inPlaceSlack } = lzDecompress(stream, bytes.length, address);
        expect(Buffer.from(output).equals(Buffer.from(bytes))).toBe(true);
        expect(inPlaceSlack).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 80 },
    );
  }, CODEC_TIMEOUT_MS);

  it("the emitted wasm decoder restores any bytes in place, like the reference decoder", () => {
    fc.assert(
      fc.property(adversarial, fc.integer({ min: 0, max: 64 }), fc.boolean(), (bytes, gap, tableBelow) => {
        // The table below the output or past the stream, as the build places it; the two bytes
        // below the output are zero.
        const at = tableBelow ? TABLE_BYTES + 2 + gap : 2 + gap;
        const stream = lzCompress(bytes, at);
        const { inPlaceSlack } = lzDecompress(stream, bytes.length, at);
        const tableAt = tableBelow ? 0 : streamEnd(stream, bytes.length, inPlaceSlack, at);
        const output = wasmDecode(stream, bytes.length, inPlaceSlack, at, tableAt);
        expect(Buffer.from(output).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 40 },
    );
  }, CODEC_TIMEOUT_MS);

  it("decodes the edge cases in wasm: empty, zeros, a long run, incompressible bytes", () => {
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff);
    for (const bytes of [new Uint8Array(0), new Uint8Array(1), new Uint8Array(20000), new Uint8Array(3000).fill(0xa5), random]) {
      const stream = lzCompress(bytes, 17);
      const { inPlaceSlack } = lzDecompress(stream, bytes.length, 17);
      const output = wasmDecode(stream, bytes.length, inPlaceSlack, 17, streamEnd(stream, bytes.length, inPlaceSlack, 17));
      expect(Buffer.from(output).equals(Buffer.from(bytes))).toBe(true);
    }
    // Incompressible bytes cost little more than themselves (the caller then keeps them unpacked).
    expect(lzCompress(random).length).toBeLessThan(random.length * 1.05);
  });

  it("stores UTF-16 ASCII text in under one byte per character", () => {
    const text =
      "no endpoint in pool matches the request's model; the pool's endpoints are all over their queue limit; " +
      'config field "scorers[0].weight" must be a number between 0 and 100; config field "filters" must be an array of filter names; ';
    const utf16 = Uint8Array.from([...text].flatMap((c) => [c.charCodeAt(0), 0]));
    expect(lzCompress(utf16).length).toBeLessThan(text.length * 0.8);
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

  it("puts the decoder's table below the image when memory past it is full", () => {
    const text = utf16("config field must be a number; ".repeat(40));
    const nearTopPlain = moduleWith([{ offset: 65536 - text.length - 8, data: text }]);
    const nearTop = packData(nearTopPlain);
    expect(nearTop.packed).toBe(true);
    expect(nearTop.addedPages).toBe(0);
    expect(Buffer.from(memoryAfterInitialize(nearTop.binary).memory).equals(Buffer.from(memoryAfterInitialize(nearTopPlain).memory))).toBe(true);
  });

  // No zero gap of the table's size in the initial memory: the table goes past the data, in a page
  // added to the initial memory. Each layout packs, restores the data byte for byte, leaves the
  // rest of the old memory as the unpacked module's and the added page all zeros.
  const text = utf16("config field must be a number; ".repeat(40));
  const layouts: Array<[string, Array<{ offset: number; data: Uint8Array }>]> = [
    ["data ending right at the page boundary", [{ offset: 8, data: text }, { offset: 65536 - 16, data: text.subarray(0, 16) }]],
    ["data ending within 2 KB of the page end", [{ offset: 8, data: text }, { offset: 65536 - 2048 - text.length, data: text }]],
    ["no gap below the data (it starts at address 2)", [{ offset: 2, data: text }, { offset: 65536 - 1000 - text.length, data: text }]],
    ["one segment filling the page but its first two bytes", [{ offset: 2, data: pageOfText(65536 - 2) }]],
  ];
  for (const [name, segments] of layouts) {
    it(`packs a module with ${name}, in one added page`, () => {
      const plain = moduleWith(segments);
      const result = packData(plain);
      expect(result.packed).toBe(true);
      expect(result.reason).toBeUndefined();
      expect(result.addedPages).toBe(1);
      expect(readWasmLayout(result.binary).dataSegments).toEqual([result.packedBytes]);
      const expected = memoryAfterInitialize(plain).memory;
      const actual = memoryAfterInitialize(result.binary).memory;
      expect(actual.length).toBe(expected.length + 65536);
      expect(Buffer.from(actual.subarray(0, expected.length)).equals(Buffer.from(expected))).toBe(true);
      expect(actual.subarray(expected.length).every((b) => b === 0)).toBe(true);
    });
  }

  it("places the table past the slack, below the image, or in an added page, in that order", () => {
    const PAGE = 65536;
    // Room past the slack.
    expect(placeTable(4000, 10_000, 1)).toEqual({ tableAt: 10_000, addedPages: 0 });
    // Past the slack full, room below (two bytes clear of the image).
    expect(placeTable(4000, PAGE - 100, 1)).toEqual({ tableAt: 4000 - 2 - TABLE_BYTES, addedPages: 0 });
    // Neither: past the slack, one page more; also when the table would just fit below but for the two bytes.
    expect(placeTable(TABLE_BYTES + 1, PAGE - 100, 1)).toEqual({ tableAt: PAGE - 100, addedPages: 1 });
    expect(placeTable(8, PAGE, 1)).toEqual({ tableAt: PAGE, addedPages: 1 });
    expect(placeTable(8, PAGE - TABLE_BYTES, 1)).toEqual({ tableAt: PAGE - TABLE_BYTES, addedPages: 0 });
    // The slack itself past the initial memory: a page for it, the table below when it fits there.
    expect(placeTable(4000, PAGE + 3, 1)).toEqual({ tableAt: 4000 - 2 - TABLE_BYTES, addedPages: 1 });
  });

  it("leaves a module unpacked when its memory maximum forbids the added page, and says why", () => {
    const m = new binaryen.Module();
    let plain: Uint8Array;
    try {
      m.setMemory(1, 1, "memory", [{ offset: m.i32.const(8), data: text, passive: false }, { offset: m.i32.const(65536 - 16), data: text.subarray(0, 16), passive: false }]);
      m.addFunction("start", binaryen.none, binaryen.none, [], m.nop());
      m.addFunctionExport("start", "_initialize");
      plain = m.emitBinary();
    } finally {
      m.dispose();
    }
    const result = packData(plain);
    expect(result.packed).toBe(false);
    expect(result.reason).toMatch(/maximum of 1 pages/);
    expect(result.binary).toBe(plain);
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
  }, BUILD_TIMEOUT_MS);
});
