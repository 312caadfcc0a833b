/**
 * The compression format of the packed data image: a byte-oriented LZ77 made to be decoded by a
 * few dozen wasm instructions (see `unpack-function.ts`), with one twist for AssemblyScript's
 * static strings, which are UTF-16: a literal run can be "wide", storing only the low byte of each
 * 16-bit unit whose high byte is zero.
 *
 * The stream is a list of sequences, each:
 *   varint H           literal count L = H >>> 1; wide = H & 1
 *   L literal bytes    narrow: copied as is; wide: each byte b is written as b, 0
 *   (end of stream if the input ends here)
 *   varint M, varint D copy M bytes, one at a time, from D bytes behind the output (overlap allowed)
 * Varints are unsigned LEB128. The encoder picks the sequences by an optimal parse (shortest
 * encoding over the match candidates a hash chain finds), with the narrow/wide state in the cost.
 */

/** Shortest match the encoder emits. */
const MIN_MATCH = 3;
/** Longest hash chain walked per position: bounds build time, not the format. */
const MAX_CHAIN = 512;

function varintBytes(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value >>>= 7;
    n++;
  }
  return n;
}

function pushVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
}

/** Parse step into position i: how it was reached. */
const enum Via {
  Narrow = 0,
  Wide = 1,
  Match = 2,
}

