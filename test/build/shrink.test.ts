/**
 * The post-link size step (src/shrink): identical functions merged, functions ordered by call
 * count, names kept, the same output for the same input, and binaryen's global options left as
 * they were. On the release build: the step ran (plugin.names.wasm has no two identical bodies).
 */
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { shrinkModule } from "../../src/shrink/shrink-module.js";
import { wasmBytes } from "./wasm-files.js";

const WAT = `(module
  (memory (export "memory") 1)
  (func $rare (param i32) (result i32) (i32.add (local.get 0) (i32.const 7)))
  (func $twin_a (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $twin_b (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $often (param i32) (result i32) (i32.xor (local.get 0) (i32.const 5)))
  (func $run (export "run") (param i32) (result i32)
    (call $rare
      (call $often (call $often (call $often (call $often
        (i32.add (call $twin_a (local.get 0)) (call $twin_b (local.get 0)))))))))
)`;

function fixture(): Uint8Array {
  const m = binaryen.parseText(WAT);
  binaryen.setDebugInfo(true);
  const bytes = m.emitBinary();
  binaryen.setDebugInfo(false);
  m.dispose();
  return bytes;
}

function functionNames(bytes: Uint8Array): string[] {
  const m = binaryen.readBinary(bytes);
  const names = Array.from({ length: m.getNumFunctions() }, (_, i) => binaryen.getFunctionInfo(m.getFunctionByIndex(i)).name);
  m.dispose();
  return names;
}

function run(bytes: Uint8Array, x: number): number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return (instance.exports["run"] as (x: number) => number)(x);
}

describe("size step", () => {
  it("merges identical functions, orders by call count, keeps names and behaviour", () => {
    const input = fixture();
    const out = shrinkModule(input);
    expect(out.functionsBefore).toBe(5);
    expect(out.functionsAfter).toBe(4);
    const names = functionNames(out.binary);
    expect(names).toHaveLength(4);
    expect(names.filter((n) => n.startsWith("twin"))).toHaveLength(1);
    // Called four times, so first; the merged twin, called twice, next.
    expect(names[0]).toBe("often");
    expect(names[1]).toMatch(/^twin_/);
    for (const x of [0, 1, 41, -9, 2 ** 31 - 1]) expect(run(out.binary, x)).toBe(run(input, x));
  });

  it("gives the same bytes for the same input and restores binaryen's options", () => {
    binaryen.setOptimizeLevel(0);
    binaryen.setShrinkLevel(2);
    const input = fixture();
    const a = shrinkModule(input).binary;
    expect(binaryen.getOptimizeLevel()).toBe(0);
    expect(binaryen.getShrinkLevel()).toBe(2);
    expect(binaryen.getDebugInfo()).toBe(false);
    expect(Buffer.from(shrinkModule(input).binary).equals(Buffer.from(a))).toBe(true);
  });

  it("ran on the release plugin: no two functions of plugin.names.wasm have the same body", () => {
    const m = binaryen.readBinary(wasmBytes("plugin.names.wasm"));
    const seen = new Map<string, string>();
    try {
      for (let i = 0; i < m.getNumFunctions(); i++) {
        const f = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
        if (f.module) continue;
        const key = `${f.params}:${f.results}:${f.vars.join(",")}:${binaryen.emitText(f.body)}`;
        expect(seen.get(key), `${f.name} is identical to ${seen.get(key)}`).toBeUndefined();
        seen.set(key, f.name);
      }
    } finally {
      m.dispose();
    }
  });
});
