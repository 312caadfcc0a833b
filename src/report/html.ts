/**
 * Renders benchmark results as one self-contained HTML page: inline CSS and inline SVG charts,
 * no scripts, no external resources.
 */
import { realStackSection } from "./real.js";
import { escapeXml as esc, groupedBarChart, lineChart, textChart } from "./svg.js";
import type { BenchResults, MacroCell } from "./types.js";

function n(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function cdfPoints(samples: number[], maxPoints = 60): [number, number][] {
  if (samples.length === 0) return [];
  const s = [...samples].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(s.length / maxPoints));
  const pts: [number, number][] = [[0, 0]];
  for (let i = 0; i < s.length; i += step) pts.push([s[i]!, (i + 1) / s.length]);
  pts.push([s[s.length - 1]!, 1]);
  return pts;
}

function macroTable(cells: MacroCell[]): string {
  const rows = cells
    .map((c) => {
      const s = c.summary;
      return `<tr><td>${esc(c.workload)}</td><td>${esc(c.policy)}</td><td>${s.requests}</td><td>${n(s.ttftP50Ms)}</td><td>${n(s.ttftP90Ms)}</td><td>${n(s.e2eP50Ms)}</td><td>${n(s.e2eP90Ms)}</td><td>${n(s.throughputRps, 2)}</td><td>${n(s.outputTokensPerSec, 0)}</td><td>${n(c.prefixHitRate * 100)}%</td><td>${s.sheds}</td><td>${s.errors}</td><td>${esc(Object.entries(s.perServer).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${v}`).join(" "))}</td></tr>`;
    })
    .join("\n");
  return `<table class="macro"><thead><tr><th>workload</th><th>policy</th><th>requests</th><th>TTFT p50 ms</th><th>TTFT p90 ms</th><th>e2e p50 ms</th><th>e2e p90 ms</th><th>req/s</th><th>out tok/s</th><th>prefix hit</th><th>sheds</th><th>errors</th><th>per server</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Per request class (e.g. sheddable vs default), for cells with more than one class. */
function classTable(cells: MacroCell[]): string {
  const rows = cells.flatMap((c) => {
    const classes = Object.entries(c.summary.perClass);
    if (classes.length < 2) return [];
    return classes.map(([name, k]) => `<tr><td>${esc(c.workload)}</td><td>${esc(c.policy)}</td><td>${esc(name)}</td><td>${k.ok}</td><td>${k.sheds}</td><td>${k.errors}</td><td>${n(k.ttftP90Ms)}</td><td>${n(k.throughputRps, 2)}</td><td>${n(k.outputTokensPerSec, 0)}</td><td>${k.contention ? `${k.contention.served} (${k.contention.offered}; ${k.contention.openAtStart}→${k.contention.openAtEnd})` : ""}</td><td>${k.contention ? n(k.contention.rps, 2) : ""}</td><td>${c.summary.fairness !== undefined ? n(c.summary.fairness, 2) : ""}</td></tr>`);
  });
  if (!rows.length) return "";
  return `<h3>By request class</h3><table class="classes"><thead><tr><th>workload</th><th>policy</th><th>class</th><th>ok</th><th>sheds</th><th>errors</th><th>TTFT p90 ms</th><th>req/s</th><th>out tok/s</th><th>contention served (offered; open start→end)</th><th>contention req/s</th><th>fairness min/max</th></tr></thead><tbody>${rows.join("\n")}</tbody></table>`;
}

