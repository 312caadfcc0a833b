/**
 * Post-link size step for the release plugin, run on the compiler's output before the data is
 * packed. It uses the newer binaryen (the `binaryen` package, not the one inside the
 * AssemblyScript compiler) and only passes that were measured to cost the request path nothing
 * (`npm run bench -- --baseline-plugin`, figures in docs/build.md):
 *
 * 1. identical functions merged (the newer binaryen finds more than the compiler's), and what
 *    that leaves unused removed;
 * 2. functions ordered by how often they are called, so the most called get one-byte indices
 *    in `call` instructions.
 *
 * Neither changes a function body's code, so the hot path runs the same instructions. Everything
 * the step sets on binaryen is set explicitly and restored afterwards: binaryen.js keeps options
 * in global state, and the output must not depend on what ran before. The output is
 * deterministic for the same input.
 */
import binaryen from "binaryen";

/** What the step did, for the build log. */
export interface ShrinkResult {
  /** The module after the step, with its `name` section when the input had one. */
  binary: Uint8Array;
  /** Defined functions before and after the step. */
  functionsBefore: number;
  functionsAfter: number;
}

export class ShrinkError extends Error {
  readonly code = "E_SHRINK";
  constructor(message: string) {
    super(message);
    this.name = "ShrinkError";
  }
}

function definedFunctions(module: binaryen.Module): number {
  let n = 0;
  for (let i = 0; i < module.getNumFunctions(); i++) if (!binaryen.getFunctionInfo(module.getFunctionByIndex(i)).module) n++;
  return n;
}

/** Runs the step on `binary` (a release build; its `name` section, if any, is kept). */
export function shrinkModule(binary: Uint8Array): ShrinkResult {
  const saved = { optimize: binaryen.getOptimizeLevel(), shrink: binaryen.getShrinkLevel(), debugInfo: binaryen.getDebugInfo() };
  const module = binaryen.readBinary(binary);
  try {
    const F = binaryen.Features;
    module.setFeatures(F.MVP | F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt);
    // The release's levels (asconfig.json); debug info on keeps the names for plugin.names.wasm.
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(1);
    binaryen.setDebugInfo(true);
    const functionsBefore = definedFunctions(module);
    module.runPasses(["duplicate-function-elimination", "remove-unused-module-elements", "reorder-functions"]);
    if (!module.validate()) throw new ShrinkError("binaryen found the module invalid after the size step");
    return { binary: module.emitBinary(), functionsBefore, functionsAfter: definedFunctions(module) };
  } finally {
    module.dispose();
    binaryen.setOptimizeLevel(saved.optimize);
    binaryen.setShrinkLevel(saved.shrink);
    binaryen.setDebugInfo(saved.debugInfo);
  }
}
