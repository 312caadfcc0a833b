/** Plain-text tables for the terminal. */
import type { LoadSummary } from "../load/index.js";
import { verdict } from "./cpu-ab.js";
import type { MicroResult } from "./suite.js";

export function formatTable(head: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmtNum(c) : c)));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * The "by request class" table (for cells with more than one class, e.g. two tenants): each
 * class's figures, and with a contention window its share there and the cell's fairness.
 * Empty when no cell has two classes.
 */
export function classTable(cells: readonly { workload: string; policy: string; summary: LoadSummary }[]): string[] {
  const rows = cells.flatMap((c) => {
    const classes = Object.entries(c.summary.perClass);
    return classes.length < 2 ? [] : classes.map(([name, k]) => [
      c.workload, c.policy, name, k.ok, k.sheds, k.errors, k.ttftP90Ms, k.throughputRps, k.outputTokensPerSec,
      k.contention ? `${k.contention.served} (${k.contention.offered}; ${k.contention.openAtStart}→${k.contention.openAtEnd})` : "", k.contention?.rps ?? NaN, c.summary.fairness ?? NaN,
    ]);
  });
  if (!rows.length) return [];
  return ["", "by request class (req/s and out tok/s over the class's own active window; contention: both tenants backlogged)", formatTable(
    ["workload", "policy", "class", "ok", "sheds", "errors", "TTFT p90", "req/s", "out tok/s", "contention served (offered; open start→end)", "contention req/s", "fairness min/max"], rows,
  )];
}

/** Median (mean of the middle two for an even count) of the finite values; NaN when none. */
export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** "median (min–max)" of the finite values. */
export function spread(values: readonly number[]): string {
  const v = values.filter(Number.isFinite);
  if (!v.length) return "–";
  return `${fmtNum(median(v))} (${fmtNum(Math.min(...v))}–${fmtNum(Math.max(...v))})`;
}

/**
 * The repeats table (`--repeat`): for every workload, policy and request class, the median and
 * range over the runs (seeds) of its completions, sheds and TTFT p50/p90, so two policies are
 * compared by medians rather than by one noisy run each. Empty when every cell ran once.
 */
export function repeatTable(cells: readonly { workload: string; policy: string; seed?: number; summary: LoadSummary }[]): string[] {
  const groups = new Map<string, { workload: string; policy: string; cls: string; ks: LoadSummary["perClass"][string][] }>();
  for (const c of cells) {
    if (c.seed === undefined) continue;
    for (const [cls, k] of Object.entries(c.summary.perClass)) {
      const key = `${c.workload}\u0000${c.policy}\u0000${cls}`;
      const g = groups.get(key) ?? { workload: c.workload, policy: c.policy, cls, ks: [] };
      g.ks.push(k);
      groups.set(key, g);
    }
  }
  if (![...groups.values()].some((g) => g.ks.length > 1)) return [];
  const rows = [...groups.values()].map((g) => [
    g.workload, g.policy, g.cls, g.ks.length,
    spread(g.ks.map((k) => k.ok)), spread(g.ks.map((k) => k.sheds)), spread(g.ks.map((k) => k.ttftP50Ms)), spread(g.ks.map((k) => k.ttftP90Ms)),
  ]);
  return ["", "over the repeats, per request class: median (min–max) over the runs", formatTable(
    ["workload", "policy", "class", "runs", "ok", "sheds", "TTFT p50 ms", "TTFT p90 ms"], rows,
  )];
}

/**
 * The side-by-side table of two builds (rows of the `plugin-ab` suite): CPU per request of each,
 * new/old as the median of the rounds' ratios with its 95 % interval, the range of those ratios,
 * the ratio of the cheapest rounds, and whether the interval clears 1 ("noise" when not).
 * Empty when no row carries a comparison.
 */
export function cpuAbTable(rows: readonly MicroResult[]): string[] {
  const ab = rows.filter((r) => r.cpuAb);
  if (!ab.length) return [];
  const f = (x: number) => x.toFixed(2);
  return ["", `CPU per request, new/old (process user+system µs; ${ab[0]!.cpuAb!.rounds} interleaved rounds, alternating order; baseline ${ab[0]!.baseline})`, formatTable(
    ["case", "verdict", "new µs", "old µs", "new/old", "95% interval", "range", "cheapest", "same answer"],
    ab.map((r) => {
      const m = r.cpuAb!;
      return [r.case, verdict(m), m.newUs, m.oldUs, f(m.ratio), Number.isFinite(m.ciLow) ? `${f(m.ciLow)}-${f(m.ciHigh)}` : "–", `${f(m.min)}-${f(m.max)}`, f(m.minRatio), m.sameAnswer ? "yes" : "NO"];
    }),
  )];
}
