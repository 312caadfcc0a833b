/**
 * The harness modules depend one way: the ABI areas (headers, buffers, timers, ...) import nothing
 * that links them, vm.ts and core.ts import the areas, the stream driver and host import the VM.
 * Any import cycle in src/host, type-only imports and re-exports included, fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const HOST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/host");

/** Local imports of one module (`import`, `import type`, `export ... from`, dynamic `import()`), as file names. */
function localImports(dir: string, file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(dir, file), "utf8"), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith("./"))
    .map((spec) => spec.slice(2).replace(/\.js$/, ".ts"));
}

function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts")).sort()) graph.set(file, localImports(dir, file));
  return graph;
}

/** Every elementary cycle found by depth-first search, each as a path `a -> b -> a`. */
function findCycles(graph: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "active" | "done">();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "active");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "active") cycles.push([...path.slice(path.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("src/host import graph", () => {
  it("reads type-only imports and re-exports as edges", () => {
    const graph = importGraph(HOST_DIR);
    expect(graph.get("vm.ts")).toEqual(expect.arrayContaining(["core.ts", "headers.ts", "timers.ts"]));
    expect(graph.get("core.ts")).toEqual(expect.arrayContaining(["http-calls.ts"])); // `import type`
    expect(graph.get("index.ts")).toEqual(expect.arrayContaining(["host.ts", "streams.ts"])); // `export ... from`
    for (const [file, deps] of graph) for (const dep of deps) expect(graph.has(dep), `${file} imports missing ${dep}`).toBe(true);
  });

  it("finds a cycle when there is one, type-only or not", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(findCycles(graph)).toEqual(["a.ts -> b.ts -> c.ts -> a.ts"]);
    const parsed = ts.preProcessFile('import type { X } from "./x.js";\nexport { Y } from "./y.js";\n', true, true);
    expect(parsed.importedFiles.map((f) => f.fileName)).toEqual(["./x.js", "./y.js"]);
  });

  it("has no import cycle", () => {
    expect(findCycles(importGraph(HOST_DIR))).toEqual([]);
  });

  it("keeps the ABI areas free of the VM, the core and the stream driver", () => {
    const graph = importGraph(HOST_DIR);
    const above = new Set(["vm.ts", "core.ts", "streams.ts", "host.ts", "index.ts"]);
    for (const area of ["buffers.ts", "headers.ts", "http-calls.ts", "logs.ts", "metrics.ts", "properties.ts", "shared-data.ts", "shared-queues.ts", "stream-properties.ts", "timers.ts", "wasi.ts", "memory.ts", "abi.ts", "errors.ts"]) {
      expect(graph.get(area)!.filter((d) => above.has(d)), area).toEqual([]);
    }
  });
});
