/**
 * A strict reader of the Prometheus text exposition format, used to check the simulator's
 * `/metrics` output independently of the plugin's own parser.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|NaN|[-+]?Inf))$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  const typed = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (!name || !["gauge", "counter", "histogram", "summary", "untyped"].includes(type ?? "")) throw new Error(`bad TYPE line: ${line}`);
      typed.set(name, type!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    if (line.startsWith("#")) throw new Error(`unexpected comment: ${line}`);
    const m = LINE.exec(line);
    if (!m) throw new Error(`malformed sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      LABEL.lastIndex = 0;
      let pos = 0;
      while (pos < m[3].length) {
        LABEL.lastIndex = pos;
        const l = LABEL.exec(m[3]);
        if (!l) throw new Error(`malformed labels: ${m[3]}`);
        labels[l[1]!] = l[2]!.replace(/\\"/g, '"').replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
        pos = LABEL.lastIndex;
      }
    }
    if (!typed.has(m[1]!)) throw new Error(`sample without TYPE: ${m[1]}`);
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}
