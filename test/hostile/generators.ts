/**
 * fast-check generators of hostile request bodies, one per class of docs/rewriting.md's
 * contract: valid chat bodies, escapes in keys and values (control characters and lone
 * surrogates included), duplicate top-level keys, deep nesting, invalid UTF-8 at random
 * offsets, truncation. Each yields bytes; the oracle (oracle.ts) says what they mean.
 */
import fc from "fast-check";

const enc = new TextEncoder();

/** JSON whitespace runs. */
const ws = fc.constantFrom("", "", " ", "\n", "\t", "\r\n ", "  ");

/** Text a model name may be made of: ordinary names, and the characters that matter here. */
const modelChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-/._:".split("")) },
  { weight: 1, arbitrary: fc.constantFrom("é", "日", "😀", "\u0080", "\u00a0", "\u2028", "\ufeff", "\ufffd") },
  { weight: 1, arbitrary: fc.constantFrom('"', "\\", "/", " ") },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom("\u007f", "\ud800", "\udbff", "\udc00", "\udfff") },
);

export const modelName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("llama-3", "meta-llama/Llama-3.1-8B-Instruct", "food-review", "qwen/Qwen3-32B") },
  { weight: 4, arbitrary: fc.array(modelChar, { minLength: 1, maxLength: 12 }).map((a) => a.join("")) },
  { weight: 1, arbitrary: fc.constant("") },
);

/** One UTF-16 unit as `\uXXXX`, hex case chosen by `upper`. */
function u(c: number, upper: boolean): string {
  const h = c.toString(16).padStart(4, "0");
  return "\\u" + (upper ? h.toUpperCase() : h);
}

const SHORT: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "/": "\\/" };

/**
 * `s` as a JSON string literal, each UTF-16 unit written raw, as a short escape or as `\uXXXX`
 * by the choice bits in `choices` (cycled). Units JSON cannot carry raw (quote, backslash,
 * control characters, lone surrogates: UTF-8 cannot encode them) are always escaped.
 */
export function jsonString(s: string, choices: number[]): string {
  let out = '"';
  let k = 0;
  const pick = () => (choices.length ? choices[k++ % choices.length]! : 0);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const hi = c >= 0xd800 && c <= 0xdbff;
    const pair = hi && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    const lone = c >= 0xd800 && c <= 0xdfff && !pair;
    const ch = s[i]!;
    const mustEscape = ch === '"' || ch === "\\" || c < 0x20 || lone;
    const choice = pick() % 3;
    if (pair) {
      if (choice === 2) out += u(c, true) + u(s.charCodeAt(i + 1), false);
      else out += s.slice(i, i + 2);
      i++;
      continue;
    }
    if (mustEscape || choice === 2) {
      if (SHORT[ch] && choice !== 2) out += SHORT[ch];
      else out += u(c, choice === 1);
    } else if (choice === 1 && SHORT[ch]) {
      out += SHORT[ch];
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/** Keys that must never count as `model`, and spellings that must. */
const decoyKey = fc.constantFrom("Model", "MODEL", "model ", " model", "model\u0000", "mode", "models", "modeł", "model\ud800", "m\u006fdel\u200b", "stream", "messages");

const choices = fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 8 });

/** A JSON value with no `model` member at the top (filler), as text. */
const filler = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null");

const nestedModel = fc.tuple(modelName, choices).map(([m, c]) => `{"model":${jsonString(m, c)},"role":"user","content":"x"}`);

/** A top-level member: [key literal, value text]. */
type Member = [string, string];

const modelValue = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(modelName, choices).map(([m, c]) => jsonString(m, c)) },
  { weight: 1, arbitrary: fc.constantFrom("null", "5", "true", "[]", '{"model":"inner"}', '["a"]') },
);

const streamValue = fc.constantFrom("true", "false", '"true"', "1", "0", "null", "[true]", '{"stream":true}');

const member: fc.Arbitrary<Member> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(choices, modelValue).map(([c, v]) => [jsonString("model", c), v] as Member) },
  { weight: 1, arbitrary: fc.tuple(decoyKey, choices, modelValue).map(([k, c, v]) => [jsonString(k, c), v] as Member) },
  { weight: 1, arbitrary: streamValue.map((v) => ['"stream"', v] as Member) },
  { weight: 1, arbitrary: fc.array(nestedModel, { maxLength: 3 }).map((a) => ['"messages"', `[${a.join(",")}]`] as Member) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), filler).map(([k, v]) => [JSON.stringify(k), v] as Member) },
);

