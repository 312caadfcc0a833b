/**
 * The entropy coder of the packed data: binary decisions coded with rANS against adaptive
 * probabilities, chosen because its decoder is a dozen wasm instructions (`unpack-function.ts`).
 *
 * Each decision names a context; a context holds P, the probability (in 1/4096) that its next bit
 * is 0, starting at 1/2 and moving 1/16 of the way towards each bit seen:
 *   bit 0: P += (4096 - P) >> 4      bit 1: P -= P >> 4
 * so P stays within [15, 4081] and no bit ever costs nothing or everything.
 *
 * Decoding a bit with state X (32 bits; before the first bit X = 0):
 *   while X < 2^23: X = X << 8 | next stream byte
 *   S = X & 4095; bit = S >= P
 *   bit 0: X = P * (X >> 12) + S;  bit 1: X = (4096 - P) * (X >> 12) + S - P
 * The first bit reads the encoder's final state (4 bytes, most significant first); after the last
 * bit X is 2^23 again. The encoder runs the bits in reverse and emits the bytes in reverse.
 */

/** Probability scale: P is in 1/4096. */
export const PROB_BITS = 12;
const ONE = 1 << PROB_BITS;
/** Adaptation rate: P moves 1/2^RATE of the way towards the bit seen. */
export const RATE = 4;
/** Lower bound of the decoder state. */
export const STATE_LOW = 1 << 23;
/** A context's starting probability (1/2). */
export const PROB_START = ONE >> 1;

/** P after coding `bit` in a context at P. */
export function adapt(p: number, bit: number): number {
  return bit ? p - (p >> RATE) : p + ((ONE - p) >> RATE);
}

/** Code length of `bit` at probability P, in bits (for the encoder's parse). */
export function bitCost(p: number, bit: number): number {
  return -Math.log2((bit ? ONE - p : p) / ONE);
}

/**
 * Records decisions in order, then encodes them. `contexts` is the number of contexts; every
 * decision's context must be below it.
 */
export class BitEncoder {
  private readonly probs: Uint16Array;
  private readonly decisions: number[] = [];

  constructor(contexts: number) {
    this.probs = new Uint16Array(contexts).fill(PROB_START);
  }

  /** Codes `bit` (0 or 1) in context `ctx`. */
  bit(ctx: number, bit: number): void {
    const p = this.probs[ctx]!;
    // Remembered as P (12 bits) and the bit, since encoding runs backwards.
    this.decisions.push((p << 1) | bit);
    this.probs[ctx] = adapt(p, bit);
  }

  /** The stream: the final state, then the renormalisation bytes in decoding order. */
  finish(): Uint8Array {
    const reversed: number[] = [];
    let x = STATE_LOW;
    for (let i = this.decisions.length - 1; i >= 0; i--) {
      const d = this.decisions[i]!;
      const p = d >>> 1;
      const bit = d & 1;
      const freq = bit ? ONE - p : p;
      const start = bit ? p : 0;
      // Keep X below 2^31 after coding: the decoder's state stays a non-negative i32.
      const max = (STATE_LOW >>> PROB_BITS) * 256 * freq;
      while (x >= max) {
        reversed.push(x & 0xff);
        x = Math.floor(x / 256);
      }
      x = Math.floor(x / freq) * ONE + (x % freq) + start;
    }
    for (let k = 0; k < 4; k++) {
      reversed.push(x & 0xff);
      x = Math.floor(x / 256);
    }
    return Uint8Array.from(reversed.reverse());
  }
}

/** Reads decisions back from a stream (the reference of the wasm decoder). */
export class BitDecoder {
  private readonly probs: Uint16Array;
  private x = 0;
  /** Stream bytes read so far. */
  read = 0;

  constructor(
    private readonly stream: Uint8Array,
    contexts: number,
  ) {
    this.probs = new Uint16Array(contexts).fill(PROB_START);
  }

  bit(ctx: number): number {
    while (this.x < STATE_LOW) {
      if (this.read >= this.stream.length) throw new Error("stream ends inside the coder state");
      this.x = this.x * 256 + this.stream[this.read++]!;
    }
    const p = this.probs[ctx]!;
    const s = this.x % ONE;
    const q = Math.floor(this.x / ONE);
    const bit = s >= p ? 1 : 0;
    this.x = bit ? (ONE - p) * q + s - p : p * q + s;
    this.probs[ctx] = adapt(p, bit);
    return bit;
  }
}
