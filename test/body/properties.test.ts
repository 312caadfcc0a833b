// Property tests for the body scanner and model rewrite (fast-check), on the AssemblyScript
// code compiled standalone (test/body/probe.ts). A trap or abort in the probe throws, so every
// property also checks that no input traps.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { loadProbe, type Probe } from "./probe.js";
import { referenceExtract } from "./reference.js";

let probe: Probe;
const enc = new TextEncoder();
const dec = new TextDecoder();

beforeAll(async () => {
  probe = await loadProbe();
}, 120_000);

const jsonValue = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" });
const modelName = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.constantFrom("llama-3", "qwen/Qwen3-32B", "a\"b\\c", "é😀"));
const messages = fc.array(
  fc.record(
    {
      role: fc.oneof(fc.constantFrom("system", "user", "assistant", "tool"), jsonValue),
      content: fc.oneof(
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.array(fc.oneof(fc.record({ type: fc.constant("text"), text: fc.string({ unit: "binary" }) }), jsonValue), { maxLength: 4 }),
        jsonValue,
      ),
      model: modelName,
    },
    { requiredKeys: [] },
  ),
  { maxLength: 5 },
);

/** A JSON object with chat-like fields, entries in random order, keys possibly repeated. */
const chatEntries = fc
  .tuple(
    fc.array(fc.tuple(fc.string({ unit: "binary", maxLength: 8 }), jsonValue), { maxLength: 5 }),
    fc.array(
      fc.oneof(
        fc.tuple(fc.constant("model"), fc.oneof(modelName, jsonValue)),
        fc.tuple(fc.constant("stream"), fc.oneof(fc.boolean(), jsonValue)),
        fc.tuple(fc.constant("messages"), fc.oneof(messages, jsonValue)),
        fc.tuple(fc.constant("prompt"), fc.oneof(fc.string({ unit: "binary" }), fc.array(fc.string(), { maxLength: 3 }), jsonValue)),
        fc.tuple(fc.constant("input"), fc.oneof(fc.string(), messages, jsonValue)),
        fc.tuple(fc.constant("metadata"), fc.record({ model: modelName })),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .chain(([noise, fields]) => fc.shuffledSubarray([...noise, ...fields], { minLength: noise.length + fields.length }));

const WS = [" ", "\t", "\n", "\r", "  ", ""];
const whitespace = fc.constantFrom(...WS);

/** Serializes entries as one JSON object text (duplicates kept), with random whitespace. */
function serialize(entries: Array<[string, unknown]>, ws: string[]): string {
  let i = 0;
  const w = () => ws[i++ % ws.length]!;
  const parts = entries.map(([k, v]) => `${w()}${JSON.stringify(k)}${w()}:${w()}${JSON.stringify(v) ?? "null"}${w()}`);
  return `${w()}{${parts.join(",")}}${w()}`;
}

const chatBody = fc.tuple(chatEntries, fc.array(whitespace, { minLength: 1, maxLength: 16 })).map(([e, ws]) => serialize(e as Array<[string, unknown]>, ws));

describe("body scanner properties", () => {
  it("extraction agrees with JSON.parse on every valid document", () => {
    fc.assert(
      fc.property(chatBody, (text) => {
        const bytes = enc.encode(text);
        const ref = referenceExtract(bytes);
        const got = probe.scan(bytes);
        expect(ref.ok).toBe(true);
        expect(got.error).toBe(0);
        expect(got.hasModel).toBe(ref.hasModel);
        expect(got.model).toBe(ref.model);
        expect(got.stream).toBe(ref.stream);
        const prompt = probe.prompt();
        if (ref.prompt !== undefined) expect(prompt).toBe(ref.prompt);
      }),
      { numRuns: 1500 },
    );
  });

  it("agrees with JSON.parse for fc.json() objects given a model", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: "binary" }), jsonValue), modelName, fc.boolean(), (obj, model, first) => {
        const doc = first ? { model, ...obj } : { ...obj, model };
        const text = JSON.stringify(doc);
        const got = probe.scan(text);
        expect(got.error).toBe(0);
        expect(got.model).toBe(JSON.parse(text).model);
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts exactly what JSON.parse accepts as an object, for any text", () => {
    const nearJson = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string({ unit: fc.constantFrom(..."{}[]\":,\\ -+.0123456789eEtrufalsn\u00e9ab\n\t".split("")), maxLength: 40 }).map((s) => "{" + s),
      chatBody.chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n) + t.slice(n + 1))),
      chatBody.chain((t) => fc.tuple(fc.nat({ max: t.length }), fc.constantFrom(",", "}", "]", '"', "\\", ":", "x", "0")).map(([n, c]) => t.slice(0, n) + c + t.slice(n))),
    );
    fc.assert(
      fc.property(nearJson, (text) => {
        // Compare on the same bytes (a raw lone surrogate in `text` is encoded as U+FFFD).
        const bytes = enc.encode(text);
        const ref = referenceExtract(bytes);
        const got = probe.scan(bytes);
        expect(got.error === 0, text).toBe(ref.ok);
        if (ref.ok) expect(got.model).toBe(ref.model);
      }),
      { numRuns: 3000 },
    );
  });

  it("never traps on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const got = probe.scan(bytes);
        if (got.error === 0) {
          probe.prompt(1000);
          probe.rewrite("x");
        }
        expect(got.error).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
  });

  it("rewriting the model never changes any other byte", () => {
    fc.assert(
      fc.property(chatBody, modelName, (text, newModel) => {
        const bytes = enc.encode(text);
        const got = probe.scan(bytes);
        const out = probe.rewrite(newModel);
        if (got.model === null) {
          expect(out).toBeNull();
          return;
        }
        expect(out).not.toBeNull();
        const o = out!;
        // The rewrite oracle: the input with the value span of EVERY top-level model member
        // replaced by one JSON string literal of the new name, nothing else changed.
        const spans = got.modelSpans;
        const kept = spans.reduce((n, [s, e]) => n - (e - s), bytes.length);
        const literal = (o.length - kept) / spans.length;
        const encoded = o.subarray(spans[0]![0], spans[0]![0] + literal);
        expect(JSON.parse(dec.decode(encoded))).toBe((newModel as unknown as { toWellFormed(): string }).toWellFormed());
        const want: number[] = [];
        let at = 0;
        for (const [s, e] of got.modelSpans) {
          want.push(...bytes.subarray(at, s), ...encoded);
          at = e;
        }
        want.push(...bytes.subarray(at));
        expect(Buffer.from(o).equals(Buffer.from(want))).toBe(true);
        // The new document is valid JSON whose (last) model is the new name, lone surrogates
        // written as U+FFFD.
        const after = JSON.parse(dec.decode(o));
        expect(after.model).toBe((newModel as unknown as { toWellFormed(): string }).toWellFormed());
        // A second scan finds as many model members, all with the new name.
        const again = probe.scan(o);
        expect(again.modelSpans.length).toBe(got.modelSpans.length);
        expect(again.modelSpans[0]![0]).toBe(got.modelSpans[0]![0]);
      }),
      { numRuns: 1500 },
    );
  });
});
