/**
 * Two builds of the plugin side by side (`--baseline-plugin <old plugin.wasm>`): the request-path
 * workloads of the footprint history, each through the harness with both modules, timed by
 * process CPU per request in interleaved rounds of alternating order (`../cpu-ab.ts`). Every row
 * is new/old with the spread of the rounds, so a size step reports its CPU cost from one run.
 *
 * Workloads: the empty configuration (GET, 4 KB chat); body routing, model extraction and
 * extraction + rewrite (4 KB, 220 KB chat); the picker with 8 and 1,024 endpoints under the GIE
 * default profile in hold mode with a model rewrite (the footprint configuration), GET, 4 KB and
 * 220 KB chat.
 */
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { chatBodyOf, footprintConfig } from "../../footprint/memory.js";
import { ProxyWasmHost, type ProxyWasmHostOptions, type RequestResult } from "../../host/index.js";
import { measureCpuAb, verdict, type CpuAb } from "../cpu-ab.js";
import { BenchError, type MicroResult, type MicroSuite } from "../suite.js";

/** One request-path workload: how to start a host for a module, and the request to repeat. */
interface Workload {
  name: string;
  host: Omit<ProxyWasmHostOptions, "module">;
  /** Virtual milliseconds to run after configure (scrapes answered) before measuring. */
  advanceMs?: number;
  headers: Record<string, string>;
  body?: string;
  /** Checks that the probe request took the path the workload is about; a message if not. */
  check?(r: RequestResult): string | undefined;
}

const GET = { ":method": "GET", ":path": "/v1/models", ":authority": "llm.example" };
const POST = { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "llm.example", "content-type": "application/json" };
const SCRAPE = "vllm:num_requests_waiting 1\nvllm:num_requests_running 2\nvllm:kv_cache_usage_perc 0.25\n";
const REWRITE = { modelRewrites: [{ targets: [{ modelRewrite: "footprint-model-v2" }] }] };

function workloads(): Workload[] {
  const plain = { workers: 1, rootId: "wayroute", logLevel: "error" as const, upstream: { status: 200, body: "{}" } };
  const withBody = (cfg: Record<string, unknown>) => ({ ...plain, pluginConfig: { bodyRouting: { maxBodyBytes: 1048576, ...cfg } } });
  const picked = (r: RequestResult) => (r.request?.headers.get("x-gateway-destination-endpoint") ? undefined : "no endpoint was picked");
  const rewritten = (r: RequestResult) => (r.request?.bodyText.includes('"model":"footprint-model-v2"') ? undefined : "the model was not rewritten");
  const chat = (bytes: number) => chatBodyOf(bytes, "ab");
  const out: Workload[] = [
    { name: "empty config: GET", host: plain, headers: GET },
    { name: "empty config: 4 KB chat", host: plain, headers: POST, body: chat(4096) },
  ];
  for (const [label, bytes] of [["4 KB", 4096], ["220 KB", 220 * 1024]] as const) {
    out.push({ name: `body extract: ${label} chat`, host: withBody({}), headers: POST, body: chat(bytes) });
    out.push({ name: `body rewrite: ${label} chat`, host: withBody(REWRITE), headers: POST, body: chat(bytes), check: rewritten });
  }
  for (const n of [8, 1024]) {
    const host = {
      ...plain,
      pluginConfig: footprintConfig(n),
      clusters: { pool: () => ({ status: 200, body: SCRAPE }) },
      // Envoy 1.35+'s allow_on_headers_stop_iteration, which holdHeadersForBody needs.
      allowOnHeadersStopIteration: true,
    };
    out.push({ name: `picker ${n} endpoints: GET`, host, advanceMs: 60, headers: { ...GET, ":path": "/v1/chat/completions" }, check: picked });
    for (const [label, bytes] of [["4 KB", 4096], ["220 KB", 220 * 1024]] as const) {
      out.push({ name: `picker ${n} endpoints: ${label} chat`, host, advanceMs: 60, headers: POST, body: chat(bytes), check: (r) => picked(r) ?? rewritten(r) });
    }
  }
  return out;
}

/** The workload names, in the order the suite runs them. */
export const PLUGIN_AB_CASES: readonly string[] = workloads().map((w) => w.name);