export function renderReport(r: BenchResults): string {
  const workloads = uniq(r.macro.map((c) => c.workload));
  const policies = uniq(r.macro.map((c) => c.policy));
  const cell = (w: string, p: string) => r.macro.find((c) => c.workload === w && c.policy === p);
  const metric = (title: string, unit: string, f: (c: MacroCell) => number) =>
    groupedBarChart({
      title, unit, categories: workloads,
      series: policies.map((p) => ({ name: p, values: workloads.map((w) => { const c = cell(w, p); return c ? f(c) : NaN; }) })),
    });
  const charts: string[] = [];
  if (r.macro.length) {
    charts.push(metric("TTFT p50 by workload and policy", "ms", (c) => c.summary.ttftP50Ms));
    charts.push(metric("TTFT p90 by workload and policy", "ms", (c) => c.summary.ttftP90Ms));
    charts.push(metric("End-to-end latency p90", "ms", (c) => c.summary.e2eP90Ms));
    charts.push(metric("Throughput (successful requests per second)", "req/s", (c) => c.summary.throughputRps));
    charts.push(metric("Prefix-cache hit rate (simulator counters)", "%", (c) => c.prefixHitRate * 100));
    // Nothing shed or failed: say so, rather than draw axes with no bars.
    const lost = (c: MacroCell) => c.summary.sheds + c.summary.errors;
    if (r.macro.some((c) => lost(c) > 0)) charts.push(metric("Shed and failed requests", "requests", lost));
    else charts.push(textChart({ title: "Shed and failed requests", text: "none: every request was served" }));
    for (const w of workloads) {
      charts.push(lineChart({
        title: `TTFT distribution: ${w}`, xUnit: "TTFT (ms)", yUnit: "fraction of requests", yMax: 1,
        series: policies.map((p) => ({ name: p, points: cdfPoints(cell(w, p)?.ttftSamples ?? []) })),
      }));
    }
  }
  const microRows = r.micro
    .map((m) => `<tr><td>${esc(m.suite)}</td><td>${esc(m.case)}</td><td>${esc(m.baseline)}</td><td>${n(m.opsPerSec, 0)}</td><td>${n(m.baselineOpsPerSec, 0)}</td><td>${n(m.ratio, 3)}</td><td>${n(m.usPerOp, 2)}</td><td>${esc((m.unit !== undefined ? `${m.value} ${m.unit}${m.notes ? "; " : ""}` : "") + (m.notes ?? ""))}</td></tr>`)
    .join("\n");
  const microChart = r.micro.length
    ? groupedBarChart({
        title: "Micro benchmarks: case vs baseline (ops/s)", unit: "ops/s", width: 760,
        categories: r.micro.map((m) => `${m.suite}: ${m.case}`.slice(0, 28)),
        series: [
          { name: "case", values: r.micro.map((m) => m.opsPerSec) },
          { name: "baseline", values: r.micro.map((m) => m.baselineOpsPerSec ?? NaN) },
        ],
      })
    : "";
  const env = Object.entries(r.environment).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wayroute benchmark report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 12px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}thead th{background:#f4f4f4}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;border:1px solid #eee}
.chart .title{font-size:13px;font-weight:600}.chart .tick{font-size:10px;fill:#555}.chart .legend{font-size:11px}
.chart .grid{stroke:#eee}.chart .none{font-size:15px;fill:#555}.note{color:#555}
</style></head><body>
<h1>wayroute benchmark report</h1>
<p class="note">Run started ${esc(r.startedAt)}. ${r.real ? "Latencies are wall-clock milliseconds through real Envoy against simulated servers running faster than real time (see the Real stack section)" : "Latencies are wall-clock milliseconds through the local proxy against simulated servers running faster than real time (see the simulator speed-up below)"}, so compare policies with each other, not with production numbers.</p>
${r.notes.map((x) => `<p class="note">${esc(x)}</p>`).join("\n")}
<h2>Environment</h2><table>${env}</table>
${r.macro.length || !r.real ? `<h2>Routing (macro)</h2>
${r.macro.length ? macroTable(r.macro) + classTable(r.macro) : "<p>No macro results in this run.</p>"}
<div class="charts">${charts.join("\n")}</div>` : ""}
${realStackSection(r.real)}
<h2>Micro benchmarks</h2>
${r.micro.length ? `<table><thead><tr><th>suite</th><th>case</th><th>baseline</th><th>ops/s</th><th>baseline ops/s</th><th>ratio</th><th>µs/op</th><th>notes</th></tr></thead><tbody>${microRows}</tbody></table><div class="charts">${microChart}</div>` : "<p>No micro results in this run.</p>"}
${r.microSkipped.length ? `<p class="note">Skipped: ${r.microSkipped.map((s) => esc(`${s.suite} (${s.reason})`)).join("; ")}</p>` : ""}
</body></html>
`;
}
