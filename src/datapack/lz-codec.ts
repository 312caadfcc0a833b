/**
 * The compression format of the packed data image: LZ77 whose every decision is one bit coded by
 * `bit-coder.ts` (adaptive binary rANS), in the manner of LZMA with fewer models, so that the
 * decoder stays a few hundred bytes of wasm (`unpack-function.ts`). The models know one thing
 * about AssemblyScript's static data: it is mostly UTF-16, so a literal's model depends on its
 * address parity and on the two bytes before it: the high byte of a unit whose low byte is not
 * zero and whose previous high byte is zero (ASCII text) is nearly always zero and then costs a
 * small fraction of a bit, and the low byte after a letter has its own model.
 *
 * The image is a list of tokens, decoded until the output has the image's length. With O the
 * output address (the image's models depend on where it is restored, by parity), B1 and B2 the
 * output bytes at O - 1 and O - 2 (0 below the image: the decoder reads the two bytes below it,
 * which must be zero), and A = 1 if the last token was a match (also before the first token):
 *   match flag        bit in context MATCH + 2A + (O & 1)
 *   literal (flag 0)  literal set L: at an even O, 1 if B2 >> 6 = 1 (a letter) else 0; at an odd
 *                     O, 2 if B1 != 0 and B2 = 0 (ASCII text) else 3;
 *                     8 bits, most significant first, as a binary tree: C = 1, then 8 times
 *                     C = 2C + bit in context LITERAL + 256 L + C; the byte is C - 256
 *   match (flag 1)    if A = 0, a bit in context REPEAT (1: reuse the last match's distance);
 *                     unless reused, the distance D >= 1 as a number in DISTANCE; then the length
 *                     minus one, M - 1 >= 1, as a number in LENGTH; copy M bytes from D back
 *                     (overlap allowed)
 * A number N >= 1 with T bits below its leading 1: T ones then a zero, the k-th in context
 * base + k; then those T bits, most significant first, the bit of weight 2^i in context
 * base + 33 + i (bits of one weight share a model: distances are mostly even, often multiples
 * of 16, like the objects AssemblyScript lays out).
 *
 * There is no stored fallback: adaptive probabilities bound what incompressible bytes cost
 * (about 8 bits each plus the match flag), and the caller keeps data unpacked when packing does
 * not pay. The encoder picks the tokens by an optimal parse priced with the bit statistics of its
 * previous pass (a few passes, the best kept); the reused distance follows the cheapest path into
 * each position.
 */
import { BitDecoder, BitEncoder } from "./bit-coder.js";

/** Context layout: indices into the decoder's table of probabilities. */
export const CTX_MATCH = 0;
export const CTX_REPEAT = 4;
/** Per number model: 33 for the count of bits (0..32), 32 for the bits by weight. */
export const NUMBER_CONTEXTS = 65;
/** Offset of the by-weight bit models within a number model. */
export const NUMBER_BITS = 33;
export const CTX_LENGTH = 5;
export const CTX_DISTANCE = CTX_LENGTH + NUMBER_CONTEXTS;
export const CTX_LITERAL = CTX_DISTANCE + NUMBER_CONTEXTS;
/**
 * Literal models: 2 for even addresses, 2 for odd ones (more would compress a little better, but
 * the table must fit in the free memory past the image).
 */
export const LITERAL_SETS = 4;
/** Contexts in all: the decoder's table holds this many 16-bit probabilities. */
export const CONTEXTS = CTX_LITERAL + 256 * LITERAL_SETS;

/** The literal model for the byte at `at`, from the bytes before it (see the format above). */
function literalSet(bytes: Uint8Array, at: number, odd: number): number {
  const b1 = at >= 1 ? bytes[at - 1]! : 0;
  const b2 = at >= 2 ? bytes[at - 2]! : 0;
  return (at + odd) & 1 ? (b1 !== 0 && b2 === 0 ? 2 : 3) : b2 >> 6 === 1 ? 1 : 0;
}