/** Compresses `image` into the sequence format above. */
export function lzCompress(image: Uint8Array): Uint8Array {
  const n = image.length;
  // Candidate matches per position, from a hash chain over 3-byte prefixes.
  const head = new Map<number, number>();
  const prev = new Int32Array(n).fill(-1);
  const key = (i: number): number => image[i]! | (image[i + 1]! << 8) | (image[i + 2]! << 16);
  // cost[s][i]: fewest bytes to encode image[0, i) ending in state s (Narrow, Wide, Match).
  const INF = Number.MAX_SAFE_INTEGER;
  const cost = [new Float64Array(n + 1).fill(INF), new Float64Array(n + 1).fill(INF), new Float64Array(n + 1).fill(INF)];
  // Back pointers: previous state and the step's length (literal: 1 or 2 bytes; match: M) and D.
  const fromState = [new Int8Array(n + 1), new Int8Array(n + 1), new Int8Array(n + 1)];
  const stepLen = new Int32Array(n + 1);
  const stepDist = new Int32Array(n + 1);
  const stepLit = [new Int32Array(n + 1), new Int32Array(n + 1)];
  cost[Via.Match]![0] = 0;
  const relax = (state: Via, to: number, value: number, from: Via): boolean => {
    if (value < cost[state]![to]!) {
      cost[state]![to] = value;
      fromState[state]![to] = from;
      return true;
    }
    return false;
  };
  for (let i = 0; i < n; i++) {
    for (const s of [Via.Narrow, Via.Wide, Via.Match]) {
      const c = cost[s]![i]!;
      if (c === INF) continue;
      // A literal after a match opens a sequence (its header); switching narrow<->wide closes the
      // current one with an empty match (M = 0, D = 0) and opens another.
      const narrowCost = s === Via.Narrow ? 1 : s === Via.Match ? 2 : 4;
      if (relax(Via.Narrow, i + 1, c + narrowCost, s)) stepLit[0]![i + 1] = 1;
      if (i + 1 < n && image[i + 1] === 0) {
        const wideCost = s === Via.Wide ? 1 : s === Via.Match ? 2 : 4;
        if (relax(Via.Wide, i + 2, c + wideCost, s)) stepLit[1]![i + 2] = 2;
      }
    }
    const best = Math.min(cost[0]![i]!, cost[1]![i]!, cost[2]![i]!);
    if (i + MIN_MATCH <= n) {
      const k = key(i);
      let candidate = head.get(k) ?? -1;
      let longest = MIN_MATCH - 1;
      for (let chain = 0; candidate >= 0 && chain < MAX_CHAIN; chain++, candidate = prev[candidate]!) {
        let length = 0;
        while (i + length < n && image[candidate + length] === image[i + length]) length++;
        if (length <= longest) continue;
        const distance = i - candidate;
        // Every length this candidate newly reaches; long runs only at their ends (bounds work).
        for (let m = longest + 1; m <= length; m++) {
          if (m > 64 && m < length - 8) continue;
          for (const s of [Via.Narrow, Via.Wide, Via.Match]) {
            const c = cost[s]![i]!;
            if (c === INF || c > best + 4) continue;
            const header = s === Via.Match ? 1 : 0; // an empty literal run between two matches
            const value = c + header + varintBytes(m) + varintBytes(distance);
            if (value < cost[Via.Match]![i + m]!) {
              cost[Via.Match]![i + m] = value;
              fromState[Via.Match]![i + m] = s;
              stepLen[i + m] = m;
              stepDist[i + m] = distance;
            }
          }
        }
        longest = length;
        if (i + length === n) break;
      }
      prev[i] = head.get(k) ?? -1;
      head.set(k, i);
    }
  }
  // Walk back the cheapest parse into steps, then group the steps into sequences.
  type Step = { kind: Via; at: number; length: number; distance: number };
  const steps: Step[] = [];
  let state: Via = [Via.Narrow, Via.Wide, Via.Match].reduce((a, b) => (cost[b]![n]! < cost[a]![n]! ? b : a));
  for (let i = n; i > 0; ) {
    const from = fromState[state]![i]! as Via;
    const length = state === Via.Match ? stepLen[i]! : stepLit[state]![i]!;
    steps.push({ kind: state, at: i - length, length, distance: state === Via.Match ? stepDist[i]! : 0 });
    i -= length;
    state = from;
  }
  steps.reverse();
  const out: number[] = [];
  if (steps.length === 0) out.push(0); // the empty image: one empty sequence
  let s = 0;
  while (s < steps.length) {
    const kind = steps[s]!.kind;
    const literals: number[] = [];
    let wide = 0;
    if (kind !== Via.Match) {
      wide = kind === Via.Wide ? 1 : 0;
      while (s < steps.length && steps[s]!.kind === kind) {
        literals.push(image[steps[s]!.at]!);
        s++;
      }
    }
    pushVarint(out, (literals.length << 1) | wide);
    out.push(...literals);
    if (s === steps.length) break;
    const step = steps[s]!;
    if (step.kind === Via.Match) {
      pushVarint(out, step.length);
      pushVarint(out, step.distance);
      s++;
      if (s === steps.length) out.push(0); // an empty last sequence marks the end
    } else {
      pushVarint(out, 0);
      pushVarint(out, 0);
    }
  }
  return Uint8Array.from(out);
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
 * Throws on a stream that reads past its end or copies from before its start.
 */
export function lzDecompress(input: Uint8Array, outputLength: number): DecodeTrace {
  const output = new Uint8Array(outputLength);
  let src = 0;
  let dst = 0;
  // Output offset o written after k input bytes were read needs o < (N + slack - C) + k.
  let slack = 0;
  const write = (value: number): void => {
    if (dst >= outputLength) throw new Error("lz stream writes past the end of its image");
    slack = Math.max(slack, dst + 1 - outputLength + input.length - src);
    output[dst++] = value;
  };
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (src >= input.length) throw new Error("lz stream ends inside a varint");
      const b = input[src++]!;
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value >>> 0;
      shift += 7;
    }
  };
  for (;;) {
    const h = varint();
    const wide = (h & 1) === 1;
    for (let l = h >>> 1; l > 0; l--) {
      if (src >= input.length) throw new Error("lz stream ends inside a literal run");
      write(input[src++]!);
      if (wide) write(0);
    }
    if (src >= input.length) break;
    const m = varint();
    const d = varint();
    if (m > 0 && (d === 0 || d > dst)) throw new Error(`lz match distance ${d} at output ${dst} is out of range`);
    for (let l = 0; l < m; l++) write(output[dst - d]!);
  }
  if (dst !== outputLength) throw new Error(`lz stream decodes to ${dst} bytes, expected ${outputLength}`);
  return { output, inPlaceSlack: slack };
}
