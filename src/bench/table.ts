/** Plain-text tables for the terminal. */
import type { LoadSummary } from "../load/index.js";

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
