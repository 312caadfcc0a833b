/**
 * The report's "Real stack" section: the versions of Envoy, the EPP and the simulator, the exact
 * commands, the routing table and charts of every (workload, policy) cell, the routing-overhead
 * table and charts, and what was skipped and why.
 */
import type { RealStackResults } from "../bench/real/types.js";
import { PROMPT_220KB_NAME } from "../bench/real/workloads.js";
import { escapeXml as esc, groupedBarChart, lineChart } from "./svg.js";

function n(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function cdf(samples: number[], maxPoints = 60): [number, number][] {
  if (!samples.length) return [];
  const step = Math.max(1, Math.floor(samples.length / maxPoints));
  const pts: [number, number][] = [[0, 0]];
  for (let i = 0; i < samples.length; i += step) pts.push([samples[i]!, (i + 1) / samples.length]);
  pts.push([samples[samples.length - 1]!, 1]);
  return pts;
}

function macroSection(r: RealStackResults): string {
  if (!r.macro.length) return "<p>No routing results in this run.</p>";
  const rows = r.macro.map((c) => {
    const s = c.summary;
    return `<tr><td>${esc(c.workload)}</td><td>${esc(c.policy)}</td><td>${s.requests}</td><td>${n(s.ttftP50Ms)}</td><td>${n(s.ttftP90Ms)}</td><td>${n(s.e2eP90Ms)}</td><td>${n(s.throughputRps, 2)}</td><td>${n(c.prefixHitRate * 100)}%</td><td>${s.sheds}</td><td>${s.errors}</td><td>${esc(Object.values(s.perServer).join(" / "))}</td></tr>`;
  }).join("\n");
  const workloads = uniq(r.macro.map((c) => c.workload));
  // The 220 KB prompt's seconds of prefill would flatten every other workload's latency bars.
  const big = workloads.filter((w) => w === PROMPT_220KB_NAME);
  const usual = workloads.filter((w) => w !== PROMPT_220KB_NAME);
  const policies = uniq(r.macro.map((c) => c.policy));
  const cell = (w: string, p: string) => r.macro.find((c) => c.workload === w && c.policy === p);
  const bars = (title: string, unit: string, f: (c: RealStackResults["macro"][number]) => number, categories = workloads) =>
    categories.length ? groupedBarChart({ title, unit, categories, series: policies.map((p) => ({ name: p, values: categories.map((w) => { const c = cell(w, p); return c ? f(c) : NaN; }) })) }) : "";
  const charts = [
    bars("Real stack: TTFT p50", "ms", (c) => c.summary.ttftP50Ms, usual),
    bars("Real stack: TTFT p90", "ms", (c) => c.summary.ttftP90Ms, usual),
    bars("Real stack: end-to-end p90", "ms", (c) => c.summary.e2eP90Ms, usual),
    ...big.map((w) => groupedBarChart({
      title: `Real stack: ${w}, latency`, unit: "ms", categories: ["TTFT p50", "TTFT p90", "e2e p90"],
      series: policies.map((p) => { const c = cell(w, p); return { name: p, values: c ? [c.summary.ttftP50Ms, c.summary.ttftP90Ms, c.summary.e2eP90Ms] : [NaN, NaN, NaN] }; }),
    })),
    bars("Real stack: throughput", "req/s", (c) => c.summary.throughputRps),
    bars("Real stack: prefix-cache hit rate (simulator counters)", "%", (c) => c.prefixHitRate * 100),
    bars("Real stack: shed and failed requests", "requests", (c) => c.summary.sheds + c.summary.errors),
    ...workloads.map((w) => lineChart({
      title: `Real stack TTFT distribution: ${w}`, xUnit: "TTFT (ms)", yUnit: "fraction of requests", yMax: 1,
      series: policies.map((p) => ({ name: p, points: cdf(cell(w, p)?.ttftSamples ?? []) })),
    })),
  ];
  return `<table class="macro"><thead><tr><th>workload</th><th>policy</th><th>requests</th><th>TTFT p50 ms</th><th>TTFT p90 ms</th><th>e2e p90 ms</th><th>req/s</th><th>prefix hit</th><th>sheds</th><th>errors</th><th>served per server</th></tr></thead><tbody>${rows}</tbody></table>
<div class="charts">${charts.join("\n")}</div>`;
}

function overheadSection(r: RealStackResults): string {
  if (!r.overhead.length) return "<p>No routing-overhead results in this run.</p>";
  const rows = r.overhead.map((x) => `<tr><td>${esc(x.body)}</td><td>${x.endpoints}</td><td>${esc(x.policy)}</td><td>${x.ok}/${x.requests}</td><td>${n(x.p50Ms, 2)}</td><td>${n(x.p99Ms, 2)}</td><td>${n(x.addedP50Ms, 2)}</td><td>${n(x.addedP99Ms, 2)}</td><td>${n(x.envoyCpuMsPer1k, 0)}</td><td>${n(x.eppCpuMsPer1k, 0)}</td></tr>`).join("\n");
  const cases = uniq(r.overhead.map((x) => `${x.body}, ${x.endpoints} ep`));
  const policies = uniq(r.overhead.map((x) => x.policy)).slice(1);
  const value = (c: string, p: string, f: (x: RealStackResults["overhead"][number]) => number) => {
    const x = r.overhead.find((o) => `${o.body}, ${o.endpoints} ep` === c && o.policy === p);
    return x ? f(x) : NaN;
  };
  const charts = [
    groupedBarChart({ title: "Latency added over plain Envoy, p50", unit: "ms", categories: cases, width: 760, series: policies.map((p) => ({ name: p, values: cases.map((c) => value(c, p, (x) => x.addedP50Ms)) })) }),
    groupedBarChart({ title: "CPU per 1,000 requests (Envoy + EPP)", unit: "ms", categories: cases, width: 760, series: uniq(r.overhead.map((x) => x.policy)).map((p) => ({ name: p, values: cases.map((c) => value(c, p, (x) => x.envoyCpuMsPer1k + (x.eppCpuMsPer1k ?? 0))) })) }),
  ];
  return `<p class="note">Zero-latency servers, requests at a fixed rate (${esc(uniq(r.overhead.map((x) => `${x.rate}/s`)).join(", "))}); "added" is over plain Envoy round-robin at the same body size and endpoint count; CPU from /proc (user + system time of the Envoy and EPP processes).</p>
<table><thead><tr><th>body</th><th>endpoints</th><th>policy</th><th>ok</th><th>p50 ms</th><th>p99 ms</th><th>added p50 ms</th><th>added p99 ms</th><th>Envoy CPU ms / 1k req</th><th>EPP CPU ms / 1k req</th></tr></thead><tbody>${rows}</tbody></table>
<div class="charts">${charts.join("\n")}</div>`;
}

/** The section's HTML, or "" when the run has no real-stack results. */
export function realStackSection(r: RealStackResults | undefined): string {
  if (!r) return "";
  const skipped = uniq(r.skipped.map((s) => `${s.policy}: ${s.reason}`));
  return `<h2>Real stack</h2>
<table><tr><th>Envoy</th><td>${esc(r.versions.envoy)}</td></tr><tr><th>Endpoint Picker (llm-d EPP)</th><td>${esc(r.versions.epp)}</td></tr><tr><th>model-server simulator</th><td>${esc(r.versions.simulator)}</td></tr></table>
<p class="note">Commands: ${r.commands.map((c) => `<code>${esc(c)}</code>`).join("; ")}</p>
${r.notes.map((x) => `<p class="note">${esc(x)}</p>`).join("\n")}
${skipped.length ? `<p class="note">Skipped: ${skipped.map(esc).join("; ")}</p>` : ""}
<h3>Routing</h3>
${macroSection(r)}
<h3>Routing overhead</h3>
${overheadSection(r)}`;
}
