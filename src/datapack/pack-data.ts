/**
 * Post-link step that stores a module's data compressed and restores it on start.
 *
 * AssemblyScript emits one active data segment per static string or array (about 1,900 for the
 * plugin, each with ~7 bytes of framing) and stores strings as UTF-16. This step joins all active
 * segments into one image (the gaps between them are zeros, as in fresh memory), compresses it
 * with `lz-codec.ts` and puts the compressed stream in ONE active segment placed at the END of
 * the image's own address range (plus the codec's in-place slack). A new `_initialize` first runs
 * the decoder (`unpack-function.ts`), which rewrites the image over its original addresses and
 * overwrites the stream as it goes, using a table of probabilities in memory that is zero and
 * unused at that point (`placeTable`: right past the slack, or else right below the image, or else
 * right past the slack in a page added to the initial memory); it then zeroes the slack and the
 * table and calls the original `_initialize`. Memory after start is byte for byte the memory of the
 * unpacked module: no copy of the stream is left for the heap to trip over, and memory keeps its
 * size unless a page had to be added (then the build log says so, and the check compares with the
 * unpacked module given the same initial memory). A module whose data starts below address 2 (the
 * decoder reads the two bytes below the image), would not shrink, or whose memory maximum leaves no
 * room for an added page, is left as it is.
 *
 * The step checks itself: it decodes the stream with the reference decoder, then instantiates the
 * packed and the unpacked module and compares their whole memory after `_initialize`; any
 * difference (including a length difference) throws.
 */
import binaryen from "binaryen";
import { lzCompress, lzDecompress } from "./lz-codec.js";
import { TABLE_BYTES, addUnpackFunction } from "./unpack-function.js";

/** Name of the exported start function that the step wraps. */
export const START_EXPORT = "_initialize";
const UNPACK = "~wayroute/datapack/unpack";
const START = "~wayroute/datapack/start";
const ZERO = "~wayroute/datapack/zero";
const PAGE = 65536;
/** Bytes below the image that the decoder reads (as zeros, since no segment is there). */
const BELOW_IMAGE = 2;

/** What the step did, for the build log and `npm run size`. */
export interface DataPackResult {
  /** The packed module (or the input unchanged when it was not packed, see `reason`). */
  binary: Uint8Array;
  packed: boolean;
  /** Active data segments joined into the image. */
  segments: number;
  /** Address and length of the image (first segment start to last segment end). */
  imageStart: number;
  imageBytes: number;
  /** Length of the compressed stream (the one segment's payload). */
  packedBytes: number;
  /**
   * Pages added to the declared initial memory to make room for the stream's slack and the
   * decoder's table (0 unless the data ends too close to the end of its initial memory and there
   * is no room below it either).
   */
  addedPages: number;
  /** Why the data was left unpacked (when `packed` is false), for the build log. */
  reason?: string;
}

/** Thrown when the packed module does not restore memory exactly or does not fit. */
export class DataPackError extends Error {
  readonly code = "E_DATA_PACK";
  constructor(message: string) {
    super(message);
    this.name = "DataPackError";
  }
}

/** Data segment reads that binaryen.js has but its typings lack. */
interface DataSegmentReads {
  getNumDataSegments(): number;
  getDataSegmentInfo(segment: binaryen.DataSegmentRef): { offset: number | null; data: ArrayBuffer; passive: boolean };
}

interface Segment {
  offset: number;
  data: Uint8Array;
}

