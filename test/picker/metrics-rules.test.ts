/**
 * Model-server metrics rules through the real plugin.wasm: generated vLLM expositions with the
 * expected load computed by a TypeScript oracle from the generated series, plus mutations (NaN and
 * infinities, half-parsed values, truncation, CRLF, escaped labels with `}` `,` `=` and quotes,
 * several series, look-alike names). What the plugin concluded is read where every other worker
 * reads it: the endpoint's load record in shared data.
 *
 * The rules (docs/picker.md, "Model-server metrics"): unknown is not zero; counts summed and
 * clamped to >= 0, utilisation maxed and clamped to [0, 1]; no partial samples; LoRA state follows
 * the latest sample; label values are data; an empty 200 reports nothing; a failed scrape keeps
 * the previous values; whole-name matches only.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProxyWasmHost, type HttpCallOutcome } from "../../src/host/index.js";
import { metric, pluginModule } from "./helpers.js";
import { sharedLoad, type LoadRecord } from "./load-state.js";

const ADDR = "10.0.0.1:8000";
const RUNS = Number(process.env.METRICS_FUZZ_RUNS ?? 150);

const WAITING = "vllm:num_requests_waiting";
const RUNNING = "vllm:num_requests_running";
const KV = "vllm:kv_cache_usage_perc";
const KV_OLD = "vllm:gpu_cache_usage_perc";
const LORA = "vllm:lora_requests_info";
/** Names that are other metrics: a whole-name match only counts. */
const LOOKALIKES = [
  "vllm:num_requests_waiting_total", "vllm:num_requests_waiting_by_reason", "vllm:kv_cache_usage_perc_bucket",
  "vllm:num_requests_runnin", "xvllm:num_requests_running", "vllm:lora_requests_info_created", "sglang:num_queue_reqs",
];

interface Series {
  name: string;
  labels: Array<[string, string]>;
  /** Value text as written. */
  value: string;
  timestamp?: number;
}

interface Page {
  series: Series[];
  crlf: boolean;
  /** Comment lines mixed in (HELP text naming the metrics). */
  comments: boolean;
  /** Bytes kept from the rendered page (undefined: all). */
  cut?: number;
}

// ---- rendering ----------------------------------------------------------------------------

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function renderLine(s: Series): string {
  const labels = s.labels.length ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}` : "";
  return `${s.name}${labels} ${s.value}${s.timestamp !== undefined ? ` ${s.timestamp}` : ""}`;
}

/** The page's bytes, and for each series the byte offset just past its newline. */
function render(p: Page): { bytes: Uint8Array; ends: number[] } {
  const nl = p.crlf ? "\r\n" : "\n";
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const ends: number[] = [];
  let at = 0;
  const push = (text: string): void => {
    const b = enc.encode(text);
    chunks.push(b);
    at += b.length;
  };
  for (const s of p.series) {
    if (p.comments) push(`# HELP ${s.name} ${WAITING} 99 ${KV} 0.5${nl}# TYPE ${s.name} gauge${nl}`);
    push(renderLine(s) + nl);
    ends.push(at);
  }
  const all = new Uint8Array(at);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  const cut = p.cut === undefined ? at : Math.min(p.cut, at);
  return { bytes: all.subarray(0, cut), ends };
}

// ---- oracle -------------------------------------------------------------------------------

const STRICT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)$/;