function object(members: Member[], spaces: string[]): string {
  let i = 0;
  const w = () => spaces[i++ % spaces.length]!;
  return `${w()}{${members.map(([k, v]) => `${w()}${k}${w()}:${w()}${v}${w()}`).join(",")}}${w()}`;
}

const spaces = fc.array(ws, { minLength: 1, maxLength: 6 });

/** Valid bodies: chat-like members in any order, at most one `model` spelled plainly. */
export const validBody = fc
  .tuple(fc.array(member, { maxLength: 6 }), fc.tuple(modelName, choices), fc.nat(), spaces)
  .map(([ms, [m, c], at, sp]) => {
    const members = ms.filter(([k]) => JSON.parse(k) !== "model");
    members.splice(at % (members.length + 1), 0, ['"model"', jsonString(m, c)]);
    return enc.encode(object(members, sp));
  });

/** Escapes in keys and values: every member spelled with random escapes, decoys included. */
export const escapedBody = fc.tuple(fc.array(member, { minLength: 1, maxLength: 6 }), spaces).map(([ms, sp]) => enc.encode(object(ms, sp)));

/** Duplicate top-level keys: two to five `model` members (any spelling, any type) among others. */
export const duplicateBody = fc
  .tuple(
    fc.array(fc.tuple(choices, modelValue), { minLength: 2, maxLength: 5 }),
    fc.array(member, { maxLength: 4 }),
    fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
    spaces,
  )
  .map(([models, others, at, sp]) => {
    const members = [...others];
    models.forEach(([c, v], i) => members.splice(at[i]! % (members.length + 1), 0, [jsonString("model", c), v]));
    return enc.encode(object(members, sp));
  });

/** Deep nesting: one member's value (or a nested `model`) wrapped in up to 3000 arrays/objects. */
export const deepBody = fc
  .tuple(fc.integer({ min: 1, max: 3000 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }), fc.tuple(modelName, choices), fc.boolean(), spaces)
  .map(([depth, kinds, [m, c], modelFirst, sp]) => {
    let open = "";
    let close = "";
    for (let i = 0; i < depth; i++) {
      if (kinds[i % kinds.length]) {
        open += '{"model":';
        close = "}" + close;
      } else {
        open += "[";
        close = "]" + close;
      }
    }
    const deep: Member = ['"tools"', open + '"deep"' + close];
    const model: Member = ['"model"', jsonString(m, c)];
    return enc.encode(object(modelFirst ? [model, deep] : [deep, model], sp));
  });

/** Byte sequences a fatal UTF-8 decoder refuses. */
const badUtf8 = fc.constantFrom(
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf0, 0x80, 0x80, 0xaf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xfe],
  [0xff],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
);

/** Any body with an invalid UTF-8 sequence inserted at a random offset (or replacing a byte). */
export const invalidUtf8Body = fc
  .tuple(fc.oneof(validBody, escapedBody, duplicateBody), badUtf8, fc.nat(), fc.boolean())
  .map(([b, bad, at, replace]) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), Uint8Array.from(bad), b.subarray(replace ? Math.min(b.length, i + 1) : i)]);
  });

/** Any body cut short at a random offset (possibly inside a multi-byte sequence). */
export const truncatedBody = fc
  .tuple(fc.oneof(validBody, escapedBody, duplicateBody, deepBody), fc.nat())
  .filter(([b]) => b.length > 1)
  .map(([b, at]) => b.subarray(0, 1 + (at % (b.length - 1))));

/** The classes by name, for the suites. */
export const BODY_CLASSES: Array<[string, fc.Arbitrary<Uint8Array>]> = [
  ["valid JSON", validBody],
  ["escapes in keys and values", escapedBody],
  ["duplicate top-level keys", duplicateBody],
  ["nesting up to 3000 levels", deepBody],
  ["invalid UTF-8 at random offsets", invalidUtf8Body],
  ["truncation", truncatedBody],
];