/** Shortest match the format codes (M - 1 >= 1). */
const MIN_MATCH = 2;
/** Shortest match the hash chain looks for (a reused distance can be shorter). */
const HASH_MATCH = 3;
/**
 * Longest hash chain walked per position: bounds build time, not the format. Long, because the
 * cheapest distance is often far back (a multiple of 16 costs less than a nearer odd one), and
 * the walk is cheap: a candidate that cannot beat the longest match so far is skipped in O(1).
 */
const MAX_CHAIN = 8192;
/** Longest match the parser offers (the format has no limit): bounds build time on long runs. */
const MAX_MATCH = 1024;
/** Parse passes, each priced by the previous one's statistics. */
const PASSES = 4;

interface Token {
  /** 0 for a literal. */
  length: number;
  distance: number;
}

/** Takes coded decisions: the encoder, or the statistics that price the next pass. */
interface BitSink {
  bit(ctx: number, bit: number): void;
}

function codeNumber(sink: BitSink, base: number, n: number): void {
  const top = 31 - Math.clz32(n);
  for (let k = 0; k < top; k++) sink.bit(base + k, 1);
  sink.bit(base + top, 0);
  for (let i = top - 1; i >= 0; i--) sink.bit(base + NUMBER_BITS + i, (n >>> i) & 1);
}

function codeTokens(sink: BitSink, image: Uint8Array, tokens: Token[], odd: number): void {
  let at = 0;
  let afterMatch = 1;
  let last = 0;
  for (const t of tokens) {
    sink.bit(CTX_MATCH + 2 * afterMatch + ((at + odd) & 1), t.length ? 1 : 0);
    if (t.length === 0) {
      const byte = image[at]!;
      const base = CTX_LITERAL + 256 * literalSet(image, at, odd);
      let c = 1;
      for (let i = 7; i >= 0; i--) {
        const bit = (byte >>> i) & 1;
        sink.bit(base + c, bit);
        c = 2 * c + bit;
      }
      at++;
      afterMatch = 0;
      continue;
    }
    const repeat = afterMatch === 0 && t.distance === last;
    if (afterMatch === 0) sink.bit(CTX_REPEAT, repeat ? 1 : 0);
    if (!repeat) codeNumber(sink, CTX_DISTANCE, t.distance);
    codeNumber(sink, CTX_LENGTH, t.length - 1);
    last = t.distance;
    at += t.length;
    afterMatch = 1;
  }
}

/** Static prices (bits) per context and bit, from one pass's decisions. */
class Prices implements BitSink {
  private readonly counts = new Float64Array(2 * CONTEXTS).fill(0.4);
  private readonly price = new Float64Array(2 * CONTEXTS).fill(1);

  bit(ctx: number, bit: number): void {
    this.counts[2 * ctx + bit]!++;
  }
  /** Turns the counts into prices. */
  settle(): this {
    for (let c = 0; c < CONTEXTS; c++) {
      const zero = this.counts[2 * c]!;
      const one = this.counts[2 * c + 1]!;
      this.price[2 * c] = -Math.log2(zero / (zero + one));
      this.price[2 * c + 1] = -Math.log2(one / (zero + one));
    }
    return this;
  }
  of(ctx: number, bit: number): number {
    return this.price[2 * ctx + bit]!;
  }
  number(base: number, n: number): number {
    let cost = 0;
    codeNumber({ bit: (c, b) => (cost += this.of(c, b)) }, base, n);
    return cost;
  }
}

/** Match lengths the parse offers: all up to 64, then only the last few (bounds work on runs). */
function nextLength(m: number, length: number): number {
  return m >= 64 && m < length - 8 ? length - 8 : m + 1;
}

