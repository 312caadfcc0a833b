/**
 * Hostile request bodies through the real release plugin.wasm in the Envoy-faithful harness,
 * every class of docs/rewriting.md's contract (generators.ts), each in hold mode and in
 * headers-only mode, with and without a model rewrite. The oracle (oracle.ts) is JSON.parse
 * after a fatal UTF-8 decode; header values are checked as the raw bytes the plugin passed to
 * the host (RawHeaderWrite), not through a lossy decode. Bodies arrive in 1-3 chunks, so a
 * decision on a prefix would show.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ProxyWasmHost, type RawHeaderWrite } from "../../src/host/index.js";
import { wasmBytes } from "../build/wasm-files.js";
import { BODY_CLASSES } from "./generators.js";
import { meaning, replaceSpans, topLevelModelSpans } from "./oracle.js";

let plugin: WebAssembly.Module;

beforeAll(async () => {
  plugin = await WebAssembly.compile(wasmBytes("plugin.wasm"));
}, 300_000);

const TARGET = "rewritten/é-model";
const RUNS = 150;
const fatal = new TextDecoder("utf-8", { fatal: true });
const enc = new TextEncoder();

type Mode = "hold" | "headers-only";

interface Setup {
  host: ProxyWasmHost;
  writes: RawHeaderWrite[];
  mode: Mode;
  rewrite: boolean;
}

async function setup(mode: Mode, rewrite: boolean): Promise<Setup> {
  const writes: RawHeaderWrite[] = [];
  const bodyRouting: Record<string, unknown> = { maxBodyBytes: 1 << 20 };
  if (rewrite) bodyRouting.modelRewrites = [{ targets: [{ modelRewrite: TARGET }] }];
  const host = await ProxyWasmHost.create({
    module: plugin,
    pluginConfig: { holdHeadersForBody: mode === "hold", bodyRouting },
    allowOnHeadersStopIteration: mode === "hold",
    onHeaderWrite: (w) => writes.push(w),
    upstream: { status: 200 },
  });
  return { host, writes, mode, rewrite };
}

function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    if (c > prev) out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out.length ? out : [bytes];
}

/** Every header value the plugin wrote: valid UTF-8 with no control character, byte for byte. */
function checkWrites(writes: RawHeaderWrite[]): void {
  for (const w of writes) {
    for (const b of w.value) expect(b >= 0x20 && b !== 0x7f, `header ${Buffer.from(w.key)} byte ${b}`).toBe(true);
    expect(() => fatal.decode(w.value)).not.toThrow();
  }
}

function modelWrites(writes: RawHeaderWrite[]): Uint8Array[] {
  return writes.filter((w) => Buffer.from(w.key).toString("latin1") === "x-gateway-model-name").map((w) => w.value);
}

/** Returns whether the body was routable, so a suite can show both kinds were generated. */
async function check(s: Setup, bytes: Uint8Array, cuts: number[]): Promise<boolean> {
  s.writes.length = 0;
  const length = String(bytes.length);
  const r = await s.host.request({
    headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json", "content-length": length },
    body: chunks(bytes, cuts),
  });
  expect(r.trap).toBeUndefined();
  const fwd = r.request!;
  checkWrites(s.writes);
  const m = meaning(bytes);
  const routable = m.ok && m.model !== null && m.safe;
  // Without a rewrite an empty model is not routed; a catch-all rewrite still applies to it.
  const expectHeader = routable && (s.rewrite || m.model !== "");
  const rewritten = routable && s.rewrite;
  const sent = modelWrites(s.writes);

  if (rewritten) {
    const want = replaceSpans(bytes, topLevelModelSpans(bytes), JSON.stringify(TARGET));
    expect(Buffer.from(fwd.body).equals(Buffer.from(want))).toBe(true);
    expect(sent.map((v) => Buffer.from(v).toString("hex"))).toEqual([Buffer.from(enc.encode(TARGET)).toString("hex")]);
  } else {
    // Byte for byte, whatever the plugin may have seen in a prefix.
    expect(Buffer.from(fwd.body).equals(Buffer.from(bytes))).toBe(true);
    if (expectHeader) expect(sent.map((v) => Buffer.from(v).toString("hex"))).toEqual([Buffer.from(enc.encode(m.model!)).toString("hex")]);
    else expect(sent).toEqual([]);
  }

  if (s.mode === "hold") {
    // The headers wait for the whole body: what goes upstream is what the oracle says.
    expect(fwd.headers.get("x-gateway-model-name") ?? null).toBe(expectHeader ? (rewritten ? TARGET : m.model) : null);
    expect(fwd.headers.get("content-length")).toBe(String(fwd.body.length));
    if (!rewritten) expect(fwd.headers.get("content-length")).toBe(length);
  } else {
    // Headers-only (stock Envoy): the headers left before the body; no model header can follow.
    expect(fwd.headers.has("x-gateway-model-name")).toBe(false);
    // content-length is dropped at header time only when a length-changing rewrite may follow.
    expect(fwd.headers.get("content-length") ?? null).toBe(s.rewrite ? null : length);
  }
  return routable;
}

