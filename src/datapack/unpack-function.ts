/**
 * The decoder of the `lz-codec.ts` format, built as binaryen IR:
 *   (func $name (param $src i32) (param $dst i32) (param $end i32))
 * decodes the stream at src into [dst, end), reading input and writing output in one forward
 * pass, so it can decode in place when the stream sits at the end of the output (plus the codec's
 * slack). It reads the two bytes below dst (literal models), which must be zero. Two helpers (one coded bit, one number) and two globals (the rANS state and the stream
 * position) come with it. No bulk-memory instructions: plain loads, stores and loops.
 *
 * The probability table (`CONTEXTS` 16-bit entries) lives at `tableAt`, in memory that is zero
 * when the decoder starts: an entry holds P XOR 2048, so zeroed memory means P = 1/2 and the table
 * needs no setting up. The caller zeroes it again afterwards.
 */
import binaryen from "binaryen";
import { PROB_BITS, RATE, STATE_LOW } from "./bit-coder.js";
import { CONTEXTS, CTX_DISTANCE, CTX_LENGTH, CTX_LITERAL, CTX_MATCH, CTX_REPEAT, NUMBER_BITS } from "./lz-codec.js";

const ONE = 1 << PROB_BITS;
const HALF = ONE >> 1;

/** Bytes of the probability table the decoder needs at `tableAt` (zero before, zeroed after). */
export const TABLE_BYTES = CONTEXTS * 2;

/**
 * Adds the decoder to `module` as function `name` (helpers and globals named after it), with its
 * probability table at address `tableAt`, and returns its name.
 */
