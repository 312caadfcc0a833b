/**
 * Reference semantics for the body scanner, written over JSON.parse: what the plugin must
 * extract from a body. Used by the golden and property tests.
 *
 * The bytes are decoded with a FATAL UTF-8 decoder first: a body that is not UTF-8 is not
 * JSON. The BOM is kept (`ignoreBOM`), so JSON.parse refuses a body that starts with one, as Go's
 * and Python's decoders refuse it on bytes.
 */

export interface Extraction {
  /** JSON.parse succeeded and the top level is an object. */
  ok: boolean;
  hasModel: boolean;
  /** The model when it is a string, else null. */
  model: string | null;
  /** -1 absent, 0 false, 1 true, 2 present but not a boolean. */
  stream: number;
  /**
   * Prompt text as docs/rewriting.md defines it; null when the body has no prompt source;
   * undefined when the text copies raw JSON bytes (token arrays etc.) that JSON.parse cannot
   * reproduce.
   */
  prompt: string | null | undefined;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function wellFormed(s: string): string {
  return (s as unknown as { toWellFormed(): string }).toWellFormed();
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const part of content) {
    if (typeof part === "string") out += part;
    else if (part && typeof part === "object" && !Array.isArray(part) && typeof (part as { text?: unknown }).text === "string") {
      out += (part as { text: string }).text;
    }
  }
  return out;
}

function messageText(m: Record<string, unknown>): string {
  const role = typeof m.role === "string" ? m.role : "";
  return `<|${role}|>` + contentText(m.content);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function promptLike(v: unknown, objectsAreMessages: boolean): string | undefined {
  if (typeof v === "string") return v;
  if (!Array.isArray(v)) return undefined;
  const parts: string[] = [];
  for (const el of v) {
    if (typeof el === "string") parts.push(el);
    else if (objectsAreMessages && isObject(el)) parts.push(messageText(el));
    else return undefined;
  }
  return parts.join("\n");
}

export function referenceExtract(body: Uint8Array | string): Extraction {
  let doc: unknown;
  try {
    const text = typeof body === "string" ? body : decoder.decode(body);
    doc = JSON.parse(text);
  } catch {
    return { ok: false, hasModel: false, model: null, stream: -1, prompt: null };
  }
  if (!isObject(doc)) return { ok: false, hasModel: false, model: null, stream: -1, prompt: null };
  const hasModel = Object.prototype.hasOwnProperty.call(doc, "model");
  const model = typeof doc.model === "string" ? doc.model : null;
  const hasStream = Object.prototype.hasOwnProperty.call(doc, "stream");
  const stream = !hasStream ? -1 : doc.stream === true ? 1 : doc.stream === false ? 0 : 2;
  let prompt: string | null | undefined = null;
  if ("messages" in doc) {
    prompt = Array.isArray(doc.messages) ? doc.messages.filter(isObject).map(messageText).join("") : "";
  } else if ("prompt" in doc) {
    prompt = promptLike(doc.prompt, false);
  } else if ("input" in doc) {
    prompt = promptLike(doc.input, true);
  }
  return { ok: true, hasModel, model, stream, prompt: typeof prompt === "string" ? wellFormed(prompt) : prompt };
}
