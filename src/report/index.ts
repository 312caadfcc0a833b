/** Benchmark report: result types, the self-contained HTML page and its SVG charts. */
export { renderReport } from "./html.js";
export { groupedBarChart, lineChart, escapeXml } from "./svg.js";
export type { BenchResults, MacroCell, MicroRow } from "./types.js";