for (const mode of ["hold", "headers-only"] as const) {
  for (const rewrite of [false, true]) {
    describe(`hostile bodies, ${mode} mode, ${rewrite ? "catch-all rewrite" : "no rewrite"}`, () => {
      let s: Setup;
      beforeAll(async () => {
        s = await setup(mode, rewrite);
      });
      for (const [name, arb] of BODY_CLASSES) {
        it(name, async () => {
          const seen = { routable: 0, unrouted: 0 };
          await fc.assert(
            fc.asyncProperty(arb, fc.array(fc.nat(), { maxLength: 2 }), async (bytes, cuts) => {
              if (await check(s, bytes, cuts)) seen.routable++;
              else seen.unrouted++;
            }),
            { numRuns: RUNS },
          );
          expect(s.host.traps).toEqual([]);
          // The class exercised what it is about: bodies the plugin must leave alone, and (except
          // for the broken-byte classes) bodies it must route.
          expect(seen.unrouted).toBeGreaterThan(0);
          if (!/UTF-8|truncation/.test(name)) expect(seen.routable).toBeGreaterThan(0);
        });
      }
    });
  }
}

describe("hostile bodies: fixed cases", () => {
  it("routes on the last model and rewrites every top-level one, escaped keys kept", async () => {
    const s = await setup("hold", true);
    const body = enc.encode('{"model":"evil","mod\\u0065l" : 5,"messages":[{"model":"nested"}],"model":"good"}');
    await check(s, body, []);
    const r = await s.host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" }, body });
    expect(r.request!.bodyText).toBe('{"model":"rewritten/é-model","mod\\u0065l" : "rewritten/é-model","messages":[{"model":"nested"}],"model":"rewritten/é-model"}');
  });

  it("never sends or rewrites a model with a control character or a lone surrogate", async () => {
    for (const model of ["a\\u0000b", "a\\u001fb", "a\\u007fb", "a\\nb", "\\ud800", "x\\udc00", "\\ud83d"]) {
      for (const mode of ["hold", "headers-only"] as const) {
        const s = await setup(mode, true);
        const body = enc.encode(`{"model":"${model}","messages":[]}`);
        await check(s, body, []);
        expect(s.host.metrics.value("wayroute_body_routing_skipped_unsafe_model_total")).toBe(1);
      }
    }
  });

  it("answers 400 to an unsafe model when unsafeModel is reject", async () => {
    for (const mode of ["hold", "headers-only"] as const) {
      const host = await ProxyWasmHost.create({
        module: plugin,
        pluginConfig: { holdHeadersForBody: mode === "hold", bodyRouting: { unsafeModel: "reject" } },
        allowOnHeadersStopIteration: mode === "hold",
      });
      const r = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" }, body: '{"model":"a\\u0000"}' });
      expect(r.trap).toBeUndefined();
      expect(r.response.status).toBe(400);
      const ok = await host.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" }, body: '{"model":"a"}' });
      expect(ok.response.status).toBe(200);
    }
  });

  it("scans a body nested 200,000 levels deep", async () => {
    const s = await setup("hold", false);
    const deep = '{"tools":' + "[".repeat(100_000) + '{"model":1}' + "]".repeat(100_000) + ',"model":"deep-ok"}';
    await check(s, enc.encode(deep), []);
    expect(modelWrites(s.writes).map((v) => Buffer.from(v).toString())).toEqual(["deep-ok"]);
  });
});
