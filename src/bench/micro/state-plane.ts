/**
 * "state plane": what keeping endpoint state costs an Envoy worker. `build/plugin.wasm` scrapes
 * pools of 8, 64 and 1024 vLLM endpoints (default scrape settings: intervalMs 50, the default
 * budget) whose pages are 86 B (three gauges), 45 KB shaped like a real vLLM /metrics page
 * (histograms, process metrics), or what prometheus_client returns for the plugin's `?name[]=`
 * filter on that page. Plugin time is the wall time spent inside the VM's tick and http-call
 * response callbacks (parse, state update, publish, the other workers' reads), measured while
 * the virtual clock runs (medians per callback, so a busy machine's preemption stays out); a
 * worker's CPU share is its plugin time per virtual second. Also: one
 * ORCA report at 1024 endpoints (response-headers callback with and without the report).
 *
 * `WAYROUTE_BENCH_PLUGIN=<path>` measures another build of the plugin the same way (a before/
 * after comparison).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ProxyWasmHost } from "../../host/index.js";
import { BenchError, type MicroResult, type MicroSuite } from "../suite.js";

function addresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1:8000`);
}

const MODEL = "meta-llama/Llama-3.1-8B-Instruct";

/** The three gauges the scheduler reads (86 bytes). */
export function smallPage(): string {
  return "vllm:num_requests_waiting 3\nvllm:num_requests_running 5\nvllm:kv_cache_usage_perc 0.42\n";
}

function histogram(name: string, help: string, buckets: number[]): string {
  let s = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
  let c = 0;
  for (const b of buckets) {
    c += 17;
    s += `${name}_bucket{le="${b}",model_name="${MODEL}"} ${c}.0\n`;
  }
  s += `${name}_bucket{le="+Inf",model_name="${MODEL}"} ${c}.0\n${name}_count{model_name="${MODEL}"} ${c}.0\n${name}_sum{model_name="${MODEL}"} 1234.5678\n`;
  return s;
}

function gauge(name: string, help: string, value: string, labels = `model_name="${MODEL}"`): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}{${labels}} ${value}\n`;
}

/** ~45 KB shaped like a vLLM /metrics page: 14 histograms, counters, process metrics. */
export function vllmPage(): string {
  const secs = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
  const toks = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];
  let s = "";
  for (const [n, v] of [["python_gc_objects_collected_total", "1.2e+04"], ["process_virtual_memory_bytes", "3.4e+10"], ["process_resident_memory_bytes", "2.1e+09"], ["process_start_time_seconds", "1.7e+09"], ["process_cpu_seconds_total", "1234.5"], ["process_open_fds", "120"], ["process_max_fds", "1.048576e+06"]] as const) {
    s += `# HELP ${n} Process metric.\n# TYPE ${n} gauge\n${n} ${v}\n`;
  }
  s += gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig", "1.0", 'block_size="16",cache_dtype="auto",enable_prefix_caching="True",gpu_memory_utilization="0.9",num_cpu_blocks="2048",num_gpu_blocks="27000"');
  s += gauge("vllm:num_requests_running", "Number of requests in model execution batches.", "7.0");
  s += gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", "3.0");
  s += gauge("vllm:lora_requests_info", "Running stats on lora requests.", "1.7e+09", 'max_lora="4",running_lora_adapters="sql-lora,chat-lora",waiting_lora_adapters=""');
  s += gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", "0.42");
  for (const n of ["prefix_cache_queries", "prefix_cache_hits", "num_preemptions", "prompt_tokens", "generation_tokens"]) {
    s += `# HELP vllm:${n}_total Counter.\n# TYPE vllm:${n}_total counter\nvllm:${n}_total{model_name="${MODEL}"} 123456.0\n`;
  }
  s += `# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n`;
  for (const r of ["stop", "length", "abort", "error"]) s += `vllm:request_success_total{finished_reason="${r}",model_name="${MODEL}"} 42.0\n`;
  const hists: Array<[string, number[]]> = [
    ["time_to_first_token_seconds", secs], ["time_per_output_token_seconds", secs], ["inter_token_latency_seconds", secs],
    ["e2e_request_latency_seconds", secs], ["request_queue_time_seconds", secs], ["request_inference_time_seconds", secs],
    ["request_prefill_time_seconds", secs], ["request_decode_time_seconds", secs], ["request_prompt_tokens", toks],
    ["request_generation_tokens", toks], ["iteration_tokens_total", toks], ["request_max_num_generation_tokens", toks],
    ["request_params_n", [1, 2, 5, 10, 20]], ["request_params_max_tokens", toks],
  ];
  for (const [n, b] of hists) s += histogram(`vllm:${n}`, "Histogram.", b);
  while (s.length < 45 * 1024) s += `# HELP vllm:spec_decode_pad Padding.\n# TYPE vllm:spec_decode_pad gauge\nvllm:spec_decode_pad{model_name="${MODEL}",position="${s.length}"} 0.0\n`;
  return s;
}

