/**
 * Test helper: makes sure the wasm modules are built and current (the build script skips work
 * when its inputs are unchanged), then hands out their bytes.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

let built = false;

/** Runs `scripts/build-wasm.ts` once per test process. */
export function ensureWasmBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts", "build-wasm.ts")], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "inherit"],
  });
  built = true;
}

/** Bytes of `build/<name>` (e.g. "plugin.wasm"), building first if needed. */
export function wasmBytes(name: string): Uint8Array<ArrayBuffer> {
  ensureWasmBuilt();
  const file = readFileSync(path.join(repoRoot, "build", name));
  const bytes = new Uint8Array(new ArrayBuffer(file.length));
  bytes.set(file);
  return bytes;
}
