/** A small seeded PRNG (mulberry32) so every policy sees the same request sequence. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Exponentially distributed with the given mean (Poisson inter-arrival times). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}

const SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "pe", "da", "go", "hu", "ji", "be", "fa", "zo"];

/** About `tokens` tokens of filler text (4 characters per token: a 3-letter word and a space). */
export function fillerText(rng: Rng, tokens: number): string {
  let s = "";
  for (let i = 0; i < tokens; i++) s += SYLLABLES[rng.int(16)]! + SYLLABLES[rng.int(16)]!.charAt(0) + " ";
  return s;
}
