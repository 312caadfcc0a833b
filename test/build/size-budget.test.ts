/**
 * The shipped plugin fits its size budget (size-budget.json), the build's named copy holds the
 * same code as the shipped file, and the size breakdown accounts for every code byte.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { breakdown, sourceFileOf, withoutTypeArguments } from "../../src/footprint/breakdown.js";
import { checkBudget, readBudgets } from "../../src/footprint/budget.js";
import { readWasmLayout } from "../../src/footprint/wasm-layout.js";
import { repoRoot, wasmBytes } from "./wasm-files.js";

describe("size budget", () => {
  it("build/plugin.wasm is within the budget in size-budget.json", () => {
    const budget = readBudgets(repoRoot).find((b) => b.file === "build/plugin.wasm");
    expect(budget, "size-budget.json has an entry for build/plugin.wasm").toBeDefined();
    const bytes = wasmBytes("plugin.wasm").length;
    expect(checkBudget(budget!, bytes)).toBeNull();
  });

  it("names the file, the budget file and `npm run size` when over budget", () => {
    const message = checkBudget({ file: "build/plugin.wasm", maxBytes: 100 }, 150);
    expect(message).toContain("build/plugin.wasm is 150 bytes, 50 over its budget of 100 bytes");
    expect(message).toContain("size-budget.json");
    expect(message).toContain("npm run size");
  });

  it("plugin.names.wasm differs from plugin.wasm only by its name section and the packed data", () => {
    const shipped = readWasmLayout(wasmBytes("plugin.wasm"));
    const named = readWasmLayout(wasmBytes("plugin.names.wasm"));
    expect(shipped.hasNames).toBe(false);
    expect(named.hasNames).toBe(true);
    // The packing step adds the decoder (3 functions and 2 globals), a zeroing loop and a start
    // wrapper, and replaces the data.
    const changed = new Set(["custom:name", "function", "global", "code", "data", "datacount"]);
    const same = (sections: typeof shipped.sections) => sections.filter((s) => !changed.has(s.name));
    expect(same(named.sections)).toEqual(same(shipped.sections));
    expect(shipped.functions.length - named.functions.length).toBe(5);
    const code = (l: typeof shipped) => l.sections.find((s) => s.name === "code")!.bytes;
    expect(code(shipped) - code(named)).toBeGreaterThan(0);
    expect(code(shipped) - code(named)).toBeLessThan(600);
  });
});

describe("size breakdown", () => {
  it("attributes every code byte to a named function, file and area", () => {
    const b = breakdown(wasmBytes("plugin.names.wasm"));
    const bodies = b.functions.reduce((n, f) => n + f.bytes, 0);
    expect(b.functions.every((f) => !f.name.startsWith("$"))).toBe(true);
    // The code section is the function bodies plus its own header and count.
    expect(b.codeBytes - bodies).toBeGreaterThan(0);
    expect(b.codeBytes - bodies).toBeLessThan(16);
    expect(b.files.reduce((n, f) => n + f.bytes, 0)).toBe(bodies);
    expect(b.areas.reduce((n, f) => n + f.bytes, 0)).toBe(bodies);
    expect(b.files.map((f) => f.name)).toContain("assembly/pools/config");
    expect(b.stringCount).toBeGreaterThan(100);
    expect(b.stringBytes).toBeLessThan(b.dataBytes);
  });

  it.each([
    ["assembly/pools/config/parsePool", "assembly/pools/config"],
    ["~lib/map/Map<~lib/string/String,i32>#set", "~lib/map"],
    ["~lib/array/Array<assembly/endpoints/endpoint/Endpoint>#push", "~lib/array"],
    ["start:assembly/pools/config", "assembly/pools/config"],
    ["~instanceof|assembly/plugin/stream/Stream", "assembly/plugin/stream"],
  ])("%s comes from %s", (name, file) => {
    expect(sourceFileOf(name)).toBe(file);
  });

  it("drops nested type arguments", () => {
    expect(withoutTypeArguments("~lib/map/Map<i32,~lib/array/Array<i32>>#get")).toBe("~lib/map/Map#get");
  });

  it("`npm run size` reports the shipped module's packed data against the data it restores", () => {
    wasmBytes("plugin.wasm");
    const out = execFileSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "src/footprint/main.ts"), "--top", "1"], { cwd: repoRoot, encoding: "utf8" });
    const shipped = readWasmLayout(wasmBytes("plugin.wasm"));
    const named = readWasmLayout(wasmBytes("plugin.names.wasm"));
    const payload = named.dataSegments.reduce((n, x) => n + x, 0);
    expect(out).toContain(`build/plugin.wasm: ${shipped.totalBytes} bytes; data `);
    expect(out).toContain(`(${shipped.dataSegments[0]} bytes packed) for ${payload} bytes of data in ${named.dataSegments.length} segments unpacked`);
  });
});
