/**
 * The reference for hostile request bodies (docs/rewriting.md, "Hostile input: the contract"),
 * written in TypeScript independently of the plugin's scanner:
 * - what a body means: `JSON.parse` after a FATAL UTF-8 decode (BOM kept, so refused);
 * - which model routes (the last top-level `model` member) and whether a header may carry it;
 * - where every top-level `model` value sits in the bytes, for the rewrite oracle.
 */

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export interface BodyMeaning {
  /** Valid UTF-8, valid JSON, and the top level is an object. */
  ok: boolean;
  /** The routing model: the last top-level `model` member when it is a string, else null. */
  model: string | null;
  /** `model` is a string a header may carry as sent (headerSafeModel). */
  safe: boolean;
}

/** No control character (U+0000-U+001F, U+007F) and no lone surrogate. */
export function headerSafeModel(m: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(m) && (m as unknown as { isWellFormed(): boolean }).isWellFormed();
}

export function meaning(bytes: Uint8Array): BodyMeaning {
  let doc: unknown;
  try {
    doc = JSON.parse(fatal.decode(bytes));
  } catch {
    return { ok: false, model: null, safe: false };
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return { ok: false, model: null, safe: false };
  const m = (doc as Record<string, unknown>).model;
  const model = Object.prototype.hasOwnProperty.call(doc, "model") && typeof m === "string" ? m : null;
  return { ok: true, model, safe: model !== null && headerSafeModel(model) };
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Offset just past the JSON string whose opening quote is at `p`. */
function stringEnd(b: Uint8Array, p: number): number {
  let i = p + 1;
  while (b[i] !== 0x22) i += b[i] === 0x5c ? 2 : 1;
  return i + 1;
}

/** Offset just past the JSON value starting at `p` (iterative: any depth). */
function valueEnd(b: Uint8Array, p: number): number {
  const c = b[p];
  if (c === 0x22) return stringEnd(b, p);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let i = p;
    for (;;) {
      const x = b[i];
      if (x === 0x22) {
        i = stringEnd(b, i);
        continue;
      }
      if (x === 0x7b || x === 0x5b) depth++;
      else if (x === 0x7d || x === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
  }
  let i = p;
  while (i < b.length && !WS.has(b[i]!) && b[i] !== 0x2c && b[i] !== 0x7d) i++;
  return i;
}

/**
 * Value spans [start, end) of every top-level member whose key decodes to `model`, in body
 * order. Only for bodies `meaning` accepted.
 */
export function topLevelModelSpans(b: Uint8Array): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let i = 0;
  const skipWs = () => {
    while (WS.has(b[i]!)) i++;
  };
  skipWs();
  i++; // {
  skipWs();
  if (b[i] === 0x7d) return spans;
  for (;;) {
    skipWs();
    const kEnd = stringEnd(b, i);
    const key = JSON.parse(fatal.decode(b.subarray(i, kEnd))) as string;
    i = kEnd;
    skipWs();
    i++; // :
    skipWs();
    const vEnd = valueEnd(b, i);
    if (key === "model") spans.push([i, vEnd]);
    i = vEnd;
    skipWs();
    if (b[i] === 0x7d) return spans;
    i++; // ,
  }
}

/** The rewrite oracle: `b` with every span replaced by `literal`, nothing else changed. */
export function replaceSpans(b: Uint8Array, spans: Array<[number, number]>, literal: string): Uint8Array {
  const lit = encoder.encode(literal);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [s, e] of spans) {
    parts.push(b.subarray(at, s), lit);
    at = e;
  }
  parts.push(b.subarray(at));
  return Buffer.concat(parts);
}
