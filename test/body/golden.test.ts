// Golden tests for the body scanner, prompt text and model rewrite over the fixture corpus
// (test/fixtures/bodies), run on the AssemblyScript code compiled standalone (test/body/probe.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { loadProbe, type Probe } from "./probe.js";
import { fixtureBodies, golden, largeChatBody } from "./bodies.js";
import { referenceExtract } from "./reference.js";

const ERROR_NAMES = ["none", "empty", "not_object", "invalid", "truncated"];
let probe: Probe;
const enc = new TextEncoder();
const dec = new TextDecoder();

beforeAll(async () => {
  probe = await loadProbe();
}, 120_000);

describe("body corpus (golden)", () => {
  const bodies = fixtureBodies();
  const expected = golden();

  it("has a golden entry for every fixture and no stale ones", () => {
    expect([...bodies.keys()].sort()).toEqual(Object.keys(expected).sort());
    expect(bodies.size).toBeGreaterThanOrEqual(40);
  });

  for (const [name, bytes] of bodies) {
    it(`${name}`, () => {
      const want = expected[name]!;
      const got = probe.scan(bytes);
      if (want.error) {
        expect(ERROR_NAMES[got.error]).toBe(want.error);
        expect(got.errorOffset).toBeGreaterThanOrEqual(0);
        expect(referenceExtract(bytes).ok).toBe(false);
        return;
      }
      expect(ERROR_NAMES[got.error]).toBe("none");
      expect(got.model).toBe(want.model);
      expect(got.hasModel).toBe(want.hasModel);
      expect(got.stream).toBe(want.stream);
      expect(probe.prompt()).toBe(want.prompt);
      // The golden values are what JSON.parse sees.
      const ref = referenceExtract(bytes);
      expect(ref.model).toBe(want.model);
      expect(ref.stream).toBe(want.stream);
      if (ref.prompt !== undefined) expect(ref.prompt).toBe(want.prompt);
    });
  }

  it("rewrites the model of every routable fixture leaving every other byte unchanged", () => {
    let rewritten = 0;
    for (const [name, bytes] of bodies) {
      const got = probe.scan(bytes);
      if (got.error !== 0 || got.model === null) continue;
      const out = probe.rewrite("rewritten/model-v2")!;
      expect(out, name).not.toBeNull();
      // Every top-level model value replaced, every other byte kept.
      const want: number[] = [];
      let at = 0;
      for (const [s, e] of got.modelSpans) {
        want.push(...bytes.subarray(at, s), ...enc.encode('"rewritten/model-v2"'));
        at = e;
      }
      want.push(...bytes.subarray(at));
      expect(Buffer.from(out).equals(Buffer.from(want)), name).toBe(true);
      const after = JSON.parse(dec.decode(out));
      const before = JSON.parse(dec.decode(bytes));
      expect(after.model).toBe("rewritten/model-v2");
      expect({ ...after, model: 0 }).toEqual({ ...before, model: 0 });
      rewritten++;
    }
    expect(rewritten).toBeGreaterThanOrEqual(25);
  });

  it("refuses to rewrite a body without a string model", () => {
    probe.scan('{"model":{"name":"x"}}');
    expect(probe.rewrite("y")).toBeNull();
    probe.scan('{"model":"x"');
    expect(probe.rewrite("y")).toBeNull();
  });
});

describe("large bodies", () => {
  it("reads a 1 MB chat body with the model last", () => {
    const body = enc.encode(largeChatBody(1_000_000, "big-model", true));
    expect(body.length).toBeGreaterThan(1_000_000);
    const got = probe.scan(body);
    expect(got.error).toBe(0);
    expect(got.model).toBe("big-model");
    expect(got.stream).toBe(1);
    const prompt = probe.prompt()!;
    expect(prompt).toBe(referenceExtract(body).prompt);
    // The picker bounds the prompt: only a prefix is produced.
    expect(probe.prompt(16384)).toBe(dec.decode(enc.encode(prompt).subarray(0, 16384)));
    const out = probe.rewrite("small")!;
    expect(out.length).toBe(body.length - "big-model".length + "small".length);
    expect(JSON.parse(dec.decode(out)).model).toBe("small");
  });

  it("fails on every truncation point of a 4 KB body without trapping", () => {
    const body = enc.encode(largeChatBody(4096));
    for (let i = 0; i < body.length; i += 7) {
      const got = probe.scan(body.subarray(0, i));
      expect(got.error, `cut at ${i}`).not.toBe(0);
    }
  });

  it("scans bodies nested 100,000 levels deep (no depth limit, no recursion)", () => {
    expect(ERROR_NAMES[probe.scan('{"a":' + "[".repeat(100_000)).error]).toBe("truncated");
    const deep = '{"a":' + '[{"model":'.repeat(50_000) + "1" + "}]".repeat(50_000) + ',"model":"m"}';
    expect(probe.scan(deep).model).toBe("m");
    expect(referenceExtract(enc.encode(deep)).model).toBe("m");
  });
});
