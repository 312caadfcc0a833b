/**
 * Minimal SVG chart builders for the self-contained report: grouped bar charts and line charts,
 * as strings, with no external scripts or fonts.
 */

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];

/** The colour of series `i`. */
export function colour(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export interface GroupedBars {
  title: string;
  /** Unit shown on the axis, e.g. "ms". */
  unit: string;
  /** Category labels along the x axis (e.g. workloads). */
  categories: string[];
  /** One series per legend entry (e.g. policy); values[i] belongs to categories[i]. */
  series: { name: string; values: number[] }[];
  width?: number;
  height?: number;
}

/** A grouped vertical bar chart. NaN values draw no bar. */
export function groupedBarChart(c: GroupedBars): string {
  const W = c.width ?? 530;
  const H = c.height ?? 300;
  const left = 56, right = 12, top = 34, bottom = 64;
  const plotW = W - left - right, plotH = H - top - bottom;
  const all = c.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  const max = niceMax(Math.max(0, ...all));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(c.title)}">`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" class="title">${escapeXml(c.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" class="tick">${fmt(v)}</text>`);
  }
  parts.push(`<text x="12" y="${top + plotH / 2}" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle" class="tick">${escapeXml(c.unit)}</text>`);
  const groupW = plotW / Math.max(1, c.categories.length);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, c.series.length));
  c.categories.forEach((cat, ci) => {
    const gx = left + ci * groupW + groupW * 0.1;
    c.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const h = (plotH * Math.max(0, v)) / max;
      const x = gx + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour(si)}"><title>${escapeXml(`${s.name} / ${cat}: ${fmt(v)} ${c.unit}`)}</title></rect>`);
    });
    parts.push(`<text x="${(left + ci * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" class="tick">${escapeXml(cat)}</text>`);
  });
  c.series.forEach((s, si) => {
    const x = left + (si % 4) * 115;
    const y = H - 26 + Math.floor(si / 4) * 14;
    parts.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${colour(si)}"/><text x="${x + 14}" y="${y}" class="legend">${escapeXml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

export interface Lines {
  title: string;
  xUnit: string;
  yUnit: string;
  series: { name: string; points: [number, number][] }[];
  width?: number;
  height?: number;
  yMax?: number;
}

/** A line chart (e.g. a latency CDF). */
export function lineChart(c: Lines): string {
  const W = c.width ?? 530;
  const H = c.height ?? 300;
  const left = 56, right = 12, top = 34, bottom = 64;
  const plotW = W - left - right, plotH = H - top - bottom;
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = niceMax(Math.max(0, ...xs));
  const yMax = c.yMax ?? niceMax(Math.max(0, ...ys));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(c.title)}">`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" class="title">${escapeXml(c.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    const x = left + (plotW * i) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" class="tick">${fmt((yMax * i) / 4)}</text>`);
    parts.push(`<text x="${x}" y="${top + plotH + 16}" text-anchor="middle" class="tick">${fmt((xMax * i) / 4)}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 32}" text-anchor="middle" class="tick">${escapeXml(c.xUnit)}</text>`);
  parts.push(`<text x="12" y="${top + plotH / 2}" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle" class="tick">${escapeXml(c.yUnit)}</text>`);
  c.series.forEach((s, si) => {
    if (s.points.length === 0) return;
    const d = s.points
      .map(([x, y], i) => `${i ? "L" : "M"}${(left + (plotW * x) / xMax).toFixed(1)},${(top + plotH - (plotH * Math.min(y, yMax)) / yMax).toFixed(1)}`)
      .join("");
    parts.push(`<path d="${d}" fill="none" stroke="${colour(si)}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`);
    const x = left + (si % 4) * 115;
    const y = H - 12 + Math.floor(si / 4) * 14;
    parts.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${colour(si)}"/><text x="${x + 14}" y="${y}" class="legend">${escapeXml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}
