// Engine mappings: which Prometheus series of each model server carry queue depth, running
// requests, KV-cache use and LoRA adapters (names as GIE's model-server protocol maps them), and
// the rules that turn one scrape page into load values:
// - Unknown is not zero: NaN, +Inf, -Inf in any series of a metric, or a metric missing from the
//   page, make that value unknown (UNKNOWN_COUNT / UNKNOWN_FRACTION). A real 0 stays 0. Counts
//   are clamped to >= 0 and utilisation to [0, 1].
// - Several series of one metric (per model name, data-parallel rank): counts are summed,
//   utilisation takes the maximum.
// - `vllm:lora_requests_info`: each series is a snapshot whose VALUE is its wall-clock time; the
//   one with the largest value (then the latest sample timestamp) is current. A page without it
//   means no adapters and an unknown max_lora.
// - Whole-name matches only: `…_total`, `…_by_reason` or a name in HELP text are other metrics.
import { Engine, UNKNOWN_COUNT, UNKNOWN_FRACTION } from "../endpoints/endpoint";
import { NameSet, PromReader } from "./prometheus";
import { parseDecimal } from "./number";

// What a wanted name feeds.
const WAITING = 0;
const RUNNING = 1;
const KV = 2;
/** vllm:gpu_cache_usage_perc: older vLLM; used only when the current name is absent. */
const KV_OLD = 3;
const LORA = 4;
/** Triton: one name, the role is in the request_type / kv_cache_block_type label. */
const TRITON_REQUESTS = 5;
const TRITON_KV_BLOCKS = 6;

const MAX_COUNT: f64 = 1_000_000_000;

class Wanted {
  set: NameSet = new NameSet();
  engines: i32[] = [];
  roles: i32[] = [];

  add(name: string, engine: i32, role: i32): void {
    this.set.add(name);
    this.engines.push(engine);
    this.roles.push(role);
  }
}

function wantedFor(engine: i32): Wanted {
  let w = new Wanted();
  if (engine == Engine.Auto || engine == Engine.Vllm) {
    w.add("vllm:num_requests_waiting", Engine.Vllm, WAITING);
    w.add("vllm:num_requests_running", Engine.Vllm, RUNNING);
    w.add("vllm:kv_cache_usage_perc", Engine.Vllm, KV);
    w.add("vllm:gpu_cache_usage_perc", Engine.Vllm, KV_OLD);
    w.add("vllm:lora_requests_info", Engine.Vllm, LORA);
  }
  if (engine == Engine.Auto || engine == Engine.Sglang) {
    w.add("sglang:num_queue_reqs", Engine.Sglang, WAITING);
    w.add("sglang:num_running_reqs", Engine.Sglang, RUNNING);
    w.add("sglang:token_usage", Engine.Sglang, KV);
  }
  if (engine == Engine.Auto || engine == Engine.TrtllmServe) {
    w.add("trtllm_num_requests_waiting", Engine.TrtllmServe, WAITING);
    w.add("trtllm_num_requests_running", Engine.TrtllmServe, RUNNING);
    w.add("trtllm_kv_cache_utilization", Engine.TrtllmServe, KV);
  }
  if (engine == Engine.Auto || engine == Engine.TritonTrtllm) {
    w.add("nv_trt_llm_request_metrics", Engine.TritonTrtllm, TRITON_REQUESTS);
    w.add("nv_trt_llm_kv_cache_block_metrics", Engine.TritonTrtllm, TRITON_KV_BLOCKS);
  }
  return w;
}

// Built once per engine on first use: the reader's name set is reused by every scrape.
const WANTED: Array<Wanted | null> = [null, null, null, null, null];

function wanted(engine: i32): Wanted {
  let e = engine >= 0 && engine <= 4 ? engine : 0;
  let w = WANTED[e];
  if (w == null) {
    w = wantedFor(e);
    WANTED[e] = w;
  }
  return w;
}

/** The metric names a scrape of `engine` reads (Auto: every engine's), for `?name[]=` filters. */
export function metricNames(engine: i32): string[] {
  return wanted(engine).set.names;
}

/** One value being summed (counts) or maxed (utilisation) over the page's series. */
class Acc {
  seen: bool = false;
  poisoned: bool = false;
  value: f64 = 0;

  count(v: f64): void {
    if (!isFinite(v)) { this.poisoned = true; return; }
    this.value = this.seen ? this.value + (v < 0 ? 0 : v) : (v < 0 ? 0 : v);
    this.seen = true;
  }

  fraction(v: f64): void {
    if (!isFinite(v)) { this.poisoned = true; return; }
    let f = v < 0 ? 0 : v > 1 ? 1 : v;
    if (!this.seen || f > this.value) this.value = f;
    this.seen = true;
  }

  get known(): bool {
    return this.seen && !this.poisoned;
  }

  asCount(): i32 {
    return this.known ? <i32>Math.round(this.value < MAX_COUNT ? this.value : MAX_COUNT) : UNKNOWN_COUNT;
  }

  asFraction(): f64 {
    return this.known ? this.value : UNKNOWN_FRACTION;
  }

  reset(): void {
    this.seen = false;
    this.poisoned = false;
    this.value = 0;
  }
}

/** An empty adapter list shared by every result without LoRA series (never appended to). */
export const NO_ADAPTERS: string[] = [];

// Scratch state reused by every read (one scrape at a time per VM): no allocation per page
// beyond the result's adapter lists.
const READER = new PromReader(0, 0, null);
const WAITING_ACC = new Acc();
const RUNNING_ACC = new Acc();
const KV_ACC = new Acc();
const KV_OLD_ACC = new Acc();

