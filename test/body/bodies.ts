/** Helpers shared by the body tests: the fixture corpus and generated large bodies. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BODIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/bodies");

/** Every fixture body (relative path → bytes), golden.json and README excluded. */
export function fixtureBodies(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const dir of ["", "openai", "invalid"]) {
    for (const f of readdirSync(path.join(BODIES_DIR, dir)).sort()) {
      const full = path.join(BODIES_DIR, dir, f);
      if (!f.endsWith(".json") || f === "golden.json" || !statSync(full).isFile()) continue;
      out.set(dir ? `${dir}/${f}` : f, new Uint8Array(readFileSync(full)));
    }
  }
  return out;
}

export interface GoldenEntry {
  error?: string;
  model?: string | null;
  hasModel?: boolean;
  stream?: number;
  prompt?: string | null;
}

export function golden(): Record<string, GoldenEntry> {
  return JSON.parse(readFileSync(path.join(BODIES_DIR, "golden.json"), "utf8"));
}

/**
 * A chat body of about `targetBytes` bytes: a long multi-turn conversation with a final user
 * turn, deterministic (no randomness), model first or last.
 */
export function largeChatBody(targetBytes: number, model = "meta-llama/Llama-3.1-8B-Instruct", modelLast = false): string {
  const messages: Array<{ role: string; content: string }> = [{ role: "system", content: "You are a helpful assistant." }];
  let size = 200;
  let i = 0;
  while (size < targetBytes) {
    const text = `Turn ${i}: ` + "The quick brown fox jumps over the lazy dog. ".repeat(20) + `(caf\u00e9 \u65e5\u672c ${i})`;
    const message = { role: i % 2 === 0 ? "user" : "assistant", content: text };
    messages.push(message);
    size += Buffer.byteLength(JSON.stringify(message)) + 1;
    i++;
  }
  const doc = modelLast ? { messages, stream: true, model } : { model, messages, stream: true };
  return JSON.stringify(doc);
}