/** Cheapest tokens for `image` at the given prices. */
function parse(image: Uint8Array, prices: Prices, odd: number): Token[] {
  const n = image.length;
  const literalPrice = Array.from({ length: LITERAL_SETS }, () => new Float64Array(256));
  for (let set = 0; set < LITERAL_SETS; set++) {
    for (let byte = 0; byte < 256; byte++) {
      let c = 1;
      let cost = 0;
      for (let i = 7; i >= 0; i--) {
        const bit = (byte >>> i) & 1;
        cost += prices.of(CTX_LITERAL + 256 * set + c, bit);
        c = 2 * c + bit;
      }
      literalPrice[set]![byte] = cost;
    }
  }
  const lengthPrice = new Float64Array(n + 1);
  for (let m = MIN_MATCH; m <= n; m++) lengthPrice[m] = prices.number(CTX_LENGTH, m - 1);
  // Per state (0: the last token was a literal, 1: a match) and position: the cheapest cost, the
  // step that reached it, and the last match distance on that path.
  const INF = Number.POSITIVE_INFINITY;
  const cost = [new Float64Array(n + 1).fill(INF), new Float64Array(n + 1).fill(INF)];
  const fromState = [new Int8Array(n + 1), new Int8Array(n + 1)];
  const stepLength = [new Int32Array(n + 1), new Int32Array(n + 1)];
  const stepDistance = [new Int32Array(n + 1), new Int32Array(n + 1)];
  const lastDistance = [new Int32Array(n + 1), new Int32Array(n + 1)];
  cost[1]![0] = 0; // before the first token the state is "after a match" (nothing to reuse)
  const relax = (s: number, to: number, value: number, from: number, length: number, distance: number, last: number): void => {
    if (value < cost[s]![to]!) {
      cost[s]![to] = value;
      fromState[s]![to] = from;
      stepLength[s]![to] = length;
      stepDistance[s]![to] = distance;
      lastDistance[s]![to] = last;
    }
  };
  const head = new Map<number, number>();
  const prev = new Int32Array(n).fill(-1);
  const key = (i: number): number => image[i]! | (image[i + 1]! << 8) | (image[i + 2]! << 16);
  const matchLength = (i: number, distance: number): number => {
    let length = 0;
    while (i + length < n && length < MAX_MATCH && image[i + length - distance] === image[i + length]) length++;
    return length;
  };
  const distancePrices = new Float64Array(n + 1).fill(-1);
  const distancePrice = (d: number): number => {
    if (distancePrices[d]! < 0) distancePrices[d] = prices.number(CTX_DISTANCE, d);
    return distancePrices[d]!;
  };
  // Offers the match of `distance` at i with lengths [from, to], after either kind of token.
  const offer = (i: number, distance: number, from: number, to: number): void => {
    const parity = (i + odd) & 1;
    for (let s = 0; s < 2; s++) {
      const c = cost[s]![i]!;
      if (c === INF) continue;
      const repeat = s === 0 && distance === lastDistance[s]![i]!;
      const head = c + prices.of(CTX_MATCH + 2 * s + parity, 1) + (s === 0 ? prices.of(CTX_REPEAT, repeat ? 1 : 0) : 0);
      const base = head + (repeat ? 0 : distancePrice(distance));
      for (let m = from; m <= to; m = nextLength(m, to)) relax(1, i + m, base + lengthPrice[m]!, s, m, distance, distance);
    }
  };
  // A run (a match longer than MAX_MATCH) found at some position: every position inside it, up to
  // MAX_MATCH before its end, offers that match at MAX_MATCH without searching.
  let runDistance = 0;
  let runEnd = 0;
  for (let i = 0; i < n; i++) {
    const parity = (i + odd) & 1;
    for (let s = 0; s < 2; s++) {
      const c = cost[s]![i]!;
      if (c !== INF) relax(0, i + 1, c + prices.of(CTX_MATCH + 2 * s + parity, 0) + literalPrice[literalSet(image, i, odd)]![image[i]!]!, s, 0, 0, lastDistance[s]![i]!);
    }
    const k = i + HASH_MATCH <= n ? key(i) : -1;
    if (i + MAX_MATCH < runEnd) {
      offer(i, runDistance, MIN_MATCH, MAX_MATCH);
    } else {
      // The last distance of the path after a literal.
      const last = lastDistance[0]![i]!;
      if (cost[0]![i]! !== INF && last > 0 && last <= i) offer(i, last, MIN_MATCH, matchLength(i, last));
      let candidate = k < 0 ? -1 : (head.get(k) ?? -1);
      let longest = MIN_MATCH - 1;
      for (let chain = 0; candidate >= 0 && chain < MAX_CHAIN; chain++, candidate = prev[candidate]!) {
        // A candidate can only offer more if it also matches at the longest length so far.
        if (image[candidate + longest] !== image[i + longest]) continue;
        const distance = i - candidate;
        const length = matchLength(i, distance);
        if (length <= longest) continue;
        // Every length this candidate newly reaches (a nearer candidate already offered the rest).
        offer(i, distance, longest + 1, length);
        longest = length;
        if (length === MAX_MATCH) {
          runDistance = distance;
          for (runEnd = i + length; runEnd < n && image[runEnd - distance] === image[runEnd]; ) runEnd++;
        }
        if (i + length === n || length === MAX_MATCH) break;
      }
    }
    if (k >= 0) {
      prev[i] = head.get(k) ?? -1;
      head.set(k, i);
    }
  }
  const tokens: Token[] = [];
  let s = cost[0]![n]! <= cost[1]![n]! ? 0 : 1;
  for (let i = n; i > 0; ) {
    const length = stepLength[s]![i]!;
    tokens.push({ length, distance: stepDistance[s]![i]! });
    const from = fromState[s]![i]!;
    i -= length === 0 ? 1 : length;
    s = from;
  }
  return tokens.reverse();
}

