/**
 * What each new VM pays after the module is compiled: instantiating it (V8 copies the data
 * segments into the new memory) and running `_initialize` (for the shipped module this first
 * unpacks the data, see src/datapack). Measured in a fresh Node process with one compiler tier,
 * the module compiled eagerly first and not timed; imports are stubs, since `_initialize` calls no
 * host function.
 */
import { execFileSync } from "node:child_process";

export interface VmStart {
  /** `new WebAssembly.Instance` of the compiled module, median over the VMs. */
  instantiateMs: number;
  /** `_initialize` on the new instance, median over the VMs. */
  initializeMs: number;
  /** `_initialize` of the first VM (its code runs for the first time). */
  firstInitializeMs: number;
}

/** Starts `vms` VMs of the module at `wasmPath` in one fresh Node process and times them. */
export function measureVmStart(wasmPath: string, tier: "turbofan" | "liftoff", vms = 21): VmStart {
  const flags = tier === "turbofan" ? ["--no-liftoff"] : ["--liftoff", "--no-wasm-tier-up"];
  const script = `
    const b = require("fs").readFileSync(process.argv[1]);
    const m = new WebAssembly.Module(b);
    const imports = {};
    for (const i of WebAssembly.Module.imports(m)) (imports[i.module] ??= {})[i.name] = () => 0;
    const inst = [], init = [];
    for (let n = 0; n < ${vms}; n++) {
      let t = performance.now();
      const instance = new WebAssembly.Instance(m, imports);
      inst.push(performance.now() - t);
      t = performance.now();
      instance.exports._initialize();
      init.push(performance.now() - t);
    }
    process.stdout.write(JSON.stringify({ inst, init }));`;
  const out = JSON.parse(
    execFileSync(process.execPath, ["--no-wasm-lazy-compilation", ...flags, "-e", script, wasmPath], { encoding: "utf8" }),
  ) as { inst: number[]; init: number[] };
  const median = (xs: number[]): number => [...xs].sort((a, c) => a - c)[xs.length >> 1]!;
  return { instantiateMs: median(out.inst), initializeMs: median(out.init), firstInitializeMs: out.init[0]! };
}