/** The value a line carries, or undefined when the token is not a number (the line is skipped). */
function valueOf(text: string): number | undefined {
  if (text === "NaN" || text === "nan") return NaN;
  if (!STRICT.test(text)) return undefined;
  if (/inf/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  return Number(text);
}

function splitAdapters(text: string): string[] {
  const out: string[] = [];
  for (const p of text.split(",")) {
    const t = p.trim();
    if (t.length > 0 && !out.includes(t)) out.push(t);
  }
  return out;
}

function maxLoraOf(text: string | undefined): number {
  if (text === undefined) return -1;
  const t = text.trim();
  if (!/^\d{1,12}$/.test(t)) return -1;
  return Math.min(Number(t), 1_000_000);
}

class Acc {
  seen = false;
  poisoned = false;
  value = 0;
  count(v: number): void {
    if (!Number.isFinite(v)) return void (this.poisoned = true);
    const c = v < 0 ? 0 : v;
    this.value = this.seen ? this.value + c : c;
    this.seen = true;
  }
  fraction(v: number): void {
    if (!Number.isFinite(v)) return void (this.poisoned = true);
    const f = v < 0 ? 0 : v > 1 ? 1 : v;
    if (!this.seen || f > this.value) this.value = f;
    this.seen = true;
  }
  asCount(): number {
    return this.seen && !this.poisoned ? Math.round(Math.min(this.value, 1e9)) : -1;
  }
  asFraction(): number {
    return this.seen && !this.poisoned ? this.value : -1;
  }
}

type Expected = Omit<LoadRecord, "key" | "metricsAtMs">;

function oracle(p: Page): Expected {
  const { bytes, ends } = render(p);
  const waiting = new Acc();
  const running = new Acc();
  const kv = new Acc();
  const kvOld = new Acc();
  let lora: { v: number; ts: number; s: Series } | undefined;
  p.series.forEach((s, i) => {
    if (ends[i] > bytes.length) return; // cut line (or after the cut): never read
    const v = valueOf(s.value);
    if (v === undefined) return;
    if (s.name === WAITING) waiting.count(v);
    else if (s.name === RUNNING) running.count(v);
    else if (s.name === KV) kv.fraction(v);
    else if (s.name === KV_OLD) kvOld.fraction(v);
    else if (s.name === LORA && Number.isFinite(v)) {
      const ts = s.timestamp ?? -1;
      if (!lora || v > lora.v || (v === lora.v && ts > lora.ts)) lora = { v, ts, s };
    }
  });
  const label = (s: Series, k: string): string | undefined => {
    // A repeated label name: the first one counts (as the plugin reads labels left to right).
    const hit = s.labels.find(([n]) => n === k);
    return hit?.[1];
  };
  return {
    waiting: waiting.asCount(),
    running: running.asCount(),
    kv: kv.seen || kv.poisoned ? kv.asFraction() : kvOld.asFraction(),
    maxLora: lora ? maxLoraOf(label(lora.s, "max_lora")) : -1,
    active: lora ? splitAdapters(label(lora.s, "running_lora_adapters") ?? "") : [],
    waitingLoras: lora ? splitAdapters(label(lora.s, "waiting_lora_adapters") ?? "") : [],
  };
}

// ---- generators ---------------------------------------------------------------------------

const labelText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.constantFrom("}", ",", "=", '"', "\\", "\n", 'a"}b', "x,y=z", "\\n", "lora-1", " lora 2 ", "é,ü", "a\tb"),
);

const adapterList = fc.array(fc.oneof(fc.constantFrom("sql-lora", "chat-lora", "a}b", 'q"x', "t\\u", "n\nl"), labelText), { maxLength: 4 }).map((xs) => xs.join(","));

const valueText = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 60 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -20, max: 1300 }).map((k) => String(k / 1000)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }).map((k) => `${k}.5`) },
  { weight: 1, arbitrary: fc.constantFrom("NaN", "+Inf", "-Inf", "Inf", "1e2", "2.0e-1") },
  { weight: 1, arbitrary: fc.constantFrom("12abc", "1,5", "0x1F", "--1", "1.2.3", "NaNx", "5%", "1:2") },
);

const plainSeries = fc.record({
  name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(WAITING, RUNNING, KV, KV_OLD) }, { weight: 1, arbitrary: fc.constantFrom(...LOOKALIKES) }),
  labels: fc.array(fc.tuple(fc.constantFrom("model_name", "engine", "rank"), labelText), { maxLength: 2 }),
  value: valueText,
  timestamp: fc.option(fc.integer({ min: 1, max: 2_000_000_000 }), { nil: undefined }),
});

const loraSeries = fc.record({
  name: fc.constant(LORA),
  labels: fc.tuple(adapterList, adapterList, fc.oneof(fc.integer({ min: 0, max: 8 }).map(String), labelText)).map(
    ([r, w, m]): Array<[string, string]> => [["max_lora", m], ["running_lora_adapters", r], ["waiting_lora_adapters", w]],
  ),
  value: fc.oneof(fc.integer({ min: 1_700_000_000, max: 1_700_000_005 }).map(String), fc.constantFrom("NaN", "+Inf", "1.7e+09")),
  timestamp: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
});

const page: fc.Arbitrary<Page> = fc.record({
  series: fc.array(fc.oneof({ weight: 4, arbitrary: plainSeries }, { weight: 1, arbitrary: loraSeries }), { maxLength: 12 }),
  crlf: fc.boolean(),
  comments: fc.boolean(),
  cut: fc.option(fc.nat({ max: 2000 }), { nil: undefined, freq: 4 }),
});

// ---- the plugin ---------------------------------------------------------------------------

interface Served {
  status: number;
  body: Uint8Array;
}

async function scrapeHost(extra: Record<string, unknown> = {}): Promise<{ host: ProxyWasmHost; serve: (s: Served | "reset") => Promise<void> }> {
  let current: Served | "reset" = { status: 200, body: new Uint8Array(0) };
  const host = await ProxyWasmHost.create({
    module: await pluginModule(),
    workers: 1,
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: { pools: [{ name: "llm", endpoints: [{ address: ADDR }], scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, ...extra } }] },
    clusters: { pool: (): HttpCallOutcome => (current === "reset" ? "reset" : { status: current.status, headers: { "content-type": "text/plain" }, body: current.body }) },
  });
  expect(host.configured).toBe(true);
  const serve = async (s: Served | "reset"): Promise<void> => {
    current = s;
    // Two tick periods: at least one scrape round starts and is answered.
    await host.advance(110);
    await host.settle();
  };
  return { host, serve };
}

