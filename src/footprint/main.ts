/**
 * `npm run size`: where the bytes of the plugin go. Reads `build/plugin.names.wasm` (the release
 * plugin with its name section; the build writes it beside `build/plugin.wasm`, whose code is the
 * same) and prints the sections, the largest functions, source files, areas and generic
 * instantiations, the static strings' share of the data, the shipped module's packed data against
 * the data it restores (src/datapack), and the size budget.
 *
 * Usage: tsx src/footprint/main.ts [file.wasm] [--top N] [--json]
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatTable } from "../bench/table.js";
import { repoRoot } from "../bench/repo-root.js";
import { breakdown, type SizeRow } from "./breakdown.js";
import { checkBudget, readBudgets } from "./budget.js";
import { readWasmLayout } from "./wasm-layout.js";

function rows(list: SizeRow[], top: number, total: number): (string | number)[][] {
  return list.slice(0, top).map((r) => [r.name, r.functions === undefined ? "" : String(r.functions), r.bytes, `${((100 * r.bytes) / total).toFixed(1)} %`]);
}

export function sizeMain(argv: string[]): number {
  const root = repoRoot();
  let top = 25;
  let json = false;
  let file: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") json = true;
    else if (a === "--top") top = Number(argv[++i]);
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: npm run size -- [file.wasm] [--top N] [--json]\n");
      return 0;
    } else if (a.startsWith("-")) {
      process.stderr.write(`size: unknown option ${a}\n`);
      return 2;
    } else file = resolve(a);
  }
  if (!Number.isInteger(top) || top <= 0) {
    process.stderr.write("size: --top takes a positive integer\n");
    return 2;
  }
  const path = file ?? join(root, "build/plugin.names.wasm");
  if (!existsSync(path)) {
    process.stderr.write(`size: ${path} is missing: run 'npm run build:wasm' first\n`);
    return 1;
  }
  const b = breakdown(readFileSync(path));
  if (json) {
    process.stdout.write(JSON.stringify(b, null, 2) + "\n");
    return 0;
  }
  const out: string[] = [];
  out.push(`${path}: ${b.totalBytes} bytes; code ${b.codeBytes}, data ${b.dataBytes} (static strings ${b.stringBytes} in ${b.stringCount})`);
  if (!b.hasNames) out.push("(no name section: functions are listed by index; use build/plugin.names.wasm)");
  const shippedPath = join(root, "build/plugin.wasm");
  if (file === null && existsSync(shippedPath)) {
    // plugin.names.wasm keeps the compiler's data layout; the shipped module stores it packed.
    const shipped = readWasmLayout(readFileSync(shippedPath));
    const named = readWasmLayout(readFileSync(path));
    const section = (l: typeof shipped, name: string) => l.sections.find((s) => s.name === name)?.bytes ?? 0;
    const payload = named.dataSegments.reduce((n, x) => n + x, 0);
    out.push(
      `build/plugin.wasm: ${shipped.totalBytes} bytes; data ${section(shipped, "data")} bytes in ${shipped.dataSegments.length} segment(s) ` +
        `(${shipped.dataSegments.reduce((n, x) => n + x, 0)} bytes packed) for ${payload} bytes of data in ${named.dataSegments.length} segments ` +
        `unpacked, restored by _initialize; code ${section(shipped, "code")} bytes (${section(shipped, "code") - b.codeBytes >= 0 ? "+" : ""}${section(shipped, "code") - b.codeBytes} for the decoder)`,
    );
  }
  out.push("", formatTable(["section", "", "bytes", "share"], rows(b.sections, 50, b.totalBytes)));
  out.push("", formatTable(["area", "functions", "code bytes", "of code"], rows(b.areas, top, b.codeBytes)));
  out.push("", formatTable(["source file", "functions", "code bytes", "of code"], rows(b.files, top, b.codeBytes)));
  out.push("", formatTable(["function", "", "code bytes", "of code"], rows(b.functions, top, b.codeBytes)));
  if (b.generics.length) out.push("", formatTable(["generic (all instances)", "instances", "code bytes", "of code"], rows(b.generics, Math.min(top, 15), b.codeBytes)));
  const budgets = existsSync(join(root, "size-budget.json")) ? readBudgets(root) : [];
  for (const budget of budgets) {
    const target = join(root, budget.file);
    if (!existsSync(target)) continue;
    const size = statSync(target).size;
    out.push("", checkBudget(budget, size) ?? `${budget.file}: ${size} bytes, budget ${budget.maxBytes} (size-budget.json), ${budget.maxBytes - size} to spare`);
  }
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}

process.exitCode = sizeMain(process.argv.slice(2));