/** What prometheus_client returns for the plugin's `?name[]=` request on the vLLM page. */
export function filteredPage(): string {
  return (
    gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", "3.0") +
    gauge("vllm:num_requests_running", "Number of requests in model execution batches.", "7.0") +
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", "0.42") +
    gauge("vllm:lora_requests_info", "Running stats on lora requests.", "1.7e+09", 'max_lora="4",running_lora_adapters="sql-lora,chat-lora",waiting_lora_adapters=""')
  );
}

/** A VM the timer watches: Envoy's main thread (it ticks and may hold the scrape lease) or a worker. */
interface Thread {
  label: string;
  vm: { call(name: string, ctx: number, ...a: number[]): number | undefined };
}

function threads(h: ProxyWasmHost): Thread[] {
  const out: Thread[] = [];
  const main = h.mainThread?.vm;
  if (main) out.push({ label: "main", vm: main as unknown as Thread["vm"] });
  for (let w = 0; w < h.workers.length; w++) out.push({ label: `worker ${w}`, vm: h.worker(w).vm as unknown as Thread["vm"] });
  return out;
}

/** One timed callback: its wall time, the part before its first shared-data call, the host calls' part. */
interface Sample {
  ms: number;
  beforeSharedMs: number;
  hostMs: number;
}

/** Medians of a callback's samples (each figure on its own) and how many calls there were. */
interface Medians {
  ms: number;
  beforeSharedMs: number;
  hostMs: number;
  calls: number;
}

/**
 * Wall time inside named exports, per VM and export, one sample per call. Each sample is also
 * split at the callback's first shared-data call: for a scrape result or an ORCA report, what
 * comes before is reading and parsing (status, page or header, the endpoint's fields), what
 * comes after is the publish (record, counter, journal entry). And the time spent inside the
 * harness's host functions (`onHostCall`) is summed per sample: Envoy's C++ host functions cost
 * less than these JavaScript ones. The machine may be shared: medians (not sums) keep other
 * processes' preemption out of the figures.
 */
class CallTimer {
  readonly samples = new Map<string, Sample[]>();
  private firstShared = -1;
  private hostMs = 0;
  /** Give to ProxyWasmHostOptions.onHostCall. */
  readonly onHostCall = (_name: string, ms: number): void => {
    this.hostMs += ms;
  };
  constructor(private readonly names: string[]) {}

  attach(h: ProxyWasmHost): void {
    const store = h.sharedData as unknown as { get(...a: unknown[]): unknown; set(...a: unknown[]): unknown };
    const get = store.get.bind(store);
    const set = store.set.bind(store);
    store.get = (...a: unknown[]) => {
      if (this.firstShared < 0) this.firstShared = performance.now();
      return get(...a);
    };
    store.set = (...a: unknown[]) => {
      if (this.firstShared < 0) this.firstShared = performance.now();
      return set(...a);
    };
    for (const th of threads(h)) {
      const vm = th.vm;
      const orig = vm.call.bind(vm);
      vm.call = (name: string, ctx: number, ...a: number[]) => {
        if (!this.names.includes(name)) return orig(name, ctx, ...a);
        this.firstShared = -1;
        this.hostMs = 0;
        const t = performance.now();
        try {
          return orig(name, ctx, ...a);
        } finally {
          const end = performance.now();
          const k = `${th.label} ${name}`;
          let list = this.samples.get(k);
          if (!list) this.samples.set(k, (list = []));
          list.push({ ms: end - t, beforeSharedMs: (this.firstShared >= t ? this.firstShared : end) - t, hostMs: this.hostMs });
        }
      };
    }
  }
  reset(): void {
    this.samples.clear();
  }
  /** Medians of `name` on thread `label`. */
  median(label: string, name: string): Medians {
    const list = this.samples.get(`${label} ${name}`) ?? [];
    const mid = (xs: number[]) => (xs.length ? xs.sort((a, b) => a - b)[xs.length >> 1]! : 0);
    return { ms: mid(list.map((s) => s.ms)), beforeSharedMs: mid(list.map((s) => s.beforeSharedMs)), hostMs: mid(list.map((s) => s.hostMs)), calls: list.length };
  }
}

