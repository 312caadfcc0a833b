/**
 * The post-link size step (src/shrink): one-caller functions inlined except configure-time
 * ones, identical functions merged, functions ordered by call count, names kept, the same output
 * for the same input, and binaryen's global options left as they were. On the release build:
 * the step ran (plugin.names.wasm has no two identical bodies, config parsers kept apart).
 */
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { shrinkModule } from "../../src/shrink/shrink-module.js";
import { wasmBytes } from "./wasm-files.js";

const WAT = `(module
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))
  (func $parse (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const 10)) (i32.const 1)))
  (func $configure (export "proxy_on_configure") (param i32 i32) (result i32)
    (global.set $g (call $parse (local.get 0))) (i32.const 1))
  (func $vm_start (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func $initialize (export "_initialize"))
  (func $once (param i32) (result i32) (i32.sub (local.get 0) (global.get $g)))
  (func $twin_a (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $twin_b (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $often (param i32) (result i32) (i32.xor (local.get 0) (i32.const 5)))
  (func $run (export "run") (param i32) (result i32)
    (call $once (call $often (call $often (call $often (call $often
      (i32.add (call $twin_a (local.get 0)) (call $twin_b (i32.const 2)))))))))
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

/** Configures with `config`, then runs `run(x)`. */
function run(bytes: Uint8Array, config: number, x: number): number {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Record<string, (...a: number[]) => number>;
  exports["_initialize"]!();
  exports["proxy_on_configure"]!(config, 0);
  return exports["run"]!(x);
}

describe("size step", () => {
  it("inlines one-caller functions but configure-time ones, merges twins, orders by call count", () => {
    const input = fixture();
    const out = shrinkModule(input);
    expect(out.functionsBefore).toBe(9);
    expect(out.configureOnly).toBe(4); // the two callbacks, _initialize and parse
    const names = functionNames(out.binary);
    expect(names).not.toContain("once"); // one hot caller: inlined
    expect(names).toContain("parse"); // one configure-time caller: kept
    expect(names.filter((n) => n.startsWith("twin"))).toHaveLength(1);
    // Called four times, so first; the merged twin, called twice, next.
    expect(names[0]).toBe("often");
    expect(names[1]).toMatch(/^twin_/);
    expect(out.functionsAfter).toBe(names.length);
    for (const config of [0, 7]) for (const x of [0, 1, 41, -9, 2 ** 31 - 1]) expect(run(out.binary, config, x)).toBe(run(input, config, x));
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

  it("ran on the release plugin: config parsers kept apart, no two functions with the same body", () => {
    const m = binaryen.readBinary(wasmBytes("plugin.names.wasm"));
    const seen = new Map<string, string>();
    try {
      expect(m.getFunction("assembly/pools/config/parsePool")).not.toBe(0);
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
  }, 300_000); // builds the plugin first when it is stale
});
