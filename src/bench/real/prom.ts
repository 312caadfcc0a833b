/**
 * A lenient reader of the Prometheus text format, for the peers' own `/metrics` pages (the llm-d
 * simulator, our simulator, the EPP). Lenient because these pages are not ours: a line it cannot
 * read is skipped, never fatal, and a missing series reads as absent rather than zero.
 */

/** One sample line: `name{labels} value`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseValue(v: string): number {
  if (v === "+Inf" || v === "Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  return Number(v);
}

/** Every sample of a metrics page, in order; comment and unreadable lines are skipped. */
export function parseProm(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      let pos = 0;
      let ok = true;
      while (pos < m[2].length) {
        LABEL.lastIndex = pos;
        const l = LABEL.exec(m[2]);
        if (!l) {
          ok = false;
          break;
        }
        labels[l[1]!] = unescape(l[2]!);
        pos = LABEL.lastIndex;
      }
      if (!ok) continue;
    }
    const value = parseValue(m[3]!);
    if (Number.isNaN(value) && m[3] !== "NaN") continue;
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/**
 * The sum of every sample of the first name in `names` that the page has (label sets added up),
 * or undefined when it has none of them. Several names cover renames across versions, e.g.
 * `vllm:prefix_cache_hits` (client_golang counter without `_total`) and `..._total`.
 */
export function sumOf(samples: PromSample[], names: string[], where: (labels: Record<string, string>) => boolean = () => true): number | undefined {
  for (const name of names) {
    let found = false;
    let total = 0;
    for (const s of samples) {
      if (s.name !== name || !where(s.labels)) continue;
      found = true;
      total += s.value;
    }
    if (found) return total;
  }
  return undefined;
}