const WORKERS = 2;

interface ScrapeFigures {
  /** Plugin time of every VM's ticks and scrape results, per scrape (the older headline figure). */
  usPerScrape: number;
  /** One scrape result (http-call response callback, median) on the VM that scrapes. */
  resultUs: number;
  /** Its part before the first shared-data call: status, page read and parse, the endpoint's fields. */
  parseUs: number;
  /** Its part from the first shared-data call on: the publish. */
  publishUs: number;
  /** Of the scrape result, the time inside the harness's host functions. */
  hostUs: number;
  scrapesPerSec: number;
  /** Which VM held the lease, and its CPU share (ticks and results per virtual second). */
  scraper: string;
  scraperPct: number;
  /** The busiest worker's CPU share (its own ticks: journal reads; plus results if it scrapes). */
  workerPct: number;
  /** Median tick per VM, e.g. "main 40.1, worker 0 6.2, worker 1 6.0" (µs). */
  ticks: string;
}

async function scrapeCase(plugin: string, n: number, page: string, virtualMs: number): Promise<ScrapeFigures> {
  let scrapes = 0;
  const timer = new CallTimer(["proxy_on_tick", "proxy_on_http_call_response"]);
  const body = new TextEncoder().encode(page);
  const h = await ProxyWasmHost.create({
    module: plugin,
    workers: WORKERS,
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: { pools: [{ name: "bench", endpoints: addresses(n).map((address) => ({ address })), scrape: { engine: "vllm", cluster: "pool" } }] },
    clusters: { pool: () => { scrapes++; return { status: 200, body }; } },
    onHostCall: timer.onHostCall,
  });
  if (!h.configured) throw new BenchError(`plugin.wasm refused the state-plane configuration (${n} endpoints)`);
  try {
    timer.attach(h);
    for (let t = 0; t < 1000; t += 100) {
      await h.advance(100);
      await h.settle();
    }
    timer.reset();
    scrapes = 0;
    for (let t = 0; t < virtualMs; t += 100) {
      await h.advance(100);
      await h.settle();
    }
    if (scrapes === 0) throw new BenchError(`no scrapes happened (${n} endpoints)`);
    // Per VM: median callback times x calls.
    let totalMs = 0;
    let responses = 0;
    let scraper = "";
    let scraperPct = 0;
    let workerPct = 0;
    let result: Medians = { ms: 0, beforeSharedMs: 0, hostMs: 0, calls: 0 };
    const ticks: string[] = [];
    for (const th of threads(h)) {
      const tick = timer.median(th.label, "proxy_on_tick");
      ticks.push(`${th.label} ${(tick.ms * 1000).toFixed(1)}`);
      const resp = timer.median(th.label, "proxy_on_http_call_response");
      const busy = tick.ms * tick.calls + resp.ms * resp.calls;
      const pct = (busy / virtualMs) * 100;
      totalMs += busy;
      responses += resp.calls;
      if (resp.calls > result.calls) {
        result = resp;
        scraper = th.label;
        scraperPct = pct;
      }
      if (th.label !== "main") workerPct = Math.max(workerPct, pct);
    }
    return {
      usPerScrape: (totalMs * 1000) / Math.max(1, responses),
      resultUs: result.ms * 1000,
      parseUs: result.beforeSharedMs * 1000,
      publishUs: (result.ms - result.beforeSharedMs) * 1000,
      hostUs: result.hostMs * 1000,
      scrapesPerSec: (scrapes * 1000) / virtualMs,
      scraper,
      scraperPct,
      workerPct,
      ticks: ticks.join(", "),
    };
  } finally {
    h.close();
  }
}

interface OrcaFigures {
  /** Response-headers callback with a report (median). */
  withUs: number;
  /** Its part before the first shared-data call: header read and parse, the served endpoint, apply. */
  parseUs: number;
  /** From the first shared-data call on: the publish. */
  publishUs: number;
  /** Of the callback with a report, the time inside the harness's host functions. */
  hostUs: number;
  /** The same callback without a report. */
  withoutUs: number;
}

