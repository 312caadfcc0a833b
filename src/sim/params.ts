/**
 * Parameters of the simulated model server and where their defaults come from.
 * See docs/simulator.md for the sources of every figure.
 *
 * All durations are in *model* milliseconds (what a real GPU server would take). The simulator
 * runs `speedup` times faster than real time so a benchmark fits in seconds: with `speedup: 10`,
 * a 600 ms prefill takes 60 ms of wall-clock time.
 */
export interface SimParams {
  /** Served (base) model name, as in vLLM's `--served-model-name`. */
  model: string;
  /** LoRA adapters this server can load (requests name them in `model`). */
  adapters: string[];
  /** How many adapters fit on the GPU at once (vLLM `--max-loras`). */
  maxLoras: number;
  /** Time to load an adapter into a free slot, added to the first request's prefill. */
  loraLoadMs: number;
  /** Running-batch limit (vLLM `--max-num-seqs`). */
  maxBatch: number;
  /** Requests waiting beyond this are refused with 503 (vLLM has no limit; keeps the sim bounded). */
  maxWaiting: number;
  /** Tokens per KV-cache block (vLLM `--block-size`, 16 by default on GPUs). */
  blockTokens: number;
  /** KV-cache capacity in blocks (vLLM's `num_gpu_blocks`). */
  kvBlocks: number;
  /** Characters per token used to turn prompt text into token counts. */
  charsPerToken: number;
  /** Prefill cost per prompt token not found in the prefix cache. */
  prefillMsPerToken: number;
  /** Prefill tokens processed per engine iteration at most (vLLM `--max-num-batched-tokens`). */
  maxBatchedTokens: number;
  /** Fixed cost of one engine iteration (one decode step at batch size 1). */
  decodeBaseMs: number;
  /** Extra iteration cost per running sequence (decode slows as the batch grows). */
  decodePerSeqMs: number;
  /** Output tokens when the request does not set `max_tokens`. */
  defaultMaxTokens: number;
  /** Upper bound on `max_tokens` honoured (keeps load bounded). */
  maxOutputTokens: number;
  /** Speed-up of model time over wall-clock time. */
  speedup: number;
  /** Wall-clock interval of the engine loop, in ms. Tokens produced within one tick leave in one write. */
  tickMs: number;
  /** When to send an ORCA `endpoint-load-metrics` response header. */
  orca: "off" | "always" | "on-request";
}

/**
 * Defaults: an 8-way batch, a KV cache of 512 blocks of 16 tokens (8,192 tokens, scaled down from
 * hundreds of thousands on a real GPU so that a few long shared prefixes already compete for it),
 * prefill cost taken from llm-d's published Qwen3-32B figures (10k-token prompt: 4.3 s cold, 0.6 s
 * warm, i.e. about 0.37 ms per uncached token), decode steps of tens of milliseconds.
 */
export const DEFAULT_SIM_PARAMS: SimParams = {
  model: "sim-llm",
  adapters: ["sql-lora", "chat-lora", "code-lora", "math-lora"],
  maxLoras: 2,
  loraLoadMs: 200,
  maxBatch: 8,
  maxWaiting: 256,
  blockTokens: 16,
  kvBlocks: 512,
  charsPerToken: 4,
  prefillMsPerToken: 0.37,
  maxBatchedTokens: 2048,
  decodeBaseMs: 25,
  decodePerSeqMs: 1.5,
  defaultMaxTokens: 16,
  maxOutputTokens: 256,
  speedup: 4,
  tickMs: 5,
  orca: "on-request",
};

/** An invalid simulator parameter; the message names it. */
export class SimParamError extends Error {
  readonly code = "E_SIM_PARAM";
}

/** Merges overrides onto the defaults and validates the result. */
export function resolveSimParams(overrides: Partial<SimParams> = {}): SimParams {
  const p: SimParams = { ...DEFAULT_SIM_PARAMS, ...overrides };
  const positive: (keyof SimParams)[] = [
    "maxBatch", "blockTokens", "kvBlocks", "charsPerToken", "maxBatchedTokens", "speedup", "tickMs", "maxOutputTokens",
  ];
  for (const k of positive) {
    const v = p[k];
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
      throw new SimParamError(`sim parameter ${k} must be a positive number, got ${String(v)}`);
    }
  }
  const nonNegative: (keyof SimParams)[] = [
    "maxLoras", "loraLoadMs", "maxWaiting", "prefillMsPerToken", "decodeBaseMs", "decodePerSeqMs", "defaultMaxTokens",
  ];
  for (const k of nonNegative) {
    const v = p[k];
    if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v)) {
      throw new SimParamError(`sim parameter ${k} must be a number >= 0, got ${String(v)}`);
    }
  }
  if (!["off", "always", "on-request"].includes(p.orca)) {
    throw new SimParamError(`sim parameter orca must be off, always or on-request, got ${String(p.orca)}`);
  }
  return p;
}
