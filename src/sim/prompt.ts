/**
 * Turns an OpenAI-style request body into the text a model server would tokenize, and that
 * text into chained KV-block hashes, the way vLLM's prefix cache keys blocks: each block's hash
 * covers its own tokens and its parent's hash, so two prompts share cached blocks exactly as far
 * as their beginnings agree.
 */

/** Thrown for a body the simulator cannot serve; becomes an OpenAI-style 400 reply. */
export class SimRequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly code = "E_SIM_REQUEST",
  ) {
    super(message);
  }
}

/** What the simulator needs from a parsed request body. */
export interface ParsedPrompt {
  model: string;
  text: string;
  maxTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === "object" && typeof (part as { text?: unknown }).text === "string" ? (part as { text: string }).text : ""))
      .join("");
  }
  return "";
}

/**
 * Renders chat messages with a simple chat template: `<|role|>\ncontent\n` per message, then the
 * generation prompt `<|assistant|>\n`. A follow-up turn that appends the assistant's reply plus
 * `\n` and a new user message therefore begins with exactly the previous prompt and reply.
 */
export function renderChat(messages: readonly { role: string; content: unknown }[]): string {
  let s = "";
  for (const m of messages) s += `<|${m.role}|>\n${contentText(m.content)}\n`;
  return s + "<|assistant|>\n";
}

/** Parses and checks a `/v1/chat/completions` or `/v1/completions` body. */
export function parsePrompt(kind: "chat" | "completions", raw: string): ParsedPrompt {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new SimRequestError("request body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new SimRequestError("request body must be a JSON object");
  const b = body as Record<string, unknown>;
  if (typeof b.model !== "string" || b.model === "") throw new SimRequestError("field 'model' must be a non-empty string");
  let text: string;
  if (kind === "chat") {
    if (!Array.isArray(b.messages) || b.messages.length === 0) throw new SimRequestError("field 'messages' must be a non-empty array");
    for (const m of b.messages) {
      if (!m || typeof m !== "object" || typeof (m as { role?: unknown }).role !== "string") {
        throw new SimRequestError("every message needs a string 'role'");
      }
    }
    text = renderChat(b.messages as { role: string; content: unknown }[]);
  } else {
    if (typeof b.prompt === "string") text = b.prompt;
    else if (Array.isArray(b.prompt) && b.prompt.every((p) => typeof p === "string")) text = (b.prompt as string[]).join("");
    else throw new SimRequestError("field 'prompt' must be a string or an array of strings");
  }
  let maxTokens: number | undefined;
  const mt = b.max_completion_tokens ?? b.max_tokens;
  if (mt !== undefined && mt !== null) {
    if (typeof mt !== "number" || !Number.isInteger(mt) || mt < 1) throw new SimRequestError("field 'max_tokens' must be a positive integer");
    maxTokens = mt;
  }
  const so = b.stream_options as { include_usage?: unknown } | undefined;
  return { model: b.model, text, maxTokens, stream: b.stream === true, includeUsage: !!so && so.include_usage === true };
}

function mix(h1: number, h2: number, s: string, from: number, to: number): [number, number] {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return [h1 >>> 0, h2 >>> 0];
}

/**
 * Chained hashes of the full blocks of `text` (blockChars characters each), seeded with `seed`
 * (the model or adapter name: adapters never share cache blocks with the base model). Each hash is
 * a 53-bit integer from two 32-bit FNV-style lanes, so it can key a `Map` without BigInt.
 */
export function blockHashes(text: string, blockChars: number, seed: string): number[] {
  const out: number[] = [];
  let [h1, h2] = mix(0x811c9dc5, 0x2545f491, seed, 0, seed.length);
  for (let at = 0; at + blockChars <= text.length; at += blockChars) {
    [h1, h2] = mix(h1 ^ 0x9e3779b9, h2 ^ 0x7f4a7c15, text, at, at + blockChars);
    out.push(h1 * 0x200000 + (h2 & 0x1fffff));
  }
  return out;
}

const WORDS = ["the", "and", "for", "you", "can", "see", "kv", "map", "set", "one", "two", "via", "our", "new", "use", "run"];

/** The deterministic text of output token `i` (about 4 characters, as one token of English). */
export function tokenText(i: number, seed: number): string {
  return " " + WORDS[(i * 7 + seed) % WORDS.length]!;
}