function published(host: ProxyWasmHost): Expected & { metricsAtMs: number } {
  const r = sharedLoad(host, ADDR);
  if (!r) throw new Error("no load record published");
  const { key: _k, ...rest } = r;
  return rest;
}

describe("model-server metrics rules (vLLM), generated pages against a TypeScript oracle", () => {
  it("every generated and mutated page is read as the rules say", async () => {
    const { host, serve } = await scrapeHost();
    try {
      let lastAt = -1;
      await fc.assert(
        fc.asyncProperty(page, async (p) => {
          await serve({ status: 200, body: render(p).bytes });
          const got = published(host);
          expect(got.metricsAtMs).toBeGreaterThan(lastAt); // a fresh scrape was published
          lastAt = got.metricsAtMs;
          const want = oracle(p);
          expect({ ...got, metricsAtMs: 0, kv: 0 }).toEqual({ ...want, metricsAtMs: 0, kv: 0 });
          if (want.kv < 0) expect(got.kv).toBe(-1);
          else expect(got.kv).toBeCloseTo(want.kv, 12);
        }),
        { numRuns: RUNS },
      );
      expect(host.traps).toEqual([]);
    } finally {
      host.close();
    }
  }, 120_000);

  it("hand-picked cases: unknown is not zero, real zero stays zero, several series, whole names", async () => {
    const { host, serve } = await scrapeHost();
    try {
      const text = (s: string): Served => ({ status: 200, body: new TextEncoder().encode(s) });
      await serve(text(`${WAITING}{m="a"} 2\n${WAITING}{m="b"} 3\n${RUNNING} 0\n${KV}{r="0"} 0.25\n${KV}{r="1"} 0.5\n${WAITING}_total 100\n`));
      expect(published(host)).toMatchObject({ waiting: 5, running: 0, kv: 0.5, maxLora: -1, active: [] });
      await serve(text(`${WAITING} NaN\n${RUNNING} 3\n${KV} +Inf\n`));
      expect(published(host)).toMatchObject({ waiting: -1, running: 3, kv: -1 });
      await serve(text(`${WAITING} -4\n${KV} 1.5\n${RUNNING} 12abc\n`));
      expect(published(host)).toMatchObject({ waiting: 0, running: -1, kv: 1 });
      // CRLF, and a last line without its newline is not read.
      await serve(text(`${WAITING} 7\r\n${KV} 0.3\r\n${RUNNING} 9`));
      expect(published(host)).toMatchObject({ waiting: 7, running: -1, kv: 0.3 });
      // LoRA: the largest value wins; then a page without the series clears the adapters.
      await serve(text(`${LORA}{max_lora="2",running_lora_adapters="a,b",waiting_lora_adapters=""} 1700000002\n` +
        `${LORA}{max_lora="3",running_lora_adapters="x\\"},=y,z\\\\",waiting_lora_adapters="w\\nv"} 1700000009\n${WAITING} 1\n`));
      expect(published(host)).toMatchObject({ maxLora: 3, active: ['x"}', "=y", "z\\"], waitingLoras: ["w\nv"] });
      await serve(text(`${WAITING} 1\n`));
      expect(published(host)).toMatchObject({ maxLora: -1, active: [], waitingLoras: [] });
      // An empty 200 reports nothing: every value unknown.
      await serve(text(""));
      expect(published(host)).toMatchObject({ waiting: -1, running: -1, kv: -1, maxLora: -1 });
      expect(host.traps).toEqual([]);
    } finally {
      host.close();
    }
  });

  it("a failed scrape (error status, reset, timeout) keeps the previous values", async () => {
    const { host, serve } = await scrapeHost({ timeoutMs: 20 });
    try {
      await serve({ status: 200, body: new TextEncoder().encode(`${WAITING} 4\n${KV} 0.5\n`) });
      const before = published(host);
      await serve({ status: 503, body: new TextEncoder().encode(`${WAITING} 99\n`) });
      expect(published(host)).toEqual(before);
      await serve("reset");
      expect(published(host)).toEqual(before);
      expect(metric(host, "wayroute_picker_llm_scrape_errors_total")).toBeGreaterThanOrEqual(2);
    } finally {
      host.close();
    }
  });

  it("a page longer than the read cap is ignored whole and counted", async () => {
    const { host, serve } = await scrapeHost({ maxBodyBytes: 4096 });
    try {
      await serve({ status: 200, body: new TextEncoder().encode(`${WAITING} 4\n`) });
      const before = published(host);
      const big = `${WAITING} 9\n` + `# ${"x".repeat(100)}\n`.repeat(50);
      await serve({ status: 200, body: new TextEncoder().encode(big) });
      expect(published(host)).toEqual(before);
      expect(metric(host, "wayroute_picker_llm_scrape_truncated_total")).toBeGreaterThanOrEqual(1);
    } finally {
      host.close();
    }
  });
});