async function orcaCase(plugin: string, n: number, requests: number): Promise<OrcaFigures> {
  const timer = new CallTimer(["proxy_on_response_headers"]);
  const h = await ProxyWasmHost.create({
    module: plugin,
    workers: WORKERS,
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: { pools: [{ name: "bench", endpoints: addresses(n).map((address) => ({ address })), steering: { maxEndpoints: 1 } }] },
    onHostCall: timer.onHostCall,
  });
  if (!h.configured) throw new BenchError(`plugin.wasm refused the ORCA configuration (${n} endpoints)`);
  try {
    timer.attach(h);
    const run = async (orca: boolean) => {
      timer.reset();
      for (let i = 0; i < requests; i++) {
        const headers: Record<string, string> = orca ? { "endpoint-load-metrics": `TEXT named_metrics.num_requests_waiting=${i % 7}, named_metrics.kv_cache_usage_perc=0.${i % 10}` } : {};
        await h.request({ worker: i % WORKERS, upstream: { status: 200, headers } });
      }
      return timer.median("worker 0", "proxy_on_response_headers");
    };
    await run(true); // warm
    const w = await run(true);
    const wo = await run(false);
    return { withUs: w.ms * 1000, parseUs: w.beforeSharedMs * 1000, publishUs: (w.ms - w.beforeSharedMs) * 1000, hostUs: w.hostMs * 1000, withoutUs: wo.ms * 1000 };
  } finally {
    h.close();
  }
}

export const statePlaneSuite: MicroSuite = {
  name: "state-plane",
  description: "state plane: plugin time per scrape (86 B, 45 KB vLLM page, 45 KB page filtered by ?name[]=) at 8/64/1024 endpoints, one worker's CPU share at default scrape settings, ORCA report cost",
  async run(ctx): Promise<MicroResult[]> {
    const plugin = process.env.WAYROUTE_BENCH_PLUGIN ?? join(ctx.repoRoot, "build/plugin.wasm");
    if (!existsSync(plugin)) throw new BenchError(`${plugin} is missing: run 'npm run build:wasm'`);
    const label = process.env.WAYROUTE_BENCH_PLUGIN ? "given plugin" : "plugin.wasm";
    const pages: Array<[string, string]> = [["86 B", smallPage()], ["45 KB vLLM page", vllmPage()], ["45 KB page, ?name[]= filtered", filteredPage()]];
    const rows: MicroResult[] = [];
    const virtualMs = ctx.quick ? 1000 : 3000;
    for (const n of [8, 64, 1024]) {
      for (const [name, page] of pages) {
        ctx.log(`${n} endpoints, ${name}`);
        const r = await scrapeCase(plugin, n, page, virtualMs);
        rows.push({
          case: `state plane: ${n} endpoints, ${name}`,
          baseline: "",
          opsPerSec: 1e6 / r.usPerScrape,
          usPerOp: r.usPerScrape,
          notes:
            `${label}: ${r.usPerScrape.toFixed(1)} µs per scrape incl. every VM's ticks (${page.length} B page); ` +
            `one scrape result ${r.resultUs.toFixed(1)} µs = read and parse ${r.parseUs.toFixed(1)} + publish ${r.publishUs.toFixed(1)}, of which host calls ${r.hostUs.toFixed(1)}; ` +
            `${r.scrapesPerSec.toFixed(0)} scrapes per virtual s; scraper (${r.scraper}) ${r.scraperPct.toFixed(1)} % CPU, busiest worker ${r.workerPct.toFixed(1)} % CPU; ` +
            `median tick µs: ${r.ticks}`,
        });
      }
    }
    ctx.log("ORCA report, 1024 endpoints");
    const o = await orcaCase(plugin, 1024, ctx.quick ? 100 : 400);
    rows.push({
      case: "state plane: ORCA report, 1024 endpoints",
      baseline: "",
      opsPerSec: 1e6 / o.withUs,
      usPerOp: o.withUs,
      notes:
        `${label}: response-headers callback (median) ${o.withUs.toFixed(1)} µs with a report = read, parse and apply ${o.parseUs.toFixed(1)} + publish ${o.publishUs.toFixed(1)}, of which host calls ${o.hostUs.toFixed(1)}; ` +
        `${o.withoutUs.toFixed(1)} µs without`,
    });
    return rows;
  },
};