export class EngineMetrics {
  /** Engine whose names matched (the configured one, or the one detected in auto mode). */
  engine: i32 = Engine.Auto;
  /** Values; UNKNOWN_COUNT / UNKNOWN_FRACTION when not (validly) reported. */
  waiting: i32 = UNKNOWN_COUNT;
  running: i32 = UNKNOWN_COUNT;
  kvUsage: f64 = UNKNOWN_FRACTION;
  activeLoras: string[] = NO_ADAPTERS;
  waitingLoras: string[] = NO_ADAPTERS;
  /** max_lora of the current LoRA series; UNKNOWN_COUNT without one (or unparsable). */
  maxLora: i32 = UNKNOWN_COUNT;
  /** Wanted lines that were not valid samples, plus recognised samples with unusable values. */
  malformed: i32 = 0;
  samples: i32 = 0;
  /** The page's last line had no newline (cut): it was not read. */
  cutLine: bool = false;

  get hasWaiting(): bool {
    return this.waiting >= 0;
  }
  get hasRunning(): bool {
    return this.running >= 0;
  }
  get hasKv(): bool {
    return this.kvUsage >= 0;
  }
}

/** Splits a comma-separated adapter list; empty text is an empty list. */
export function splitAdapters(text: string): string[] {
  let out: string[] = [];
  if (text.length == 0) return out;
  let parts = text.split(",");
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i].trim();
    if (p.length > 0 && !out.includes(p)) out.push(p);
  }
  return out;
}

/** `max_lora` label text: digits (surrounding blanks allowed), else unknown. Capped at 1e6. */
function maxLoraOf(text: string | null): i32 {
  let v = parseDecimal(text, 12);
  return v < 0 ? UNKNOWN_COUNT : v > 1_000_000 ? 1_000_000 : <i32>v;
}

/** Reads the scrape page `text` for `engine` (tests and tools; the plugin reads bytes). */
export function readEngineMetrics(text: string, engine: i32): EngineMetrics {
  let buf = String.UTF8.encode(text, false);
  return readEngineMetricsBytes(changetype<usize>(buf), buf.byteLength, engine);
}

/**
 * Reads a scrape page of `len` UTF-8 bytes at `base` for `engine` (Engine.Auto: the engine of
 * the first wanted series) into `m` (reset first). Never traps. Only lines that end in a
 * newline count. The LoRA series' labels are decoded once, for the current series only.
 */
export function readEngineMetricsBytes(base: usize, len: i32, engine: i32, m: EngineMetrics = new EngineMetrics()): EngineMetrics {
  m.engine = engine;
  m.activeLoras = NO_ADAPTERS;
  m.waitingLoras = NO_ADAPTERS;
  m.maxLora = UNKNOWN_COUNT;
  m.malformed = 0;
  let w = wanted(engine);
  let r = READER;
  r.reset(base, len, w.set);
  let waiting = WAITING_ACC;
  let running = RUNNING_ACC;
  let kv = KV_ACC;
  let kvOld = KV_OLD_ACC;
  waiting.reset();
  running.reset();
  kv.reset();
  kvOld.reset();
  let loraBest: f64 = -Infinity;
  let loraBestTs: i64 = i64.MIN_VALUE;
  let loraSeen = false;
  let loraLabelsStart = 0;
  let loraLabelsEnd = 0;
  while (r.next()) {
    let id = r.nameId;
    let fam = unchecked(w.engines[id]);
    if (m.engine == Engine.Auto) m.engine = fam;
    if (fam != m.engine) continue;
    let v = r.value;
    let role = unchecked(w.roles[id]);
    if (!isFinite(v) && role != LORA) m.malformed++;
    switch (role) {
      case WAITING: waiting.count(v); break;
      case RUNNING: running.count(v); break;
      case KV: kv.fraction(v); break;
      case KV_OLD: kvOld.fraction(v); break;
      case TRITON_REQUESTS: {
        if (r.labelIs("request_type", "waiting")) waiting.count(v);
        else if (r.labelIs("request_type", "scheduled")) running.count(v);
        break;
      }
      case TRITON_KV_BLOCKS: {
        if (r.labelIs("kv_cache_block_type", "fraction")) kv.fraction(v);
        break;
      }
      case LORA: {
        if (!isFinite(v)) { m.malformed++; break; }
        let ts = r.timestampMs;
        if (!loraSeen || v > loraBest || (v == loraBest && ts > loraBestTs)) {
          loraSeen = true;
          loraBest = v;
          loraBestTs = ts;
          loraLabelsStart = r.labelsStart;
          loraLabelsEnd = r.labelsEnd;
        }
        break;
      }
    }
  }
  if (loraSeen) {
    r.labelsStart = loraLabelsStart;
    r.labelsEnd = loraLabelsEnd;
    let running = r.label("running_lora_adapters");
    let waitingL = r.label("waiting_lora_adapters");
    m.activeLoras = splitAdapters(running != null ? running : "");
    m.waitingLoras = splitAdapters(waitingL != null ? waitingL : "");
    m.maxLora = maxLoraOf(r.label("max_lora"));
  }
  m.waiting = waiting.asCount();
  m.running = running.asCount();
  // The old KV name counts only when the current one is absent from the page altogether.
  m.kvUsage = kv.seen || kv.poisoned ? kv.asFraction() : kvOld.asFraction();
  m.malformed += r.malformed;
  m.samples = r.samples;
  m.cutLine = r.cutLine;
  return m;
}
