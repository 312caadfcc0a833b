// Engine mappings: which Prometheus series of each model server carry queue depth, running
// requests, KV-cache use and LoRA adapters (names as GIE's model-server protocol maps them).
//
// Several series of one gauge (e.g. one per `model_name`) are summed for counts and maxed for
// KV use: both describe the one server. `vllm:lora_requests_info` is different: each series is a
// snapshot whose VALUE is its wall-clock time, and only the newest (largest value, then largest
// sample timestamp) is current, as GIE reads it.
import { Engine } from "../endpoints/endpoint";
import { PromReader } from "./prometheus";

export class EngineMetrics {
  /** Engine whose names matched (the configured one, or the one detected in auto mode). */
  engine: i32 = Engine.Auto;
  waiting: i32 = 0;
  running: i32 = 0;
  kvUsage: f64 = 0;
  hasWaiting: bool = false;
  hasRunning: bool = false;
  hasKv: bool = false;
  hasLora: bool = false;
  activeLoras: string[] = [];
  waitingLoras: string[] = [];
  maxLora: i32 = 0;
  /** Lines that were not valid samples, plus recognised samples with unusable values. */
  malformed: i32 = 0;
  samples: i32 = 0;

  /** A scrape is usable when it told us the queue or the KV use. */
  get usable(): bool {
    return this.hasWaiting || this.hasKv;
  }
}

function familyOf(r: PromReader): i32 {
  if (r.nameStartsWith("vllm:")) return Engine.Vllm;
  if (r.nameStartsWith("sglang:")) return Engine.Sglang;
  if (r.nameStartsWith("trtllm_")) return Engine.TrtllmServe;
  if (r.nameStartsWith("nv_trt_llm_")) return Engine.TritonTrtllm;
  return Engine.Auto;
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

function toCount(v: f64): i32 {
  if (!isFinite(v) || v < 0) return -1;
  if (v > 1e9) return 1_000_000_000;
  return <i32>Math.round(v);
}

/**
 * Reads a /metrics body for `engine` (Engine.Auto: detect from the first recognised series).
 * Never traps; an unusable scrape has `usable == false`.
 */
export function readEngineMetrics(text: string, engine: i32): EngineMetrics {
  let m = new EngineMetrics();
  m.engine = engine;
  let r = new PromReader(text);
  let kvOld: f64 = -1; // vllm:gpu_cache_usage_perc, used only when the new name is absent
  let loraBest: f64 = -Infinity;
  let loraBestTs: i64 = i64.MIN_VALUE;
  while (r.next()) {
    let fam = familyOf(r);
    if (fam == Engine.Auto) continue;
    if (m.engine == Engine.Auto) m.engine = fam;
    if (fam != m.engine) continue;
    let v = r.value;
    switch (fam) {
      case Engine.Vllm: {
        if (r.nameIs("vllm:num_requests_waiting")) {
          addWaiting(m, v);
        } else if (r.nameIs("vllm:num_requests_running")) {
          addRunning(m, v);
        } else if (r.nameIs("vllm:kv_cache_usage_perc")) {
          setKv(m, v);
        } else if (r.nameIs("vllm:gpu_cache_usage_perc")) {
          if (isFinite(v) && v >= 0 && v > kvOld) kvOld = v;
          else if (!isFinite(v) || v < 0) m.malformed++;
        } else if (r.nameIs("vllm:lora_requests_info")) {
          if (!isFinite(v)) { m.malformed++; break; }
          let ts = r.timestampMs;
          if (v > loraBest || (v == loraBest && ts > loraBestTs)) {
            let running = r.label("running_lora_adapters");
            let waiting = r.label("waiting_lora_adapters");
            let maxLora = r.label("max_lora");
            let ml: i32 = 0;
            if (maxLora != null) {
              let parsed = parseFloat(maxLora);
              ml = isFinite(parsed) && parsed >= 0 ? <i32>Math.min(parsed, 1e6) : 0;
            }
            loraBest = v;
            loraBestTs = ts;
            m.activeLoras = splitAdapters(running != null ? running : "");
            m.waitingLoras = splitAdapters(waiting != null ? waiting : "");
            m.maxLora = ml;
            m.hasLora = true;
          }
        }
        break;
      }
      case Engine.Sglang: {
        if (r.nameIs("sglang:num_queue_reqs")) addWaiting(m, v);
        else if (r.nameIs("sglang:num_running_reqs")) addRunning(m, v);
        else if (r.nameIs("sglang:token_usage")) setKv(m, v);
        break;
      }
      case Engine.TrtllmServe: {
        if (r.nameIs("trtllm_num_requests_waiting")) addWaiting(m, v);
        else if (r.nameIs("trtllm_num_requests_running")) addRunning(m, v);
        else if (r.nameIs("trtllm_kv_cache_utilization")) setKv(m, v);
        break;
      }
      case Engine.TritonTrtllm: {
        if (r.nameIs("nv_trt_llm_request_metrics")) {
          if (r.labelIs("request_type", "waiting")) addWaiting(m, v);
          else if (r.labelIs("request_type", "scheduled")) addRunning(m, v);
        } else if (r.nameIs("nv_trt_llm_kv_cache_block_metrics")) {
          if (r.labelIs("kv_cache_block_type", "fraction")) setKv(m, v);
        }
        break;
      }
    }
  }
  if (!m.hasKv && kvOld >= 0) {
    m.kvUsage = kvOld > 1.0 ? 1.0 : kvOld;
    m.hasKv = true;
  }
  m.malformed += r.malformed;
  m.samples = r.samples;
  return m;
}

function addWaiting(m: EngineMetrics, v: f64): void {
  let c = toCount(v);
  if (c < 0) { m.malformed++; return; }
  m.waiting = m.hasWaiting ? min(m.waiting + c, 1_000_000_000) : c;
  m.hasWaiting = true;
}

function addRunning(m: EngineMetrics, v: f64): void {
  let c = toCount(v);
  if (c < 0) { m.malformed++; return; }
  m.running = m.hasRunning ? min(m.running + c, 1_000_000_000) : c;
  m.hasRunning = true;
}

function setKv(m: EngineMetrics, v: f64): void {
  if (!isFinite(v) || v < 0) { m.malformed++; return; }
  let kv = v > 1.0 ? 1.0 : v;
  if (!m.hasKv || kv > m.kvUsage) m.kvUsage = kv;
  m.hasKv = true;
}