async function start(module: string, w: Workload): Promise<ProxyWasmHost> {
  const h = await ProxyWasmHost.create({ ...w.host, module });
  if (!h.configured) throw new BenchError(`${module} refused the configuration of "${w.name}"`);
  if (w.advanceMs) {
    await h.advance(w.advanceMs);
    await h.settle();
  }
  return h;
}

/** What a probe request did, to compare the two builds' decisions. */
function fingerprint(r: RequestResult): string {
  return JSON.stringify([r.response.status, r.request?.headers.toPairs() ?? null, r.request?.bodyText ?? null, r.localReply?.status ?? null]);
}

const fmt = (x: number) => x.toFixed(2);

/** The row's notes: the spread and the verdict, readable on their own. */
export function abNotes(m: CpuAb, extra: string[] = []): string {
  return [
    `CPU new/old ${fmt(m.ratio)} (95% interval ${Number.isFinite(m.ciLow) ? `${fmt(m.ciLow)}-${fmt(m.ciHigh)}` : "none"}, middle half ${fmt(m.q1)}-${fmt(m.q3)}, range ${fmt(m.min)}-${fmt(m.max)}, cheapest rounds ${fmt(m.minRatio)}; ${m.rounds} rounds of ${m.batch}): ${verdict(m)}`,
    ...extra,
  ].join("; ");
}

export const pluginAbSuite: MicroSuite = {
  name: "plugin-ab",
  description: "two plugin builds side by side (--baseline-plugin): process CPU per request, new/old, on the request-path workloads",
  optIn: true,
  async run(ctx): Promise<MicroResult[]> {
    const ab = ctx.ab;
    if (!ab) throw new BenchError("plugin-ab compares two builds: give the old one with --baseline-plugin <plugin.wasm>");
    for (const f of [ab.plugin, ab.baseline]) if (!existsSync(f)) throw new BenchError(`${f} is missing`);
    const opts = ctx.quick ? { rounds: ab.rounds ?? 2, batchMs: 25, warmMs: 40 } : { rounds: ab.rounds ?? 12, batchMs: 200, warmMs: 400 };
    const chosen = workloads().filter((w) => !ab.cases?.length || ab.cases.some((c) => w.name.includes(c)));
    if (!chosen.length) throw new BenchError(`no plugin-ab case matches ${ab.cases!.join(", ")}; cases: ${PLUGIN_AB_CASES.join(", ")}`);
    const rows: MicroResult[] = [
      { case: `module size, ${basename(ab.plugin)}`, baseline: "", opsPerSec: 0, value: statSync(ab.plugin).size, unit: "bytes" },
      { case: `module size, baseline ${basename(ab.baseline)}`, baseline: "", opsPerSec: 0, value: statSync(ab.baseline).size, unit: "bytes" },
    ];
    for (const w of chosen) {
      ctx.log(w.name);
      const fresh = await start(ab.plugin, w);
      const old = await start(ab.baseline, w);
      try {
        const send = (h: ProxyWasmHost) => () => h.request({ headers: w.headers, ...(w.body !== undefined ? { body: w.body } : {}) });
        const [pn, po] = [await send(fresh)(), await send(old)()];
        for (const [label, p] of [[basename(ab.plugin), pn], [`baseline ${basename(ab.baseline)}`, po]] as const) {
          const problem = p.trap ? `trapped: ${p.trap.message}` : w.check?.(p);
          if (problem) throw new BenchError(`${w.name}, ${label}: ${problem}`);
        }
        const sameAnswer = fingerprint(pn) === fingerprint(po);
        const extra = sameAnswer ? [] : ["the two builds answered the probe request differently"];
        const m = await measureCpuAb(send(fresh), send(old), opts);
        rows.push({
          case: w.name,
          baseline: basename(ab.baseline),
          // Requests per CPU-second, so that `ratio` reads like every other row (below 1: slower).
          opsPerSec: 1e6 / m.newUs,
          baselineOpsPerSec: 1e6 / m.oldUs,
          ratio: m.oldUs / m.newUs,
          usPerOp: m.newUs,
          notes: abNotes(m, extra),
          cpuAb: { ...m, sameAnswer },
        });
      } finally {
        fresh.close();
        old.close();
      }
    }
    return rows;
  },
};
