/**
 * Post-link size step for the release plugin, run on the compiler's output before the data is
 * packed. It uses the newer binaryen (the `binaryen` package, not the one inside the
 * AssemblyScript compiler) and only passes measured to cost the request path nothing
 * (`npm run bench -- --baseline-plugin`, figures in docs/build.md):
 *
 * 1. `-O3` over the module with binaryen's own inlining limits, under which a function called
 *    from one place is inlined whatever its size (the compiler stops at 80), saving its frame,
 *    its call and what the optimiser then folds across the old boundary. Functions that only
 *    configure-time exports reach (`cold-split.ts`: `proxy_on_vm_start`, `proxy_on_configure`,
 *    `_initialize`) are marked not inlinable first: inlining them saves a few hundred bytes more
 *    but folds the config parsing into `proxy_on_configure`, where `npm run size` can no longer
 *    say which part is which;
 * 2. identical functions merged, and what that leaves unused removed;
 * 3. functions ordered by how often they are called, so the most called get one-byte indices
 *    in `call` instructions.
 *
 * Everything the step sets on binaryen is set explicitly and restored afterwards: binaryen.js
 * keeps options in global state, and the output must not depend on what ran before. The output
 * is deterministic for the same input.
 */
import binaryen from "binaryen";
import { splitCold } from "./cold-split.js";

/** Exports that run only when a VM starts and when a configuration arrives. */
export const CONFIGURE_EXPORTS = ["proxy_on_vm_start", "proxy_on_configure", "_initialize"] as const;

/** What the step did, for the build log. */
export interface ShrinkResult {
  /** The module after the step, with its `name` section when the input had one. */
  binary: Uint8Array;
  /** Defined functions before and after the step. */
  functionsBefore: number;
  functionsAfter: number;
  /** Functions only configure-time exports reach (kept out of inlining). */
  configureOnly: number;
}

export class ShrinkError extends Error {
  readonly code = "E_SHRINK";
  constructor(message: string) {
    super(message);
    this.name = "ShrinkError";
  }
}

/** Saves binaryen.js's global options this step sets; the returned function restores them. */
function saveGlobals(): () => void {
  const saved = {
    optimize: binaryen.getOptimizeLevel(),
    shrink: binaryen.getShrinkLevel(),
    debugInfo: binaryen.getDebugInfo(),
    fastMath: binaryen.getFastMath(),
    zeroFilled: binaryen.getZeroFilledMemory(),
    lowMemoryUnused: binaryen.getLowMemoryUnused(),
    always: binaryen.getAlwaysInlineMaxSize(),
    flexible: binaryen.getFlexibleInlineMaxSize(),
    oneCaller: binaryen.getOneCallerInlineMaxSize(),
    loops: binaryen.getAllowInliningFunctionsWithLoops(),
    noInline: binaryen.getPassArgument("no-inline"),
  };
  return () => {
    binaryen.setOptimizeLevel(saved.optimize);
    binaryen.setShrinkLevel(saved.shrink);
    binaryen.setDebugInfo(saved.debugInfo);
    binaryen.setFastMath(saved.fastMath);
    binaryen.setZeroFilledMemory(saved.zeroFilled);
    binaryen.setLowMemoryUnused(saved.lowMemoryUnused);
    binaryen.setAlwaysInlineMaxSize(saved.always);
    binaryen.setFlexibleInlineMaxSize(saved.flexible);
    binaryen.setOneCallerInlineMaxSize(saved.oneCaller);
    binaryen.setAllowInliningFunctionsWithLoops(saved.loops);
    binaryen.setPassArgument("no-inline", saved.noInline);
  };
}

/**
 * The options the compiler builds the release with (levels 3 and 1 as in asconfig.json, fast
 * math, the low 1 KiB of memory unused, memory not assumed zero), with binaryen's own inlining
 * limits (always up to 2, one caller at any size, others up to 20 without loops). Debug info on
 * keeps the names for plugin.names.wasm.
 */
function applySettings(): void {
  binaryen.setOptimizeLevel(3);
  binaryen.setShrinkLevel(1);
  binaryen.setDebugInfo(true);
  binaryen.setFastMath(true);
  binaryen.setZeroFilledMemory(false);
  binaryen.setLowMemoryUnused(true);
  binaryen.setAlwaysInlineMaxSize(2);
  binaryen.setFlexibleInlineMaxSize(20);
  binaryen.setOneCallerInlineMaxSize(-1);
  binaryen.setAllowInliningFunctionsWithLoops(false);
}

/** Marks each function in `names` not inlinable (binaryen's `no-inline` pass, one name each). */
function markNoInline(module: binaryen.Module, names: readonly string[]): void {
  for (const name of names) {
    // The pass takes a pattern in which `*` and `?` are wildcards.
    if (/[*?]/.test(name)) throw new ShrinkError(`cannot mark ${name} not inlinable: its name holds a wildcard character`);
    binaryen.setPassArgument("no-inline", name);
    module.runPasses(["no-inline"]);
  }
}

function definedFunctions(module: binaryen.Module): number {
  let n = 0;
  for (let i = 0; i < module.getNumFunctions(); i++) if (!binaryen.getFunctionInfo(module.getFunctionByIndex(i)).module) n++;
  return n;
}

/** Runs the step on `binary` (a release build exporting {@link CONFIGURE_EXPORTS}; its `name` section, if any, is kept). */
export function shrinkModule(binary: Uint8Array): ShrinkResult {
  const restore = saveGlobals();
  const module = binaryen.readBinary(binary);
  try {
    const F = binaryen.Features;
    module.setFeatures(F.MVP | F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt);
    applySettings();
    const functionsBefore = definedFunctions(module);
    const split = splitCold(module, CONFIGURE_EXPORTS);
    markNoInline(module, split.cold);
    module.optimize();
    module.runPasses(["duplicate-function-elimination", "remove-unused-module-elements", "reorder-functions"]);
    if (!module.validate()) throw new ShrinkError("binaryen found the module invalid after the size step");
    return { binary: module.emitBinary(), functionsBefore, functionsAfter: definedFunctions(module), configureOnly: split.cold.length };
  } finally {
    module.dispose();
    restore();
  }
}
