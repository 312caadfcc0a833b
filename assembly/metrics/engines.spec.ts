import { Engine, UNKNOWN_COUNT, UNKNOWN_FRACTION } from "../endpoints/endpoint";
import { readEngineMetrics, splitAdapters } from "./engines";
import { SGLANG, TRITON_TRTLLM, VLLM_SIM_LORA, VLLM_V1_DOCS } from "./testdata";

describe("engine mappings on the public samples", () => {
  it("SGLang: queue 2826, running 162, token usage 0.28", () => {
    let m = readEngineMetrics(SGLANG, Engine.Sglang);
    expect(m.waiting).toBe(2826);
    expect(m.running).toBe(162);
    expect(m.kvUsage).toBe(0.28);
    expect(m.malformed).toBe(0);
  });

  it("Triton TensorRT-LLM: waiting 1, scheduled 1, KV fraction 0.4875", () => {
    let m = readEngineMetrics(TRITON_TRTLLM, Engine.TritonTrtllm);
    expect(m.waiting).toBe(1);
    expect(m.running).toBe(1);
    expect(m.kvUsage).toBe(0.4875);
    expect(m.hasKv).toBe(true);
    expect(m.malformed).toBe(0);
  });

  it("vLLM V1 docs excerpt: running 8, queue and KV unknown (missing is not zero)", () => {
    let m = readEngineMetrics(VLLM_V1_DOCS, Engine.Vllm);
    expect(m.running).toBe(8);
    expect(m.hasWaiting).toBe(false);
    expect(m.waiting).toBe(UNKNOWN_COUNT);
    expect(m.kvUsage).toBe(UNKNOWN_FRACTION);
    expect(m.malformed).toBe(0);
  });

  it("vLLM LoRA info: the series with the newest value is current", () => {
    let m = readEngineMetrics(VLLM_SIM_LORA, Engine.Vllm);
    expect(m.activeLoras.join(",")).toBe("lora4,lora3");
    expect(m.waitingLoras.length).toBe(0);
    expect(m.maxLora).toBe(1);
    // Order of the series does not matter.
    let lines = VLLM_SIM_LORA.split("\n");
    let reversed = lines[1] + "\n" + lines[0] + "\n";
    let m2 = readEngineMetrics(reversed, Engine.Vllm);
    expect(m2.activeLoras.join(",")).toBe("lora4,lora3");
  });

  it("auto mode detects the engine from the names", () => {
    expect(readEngineMetrics(SGLANG, Engine.Auto).engine).toBe(Engine.Sglang);
    expect(readEngineMetrics(TRITON_TRTLLM, Engine.Auto).engine).toBe(Engine.TritonTrtllm);
    expect(readEngineMetrics(VLLM_SIM_LORA, Engine.Auto).engine).toBe(Engine.Vllm);
  });
});

class Case {
  constructor(public text: string, public engine: i32, public waiting: i32, public running: i32, public kv: f64) {}
}

const cases: Case[] = [
  new Case("vllm:num_requests_waiting 3\nvllm:num_requests_running 4\nvllm:kv_cache_usage_perc 0.5\n", Engine.Vllm, 3, 4, 0.5),
  // Older KV name, used only when the newer one is absent.
  new Case("vllm:num_requests_waiting 0\nvllm:gpu_cache_usage_perc 0.7\n", Engine.Vllm, 0, -1, 0.7),
  new Case("vllm:gpu_cache_usage_perc 0.7\nvllm:kv_cache_usage_perc 0.2\nvllm:num_requests_waiting 1\n", Engine.Vllm, 1, -1, 0.2),
  // Series per model are summed.
  new Case("vllm:num_requests_waiting{model_name=\"a\"} 2\nvllm:num_requests_waiting{model_name=\"b\"} 5\n", Engine.Vllm, 7, -1, -1),
  new Case("trtllm_num_requests_waiting 6\ntrtllm_num_requests_running 2\ntrtllm_kv_cache_utilization 0.9\n", Engine.TrtllmServe, 6, 2, 0.9),
  // Clamped: counts to >= 0, KV to [0, 1].
  new Case("sglang:num_queue_reqs -1\nsglang:num_queue_reqs 4\nsglang:token_usage 1.7\nsglang:num_running_reqs -3\n", Engine.Sglang, 4, 0, 1.0),
  new Case("vllm:kv_cache_usage_perc -0.5\nvllm:num_requests_waiting 0\nvllm:num_requests_running 0\n", Engine.Vllm, 0, 0, 0),
  // NaN / Inf in any series make the metric unknown; a missing metric is unknown.
  new Case("vllm:num_requests_waiting{a=\"1\"} 3\nvllm:num_requests_waiting{a=\"2\"} NaN\nvllm:kv_cache_usage_perc +Inf\n", Engine.Vllm, -1, -1, -1),
  new Case("vllm:num_requests_running -Inf\nvllm:kv_cache_usage_perc{r=\"0\"} 0.2\nvllm:kv_cache_usage_perc{r=\"1\"} 0.6\n", Engine.Vllm, -1, -1, 0.6),
  // The old KV name only when the new one is absent altogether (a NaN new one stays unknown).
  new Case("vllm:kv_cache_usage_perc NaN\nvllm:gpu_cache_usage_perc 0.3\n", Engine.Vllm, -1, -1, -1),
  new Case("vllm:gpu_cache_usage_perc 0.3\n", Engine.Vllm, -1, -1, 0.3),
  // Unterminated last line: not read.
  new Case("vllm:num_requests_waiting 2\nvllm:num_requests_running 5", Engine.Vllm, 2, -1, -1),
  new Case("", Engine.Vllm, -1, -1, -1),
  // Names of another engine are ignored when the engine is fixed.
  new Case("sglang:num_queue_reqs 9\nvllm:num_requests_waiting 1\n", Engine.Vllm, 1, -1, -1),
];

describe("engine mapping table", () => {
  it("maps each engine's series", () => {
    for (let i = 0; i < cases.length; i++) {
      let c = cases[i];
      let m = readEngineMetrics(c.text, c.engine);
      expect(m.waiting).toBe(c.waiting, c.text);
      expect(m.running).toBe(c.running, c.text);
      expect(m.kvUsage).toBe(c.kv, c.text);
    }
  });

  it("splits adapter lists", () => {
    expect(splitAdapters("").length).toBe(0);
    expect(splitAdapters("a, b,,a").join("|")).toBe("a|b");
  });

  it("garbage is counted, never fatal", () => {
    let m = readEngineMetrics("\u0000\u0001{}}}\nvllm:num_requests_waiting{ 3\nvllm:num_requests_waiting NaNx\n", Engine.Vllm);
    expect(m.hasWaiting).toBe(false);
    expect(m.malformed).toBe(2); // the first line names nothing wanted: skipped unread
  });

  it("LoRA: no series means no adapters and max_lora unknown; names with any byte survive", () => {
    let m = readEngineMetrics("vllm:num_requests_waiting 1\n", Engine.Vllm);
    expect(m.activeLoras.length).toBe(0);
    expect(m.maxLora).toBe(UNKNOWN_COUNT);
    let odd = readEngineMetrics("vllm:lora_requests_info{max_lora=\"x\",running_lora_adapters=\"a}b,c=\\\"d\\\\\\ne\tf\",waiting_lora_adapters=\"\"} 5\n", Engine.Vllm);
    expect(odd.activeLoras.length).toBe(2);
    expect(odd.activeLoras[0]).toBe("a}b");
    expect(odd.activeLoras[1]).toBe("c=\"d\\\ne\tf");
    expect(odd.maxLora).toBe(UNKNOWN_COUNT);
  });
});
