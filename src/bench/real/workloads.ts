/**
 * Workloads of the real-stack benchmark: the macro suite's, plus a 220 KB-prompt workload (the
 * body size at which GIE users measured about 261 ms of body streaming to the EPP, GIE #2928):
 * a few users share one 220 KB document and ask follow-up questions about it.
 */
import { defaultWorkloads, SESSION_HEADER, type Workload } from "../../load/index.js";

/** Tokens of the filler text that make a 220 KB prompt (the load generator writes 4 chars a token). */
export const PROMPT_220KB_TOKENS = 55_000;

export const PROMPT_220KB_NAME = "220 KB prompt";

export function realWorkloads(scale = 1): Workload[] {
  const s = (n: number) => Math.max(1, Math.round(n * scale));
  return [
    ...defaultWorkloads(scale),
    {
      kind: "shared-prefix", name: PROMPT_220KB_NAME, groups: 2, usersPerGroup: s(2), turns: 3,
      systemPromptTokens: PROMPT_220KB_TOKENS, questionTokens: 60, outputTokens: 16, thinkMs: 5,
      sessionHeader: SESSION_HEADER, rampMs: 500,
    },
  ];
}

/** KV-cache blocks (of 16 tokens) a workload needs per server: the 220 KB prompt needs ~3,500. */
export function kvBlocksFor(w: Workload, base: number): number {
  return w.name === PROMPT_220KB_NAME ? Math.max(base, 16_384) : base;
}