/** Packs the data of `binary` (a module exporting `_initialize` and one memory). */
export function packData(binary: Uint8Array): DataPackResult {
  const module = binaryen.readBinary(binary);
  try {
    const F = binaryen.Features;
    module.setFeatures(F.MVP | F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt);
    const segments: Segment[] = [];
    const reads = module as unknown as DataSegmentReads;
    const count = reads.getNumDataSegments();
    for (let i = 0; i < count; i++) {
      const info = reads.getDataSegmentInfo(module.getDataSegmentByIndex(i));
      if (info.passive || info.offset === null) throw new DataPackError(`data segment ${i} is passive: only active segments can be packed`);
      segments.push({ offset: info.offset, data: new Uint8Array(info.data) });
    }
    const unchanged = (reason: string, imageStart = 0, imageBytes = 0): DataPackResult => ({ binary, packed: false, segments: count, imageStart, imageBytes, packedBytes: imageBytes, addedPages: 0, reason });
    if (segments.length === 0) return unchanged("no active data segments");
    const start = Math.min(...segments.map((s) => s.offset));
    const end = Math.max(...segments.map((s) => s.offset + s.data.length));
    const image = new Uint8Array(end - start);
    for (const s of segments) image.set(s.data, s.offset - start);

    const stream = lzCompress(image, start);
    const { output, inPlaceSlack } = lzDecompress(stream, image.length, start);
    if (!equalBytes(output, image)) throw new DataPackError("the compressed data image does not decode to the image");
    const streamAt = end + inPlaceSlack - stream.length;
    // Not worth it (or the stream would start below the image, where nothing restores memory).
    if (streamAt < start || stream.length + 64 >= image.length) return unchanged(`${image.length} bytes would pack to ${stream.length}: not worth it`, start, image.length);

    const memoryExports = exportsOfKind(module, binaryen.ExternalMemory);
    if (memoryExports.length !== 1) throw new DataPackError(`expected one exported memory, found ${memoryExports.length}`);
    const memoryName = memoryExports[0]!.value;
    const memory = module.getMemoryInfo(memoryName);
    if (memory.module) throw new DataPackError("the memory is imported: its initial contents are not ours to pack");
    const initialize = module.getExport(START_EXPORT);
    if (!initialize) throw new DataPackError(`the module exports no ${START_EXPORT} to restore the data in`);
    // A start function would run before the data is restored, and could not be checked.
    if (module.getStart()) throw new DataPackError("the module has a start function: it would run before the data is restored");
    const originalStart = binaryen.getExportInfo(initialize).value;
    if (start < BELOW_IMAGE) return unchanged(`the data starts below address ${BELOW_IMAGE}`, start, image.length);
    const { tableAt, addedPages } = placeTable(start, end + inPlaceSlack, memory.initial);
    const pages = memory.initial + addedPages;
    if (memory.max !== undefined && pages > memory.max) {
      return unchanged(`no room for the stream's ${inPlaceSlack} bytes of slack and the decoder's ${TABLE_BYTES}-byte table within the memory's maximum of ${memory.max} pages`, start, image.length);
    }

    addUnpackFunction(module, UNPACK, tableAt);
    const m = module;
    // Zero what was scratch: in a fresh unpacked instance the slack and the table are zero.
    const zeroRanges = tableAt === end + inPlaceSlack ? [[end, tableAt + TABLE_BYTES]] : [[end, end + inPlaceSlack], [tableAt, tableAt + TABLE_BYTES]];
    m.addFunction(
      ZERO,
      binaryen.createType([binaryen.i32, binaryen.i32]),
      binaryen.none,
      [],
      m.loop(
        "zero",
        m.if(
          m.i32.lt_u(m.local.get(0, binaryen.i32), m.local.get(1, binaryen.i32)),
          m.block(null, [
            m.i32.store8(0, 1, m.local.get(0, binaryen.i32), m.i32.const(0)),
            m.local.set(0, m.i32.add(m.local.get(0, binaryen.i32), m.i32.const(1))),
            m.br("zero"),
          ]),
        ),
      ),
    );
    m.addFunction(
      START,
      binaryen.none,
      binaryen.none,
      [],
      m.block(null, [
        m.call(UNPACK, [m.i32.const(streamAt), m.i32.const(start), m.i32.const(end)], binaryen.none),
        ...zeroRanges.filter(([from, to]) => to! > from!).map(([from, to]) => m.call(ZERO, [m.i32.const(from!), m.i32.const(to!)], binaryen.none)),
        m.call(originalStart, [], binaryen.none),
      ]),
    );
    m.removeExport(START_EXPORT);
    m.addFunctionExport(START, START_EXPORT);
    m.removeExport(memoryExports[0]!.name);
    m.setMemory(
      pages,
      memory.max ?? -1,
      memoryExports[0]!.name,
      [{ offset: m.i32.const(streamAt), data: stream, passive: false }],
      memory.shared,
      memory.is64,
      memoryName,
    );
    if (!m.validate()) throw new DataPackError("the packed module does not validate");
    const packed = m.emitBinary();
    // With pages added, the unpacked module given the same initial memory is the reference (the
    // heap takes the memory's size as its end): every byte of the added page is checked too.
    verifyMemoryAfterStart(addedPages === 0 ? binary : withInitialPages(binary, segments, pages), packed);
    return { binary: packed, packed: true, segments: count, imageStart: start, imageBytes: image.length, packedBytes: stream.length, addedPages };
  } finally {
    module.dispose();
  }
}

