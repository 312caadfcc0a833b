/**
 * The decoder of the `lz-codec.ts` format, built as a binaryen IR function:
 *   (func $name (param $src i32) (param $end i32) (param $dst i32))
 * decodes the stream at [src, end) to dst, reading input and writing output in one pass, so it
 * can decode in place when the stream sits at the end of the output (plus the codec's slack).
 * No bulk-memory instructions: plain loads, stores and loops, valid on every wasm engine.
 */
import binaryen from "binaryen";

const SRC = 0;
const END = 1;
const DST = 2;
const COUNT = 3; // literal count, then match length
const WIDE = 4;
const DIST = 5;
const VALUE = 6; // varint being read
const SHIFT = 7;
const BYTE = 8;

/** Adds the decoder to `module` as function `name` and returns its name. */
export function addUnpackFunction(module: binaryen.Module, name: string): string {
  const m = module;
  const i32 = binaryen.i32;
  const get = (index: number): number => m.local.get(index, i32);
  const set = (index: number, value: number): number => m.local.set(index, value);
  const inc = (index: number, by = 1): number => set(index, m.i32.add(get(index), m.i32.const(by)));
  let labels = 0;
  // Reads one unsigned LEB128 at src into `target`.
  const varint = (target: number): number => {
    const loop = `varint${labels++}`;
    return m.block(null, [
      set(VALUE, m.i32.const(0)),
      set(SHIFT, m.i32.const(0)),
      m.loop(
        loop,
        m.block(null, [
          set(BYTE, m.i32.load8_u(0, 1, get(SRC))),
          inc(SRC),
          set(VALUE, m.i32.or(get(VALUE), m.i32.shl(m.i32.and(get(BYTE), m.i32.const(0x7f)), get(SHIFT)))),
          inc(SHIFT, 7),
          m.br(loop, m.i32.and(get(BYTE), m.i32.const(0x80))),
        ]),
      ),
      set(target, get(VALUE)),
    ]);
  };
  // Runs `body` COUNT times, counting COUNT down to zero.
  const repeat = (label: string, body: number[]): number =>
    m.block(`${label}_done`, [
      m.loop(
        label,
        m.block(null, [
          m.br(`${label}_done`, m.i32.eqz(get(COUNT))),
          ...body,
          set(COUNT, m.i32.sub(get(COUNT), m.i32.const(1))),
          m.br(label),
        ]),
      ),
    ]);
  const storeDst = (value: number): number => m.block(null, [m.i32.store8(0, 1, get(DST), value), inc(DST)]);
  const body = m.loop(
    "sequence",
    m.block(null, [
      varint(COUNT),
      set(WIDE, m.i32.and(get(COUNT), m.i32.const(1))),
      set(COUNT, m.i32.shr_u(get(COUNT), m.i32.const(1))),
      repeat("literal", [
        storeDst(m.i32.load8_u(0, 1, get(SRC))),
        inc(SRC),
        m.if(get(WIDE), storeDst(m.i32.const(0))),
      ]),
      m.if(
        m.i32.lt_u(get(SRC), get(END)),
        m.block(null, [
          varint(COUNT),
          varint(DIST),
          repeat("match", [storeDst(m.i32.load8_u(0, 1, m.i32.sub(get(DST), get(DIST))))]),
          m.br("sequence"),
        ]),
      ),
    ]),
  );
  m.addFunction(name, binaryen.createType([i32, i32, i32]), binaryen.none, [i32, i32, i32, i32, i32, i32], body);
  return name;
}