/**
 * Compresses `image`, to be restored at `address` (only its parity matters), into the token
 * format above. Any bytes, also none.
 */
export function lzCompress(image: Uint8Array, address = 0): Uint8Array {
  const odd = address & 1;
  let best: Uint8Array | null = null;
  let prices = new Prices().settle(); // first pass: every bit costs 1
  for (let pass = 0; pass < PASSES; pass++) {
    const tokens = parse(image, prices, odd);
    const encoder = new BitEncoder(CONTEXTS);
    codeTokens(encoder, image, tokens, odd);
    const stream = encoder.finish();
    if (best === null || stream.length < best.length) best = stream;
    prices = new Prices();
    codeTokens(prices, image, tokens, odd);
    prices.settle();
  }
  return best!;
}

/** The effect of decoding: every byte written, and how many input bytes were read by then. */
export interface DecodeTrace {
  output: Uint8Array;
  /**
   * Bytes of slack needed to decode in place: with the compressed stream placed to end `slack`
   * bytes past the end of the output, no write lands on an input byte not yet read.
   */
  inPlaceSlack: number;
}

/**
 * Reference decoder of the format (the build checks the wasm decoder against the image too).
 * Throws on a stream that reads past its end, copies from before its start or overshoots.
 */
export function lzDecompress(input: Uint8Array, outputLength: number, address = 0): DecodeTrace {
  const odd = address & 1;
  const output = new Uint8Array(outputLength);
  const bits = new BitDecoder(input, CONTEXTS);
  let dst = 0;
  // Output offset o written after k input bytes were read needs o < (N + slack - C) + k.
  let slack = 0;
  const write = (value: number): void => {
    if (dst >= outputLength) throw new Error("stream writes past the end of its image");
    slack = Math.max(slack, dst + 1 - outputLength + input.length - bits.read);
    output[dst++] = value;
  };
  const number = (base: number): number => {
    let top = 0;
    while (bits.bit(base + top)) {
      if (++top > 31) throw new Error("number longer than 32 bits");
    }
    let value = 1;
    for (let i = top - 1; i >= 0; i--) value = 2 * value + bits.bit(base + NUMBER_BITS + i);
    return value >>> 0;
  };
  let afterMatch = 1;
  let distance = 0;
  while (dst < outputLength) {
    if (bits.bit(CTX_MATCH + 2 * afterMatch + ((dst + odd) & 1))) {
      if (afterMatch || !bits.bit(CTX_REPEAT)) distance = number(CTX_DISTANCE);
      const length = number(CTX_LENGTH) + 1;
      if (distance === 0 || distance > dst) throw new Error(`match distance ${distance} at output ${dst} is out of range`);
      for (let l = 0; l < length; l++) write(output[dst - distance]!);
      afterMatch = 1;
    } else {
      let c = 1;
      const base = CTX_LITERAL + 256 * literalSet(output, dst, odd);
      while (c < 256) c = 2 * c + bits.bit(base + c);
      write(c - 256);
      afterMatch = 0;
    }
  }
  return { output, inPlaceSlack: slack };
}