/**
 * Where the decoder's table goes, given the image's first address and the end of the stream's
 * slack: in memory that is zero at instantiation and that nothing uses before the original
 * `_initialize` (which runs after the table is zeroed again). First choice, right past the slack
 * when the initial memory has room; else right below the image, clear of the two bytes below it
 * that the decoder reads as zeros (no segment lies below the first one); else right past the
 * slack anyway, in pages added to the initial memory: everything past the data (the heap, from
 * __heap_base on) is free until the first allocation, which the original `_initialize` makes.
 * Pages are also added when the slack alone does not fit in the initial memory.
 */
export function placeTable(imageStart: number, slackEnd: number, initialPages: number): { tableAt: number; addedPages: number } {
  const memoryEnd = initialPages * PAGE;
  const below = imageStart - BELOW_IMAGE - TABLE_BYTES;
  const tableAt = slackEnd + TABLE_BYTES <= memoryEnd || below < 0 ? slackEnd : below;
  const needed = Math.max(slackEnd, tableAt + TABLE_BYTES);
  return { tableAt, addedPages: needed > memoryEnd ? Math.ceil((needed - memoryEnd) / PAGE) : 0 };
}

/** `binary` with its initial memory raised to `pages` (its segments as they were). */
function withInitialPages(binary: Uint8Array, segments: Segment[], pages: number): Uint8Array {
  const module = binaryen.readBinary(binary);
  try {
    module.setFeatures(binaryen.Features.All);
    const memoryExport = exportsOfKind(module, binaryen.ExternalMemory)[0]!;
    const memory = module.getMemoryInfo(memoryExport.value);
    module.removeExport(memoryExport.name);
    const m = module;
    m.setMemory(pages, memory.max ?? -1, memoryExport.name, segments.map((s) => ({ offset: m.i32.const(s.offset), data: s.data, passive: false })), memory.shared, memory.is64, memoryExport.value);
    return m.emitBinary();
  } finally {
    module.dispose();
  }
}

function exportsOfKind(module: binaryen.Module, kind: number): binaryen.ExportInfo[] {
  const out: binaryen.ExportInfo[] = [];
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    if (info.kind === kind) out.push(info);
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Memory of `binary` right after `_initialize`, instantiated with imports that refuse to be
 * called (start code that needs the host cannot be checked this way, and says so).
 */
export function memoryAfterStart(binary: Uint8Array): Uint8Array {
  const compiled = new WebAssembly.Module(new Uint8Array(binary));
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const imp of WebAssembly.Module.imports(compiled)) {
    if (imp.kind !== "function") throw new DataPackError(`cannot check start-up: the module imports a ${imp.kind} (${imp.module}.${imp.name})`);
    (imports[imp.module] ??= {})[imp.name] = () => {
      throw new DataPackError(`cannot check start-up: ${START_EXPORT} called the host (${imp.module}.${imp.name})`);
    };
  }
  const instance = new WebAssembly.Instance(compiled, imports);
  (instance.exports[START_EXPORT] as () => void)();
  const memory = Object.values(instance.exports).find((e): e is WebAssembly.Memory => e instanceof WebAssembly.Memory);
  if (!memory) throw new DataPackError("the module exports no memory");
  return new Uint8Array(memory.buffer.slice(0));
}

/** Throws unless the two modules' memories are identical after `_initialize`. */
export function verifyMemoryAfterStart(plain: Uint8Array, packed: Uint8Array): void {
  const expected = memoryAfterStart(plain);
  const actual = memoryAfterStart(packed);
  if (expected.length !== actual.length) {
    throw new DataPackError(`packed module starts with ${actual.length} bytes of memory, the unpacked one with ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== actual[i]) {
      throw new DataPackError(`packed module's memory differs from the unpacked one's after ${START_EXPORT} at byte ${i} (${actual[i]} != ${expected[i]})`);
    }
  }
}
