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

/** A single value (a bar's tooltip): about three significant figures. */
function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * The labels of the five ticks 0, max/4, …, max of one axis, all with the same number of
 * decimals: the fewest that write every tick exactly (at most 3), so an axis never mixes "1000"
 * with "500.0" and "0.00".
 */
export function axisLabels(max: number): string[] {
  const ticks = [0, 1, 2, 3, 4].map((i) => (max * i) / 4);
  let decimals = 0;
  while (decimals < 3 && !ticks.every((t) => Math.abs(t * 10 ** decimals - Math.round(t * 10 ** decimals)) < 1e-9)) decimals++;
  return ticks.map((t) => t.toFixed(decimals));
}

/** Both chart kinds: the canvas and the plot area inside its margins. */
interface Frame {
  W: number;
  H: number;
  left: number;
  right: number;
  top: number;
  plotW: number;
  plotH: number;
}

function frame(width: number | undefined, height: number | undefined): Frame {
  const W = width ?? 530;
  const H = height ?? 300;
  const left = 56, right = 12, top = 34, bottom = 64;
  return { W, H, left, right, top, plotW: W - left - right, plotH: H - top - bottom };
}

/** The opening `<svg>` element and the centred title. */
function svgHead(f: Frame, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${f.W} ${f.H}" width="${f.W}" height="${f.H}" role="img" aria-label="${escapeXml(title)}">` +
    `<text x="${f.W / 2}" y="18" text-anchor="middle" class="title">${escapeXml(title)}</text>`
  );
}

/** Grid line `i` of 4 (0 at the bottom) with its y-axis label. */
function yTick(f: Frame, i: number, label: string): string {
  const y = f.top + f.plotH - (f.plotH * i) / 4;
  return `<line x1="${f.left}" x2="${f.W - f.right}" y1="${y}" y2="${y}" class="grid"/><text x="${f.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${label}</text>`;
}

/** The y-axis unit, written upwards along the left edge. */
function yUnitLabel(f: Frame, unit: string): string {
  const mid = f.top + f.plotH / 2;
  return `<text x="12" y="${mid}" transform="rotate(-90 12 ${mid})" text-anchor="middle" class="tick">${escapeXml(unit)}</text>`;
}

/** Legend swatch and name of series `si`: four per row, rows 14 apart from `firstRowY`. */
function legendEntry(f: Frame, firstRowY: number, si: number, name: string): string {
  const x = f.left + (si % 4) * 115;
  const y = firstRowY + Math.floor(si / 4) * 14;
  return `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${colour(si)}"/><text x="${x + 14}" y="${y}" class="legend">${escapeXml(name)}</text>`;
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
  const f = frame(c.width, c.height);
  const { H, left, top, plotW, plotH } = f;
  const all = c.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  const max = niceMax(Math.max(0, ...all));
  const parts: string[] = [svgHead(f, c.title)];
  axisLabels(max).forEach((label, i) => parts.push(yTick(f, i, label)));
  parts.push(yUnitLabel(f, c.unit));
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
  c.series.forEach((s, si) => parts.push(legendEntry(f, H - 26, si, s.name)));
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
  const f = frame(c.width, c.height);
  const { H, left, top, plotW, plotH } = f;
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = niceMax(Math.max(0, ...xs));
  const yMax = c.yMax ?? niceMax(Math.max(0, ...ys));
  const parts: string[] = [svgHead(f, c.title)];
  const yLabels = axisLabels(yMax);
  const xLabels = axisLabels(xMax);
  for (let i = 0; i <= 4; i++) {
    const x = left + (plotW * i) / 4;
    parts.push(yTick(f, i, yLabels[i]!));
    parts.push(`<text x="${x}" y="${top + plotH + 16}" text-anchor="middle" class="tick">${xLabels[i]}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 32}" text-anchor="middle" class="tick">${escapeXml(c.xUnit)}</text>`);
  parts.push(yUnitLabel(f, c.yUnit));
  c.series.forEach((s, si) => {
    if (s.points.length === 0) return;
    const d = s.points
      .map(([x, y], i) => `${i ? "L" : "M"}${(left + (plotW * x) / xMax).toFixed(1)},${(top + plotH - (plotH * Math.min(y, yMax)) / yMax).toFixed(1)}`)
      .join("");
    parts.push(`<path d="${d}" fill="none" stroke="${colour(si)}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`);
    parts.push(legendEntry(f, H - 12, si, s.name));
  });
  parts.push("</svg>");
  return parts.join("");
}

/** A chart's frame and title with one line of text in place of the plot (e.g. "none"). */
export function textChart(c: { title: string; text: string; width?: number; height?: number }): string {
  const f = frame(c.width, c.height);
  return `${svgHead(f, c.title)}<text x="${f.W / 2}" y="${f.top + f.plotH / 2}" text-anchor="middle" class="none">${escapeXml(c.text)}</text></svg>`;
}