export function addUnpackFunction(module: binaryen.Module, name: string, tableAt: number): string {
  const m = module;
  const i32 = binaryen.i32;
  const get = (index: number): number => m.local.get(index, i32);
  const set = (index: number, value: number): number => m.local.set(index, value);
  const tee = (index: number, value: number): number => m.local.tee(index, value, i32);
  const c = (value: number): number => m.i32.const(value);
  const state = `${name}/state`;
  const src = `${name}/src`;
  const bit = `${name}/bit`;
  const number = `${name}/number`;
  m.addGlobal(state, i32, true, c(0));
  m.addGlobal(src, i32, true, c(0));
  const gState = (): number => m.global.get(state, i32);
  const gSrc = (): number => m.global.get(src, i32);

  // (func $bit (param $ctx) (result i32)): one decision in context ctx.
  {
    const CTX = 0;
    const P = 1;
    const S = 2;
    const BIT = 3;
    const Q = 4;
    m.addFunction(
      bit,
      i32,
      i32,
      [i32, i32, i32, i32],
      m.block(
        null,
        [
          // Renormalise: while X < 2^23, X = X << 8 | next byte.
          m.loop(
            "fill",
            m.if(
              m.i32.lt_u(gState(), c(STATE_LOW)),
              m.block(null, [
                m.global.set(state, m.i32.or(m.i32.shl(gState(), c(8)), m.i32.load8_u(0, 1, gSrc()))),
                m.global.set(src, m.i32.add(gSrc(), c(1))),
                m.br("fill"),
              ]),
            ),
          ),
          set(CTX, m.i32.shl(get(CTX), c(1))),
          set(P, m.i32.xor(m.i32.load16_u(tableAt, 1, get(CTX)), c(HALF))),
          set(Q, m.i32.shr_u(gState(), c(PROB_BITS))),
          set(BIT, m.i32.ge_u(tee(S, m.i32.and(gState(), c(ONE - 1))), get(P))),
          // bit 1: X = (4096 - P) * Q + S - P, P -= P >> 4;  bit 0: X = P * Q + S, P += (4096 - P) >> 4
          m.if(
            get(BIT),
            m.block(null, [
              m.global.set(state, m.i32.sub(m.i32.add(m.i32.mul(m.i32.sub(c(ONE), get(P)), get(Q)), get(S)), get(P))),
              set(P, m.i32.sub(get(P), m.i32.shr_u(get(P), c(RATE)))),
            ]),
            m.block(null, [
              m.global.set(state, m.i32.add(m.i32.mul(get(P), get(Q)), get(S))),
              set(P, m.i32.add(get(P), m.i32.shr_u(m.i32.sub(c(ONE), get(P)), c(RATE)))),
            ]),
          ),
          m.i32.store16(tableAt, 1, get(CTX), m.i32.xor(get(P), c(HALF))),
          get(BIT),
        ],
        i32,
      ),
    );
  }

  // (func $number (param $base) (result i32)): T ones and a zero, then T bits by weight.
  {
    const BASE = 0;
    const TOP = 1;
    const VALUE = 2;
    m.addFunction(
      number,
      i32,
      i32,
      [i32, i32],
      m.block(
        null,
        [
          m.loop("count", m.if(m.call(bit, [m.i32.add(get(BASE), get(TOP))], i32), m.block(null, [set(TOP, m.i32.add(get(TOP), c(1))), m.br("count")]))),
          set(VALUE, c(1)),
          m.loop(
            "bits",
            m.if(
              get(TOP),
              m.block(null, [
                set(TOP, m.i32.sub(get(TOP), c(1))),
                set(VALUE, m.i32.or(m.i32.shl(get(VALUE), c(1)), m.call(bit, [m.i32.add(get(BASE), m.i32.add(get(TOP), c(NUMBER_BITS)))], i32))),
                m.br("bits"),
              ]),
            ),
          ),
          get(VALUE),
        ],
        i32,
      ),
    );
  }

  const SRC = 0;
  const DST = 1;
  const END = 2;
  const AFTER = 3; // the last token was a match
  const DIST = 4;
  const COUNT = 5; // match length, then literal tree node
  const LITERAL = 6; // the literal model's first context
  const BEFORE2 = 7; // the output byte at dst - 2
  const parity = (): number => m.i32.and(get(DST), c(1));
  const before = (back: number): number => m.i32.load8_u(0, 1, m.i32.sub(get(DST), c(back)));
  // Literal set: at an odd address 3 - (B1 != 0 and B2 == 0), at an even one B2 >> 6 == 1.
  const literalSet = m.select(
    parity(),
    m.i32.sub(c(3), m.i32.and(m.i32.ne(before(1), c(0)), m.i32.eqz(tee(BEFORE2, before(2))))),
    m.i32.eq(m.i32.shr_u(get(BEFORE2), c(6)), c(1)),
  );
  const body = m.block("done", [
    set(AFTER, c(1)),
    m.global.set(src, get(SRC)),
    m.loop(
      "token",
      m.block(null, [
        m.br("done", m.i32.ge_u(get(DST), get(END))),
        m.if(
          m.call(bit, [m.i32.add(m.i32.shl(get(AFTER), c(1)), m.i32.add(parity(), c(CTX_MATCH)))], i32),
          m.block(null, [
            m.if(
              m.if(get(AFTER), c(1), m.i32.eqz(m.call(bit, [c(CTX_REPEAT)], i32))),
              set(DIST, m.call(number, [c(CTX_DISTANCE)], i32)),
            ),
            set(COUNT, m.i32.add(m.call(number, [c(CTX_LENGTH)], i32), c(1))),
            m.loop(
              "copy",
              m.block(null, [
                m.i32.store8(0, 1, get(DST), m.i32.load8_u(0, 1, m.i32.sub(get(DST), get(DIST)))),
                set(DST, m.i32.add(get(DST), c(1))),
                m.br("copy", tee(COUNT, m.i32.sub(get(COUNT), c(1)))),
              ]),
            ),
            set(AFTER, c(1)),
          ]),
          m.block(null, [
            set(COUNT, c(1)),
            set(LITERAL, m.i32.add(m.i32.shl(literalSet, c(8)), c(CTX_LITERAL))),
            m.loop(
              "literal",
              m.br(
                "literal",
                m.i32.lt_u(
                  tee(COUNT, m.i32.or(m.i32.shl(get(COUNT), c(1)), m.call(bit, [m.i32.add(get(LITERAL), get(COUNT))], i32))),
                  c(256),
                ),
              ),
            ),
            m.i32.store8(0, 1, get(DST), get(COUNT)),
            set(DST, m.i32.add(get(DST), c(1))),
            set(AFTER, c(0)),
          ]),
        ),
        m.br("token"),
      ]),
    ),
  ]);
  m.addFunction(name, binaryen.createType([i32, i32, i32]), binaryen.none, [i32, i32, i32, i32, i32], body);
  return name;
}
