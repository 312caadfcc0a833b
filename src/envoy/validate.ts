/**
 * Envoy's own config check: `envoy --mode validate -c FILE` parses the bootstrap, resolves every
 * typed config and builds listeners and clusters without binding sockets or starting workers.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bootstrap, writeBootstrap } from "./bootstrap-file.js";
import { EnvoyError } from "./errors.js";
import { type EnvoyBinary, findEnvoy } from "./locate.js";

/** The outcome of {@link validateBootstrap}. */
export interface ValidationResult {
  ok: boolean;
  /** Envoy's exit code. */
  exitCode: number;
  /** Envoy's combined output (its reason when `ok` is false). */
  output: string;
}

/** Runs `envoy --mode validate` on `bootstrap`; never throws for an invalid config. */
export function validateBootstrap(bootstrap: Bootstrap, binary: EnvoyBinary = findEnvoy()): Promise<ValidationResult> {
  const dir = mkdtempSync(join(tmpdir(), "wayroute-envoy-validate-"));
  const path = writeBootstrap(dir, bootstrap);
  return new Promise((resolve) => {
    execFile(
      binary.path,
      ["--mode", "validate", "-c", path, "--disable-hot-restart", "-l", "warning"],
      { encoding: "utf8", timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        const exitCode = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ ok: exitCode === 0, exitCode, output: `${stdout}${stderr}`.trim() });
      },
    );
  });
}

/** {@link validateBootstrap}, throwing `E_ENVOY_CONFIG` with Envoy's last output line when invalid. */
export async function assertValidBootstrap(bootstrap: Bootstrap, binary?: EnvoyBinary): Promise<void> {
  const r = await validateBootstrap(bootstrap, binary);
  if (!r.ok) {
    const lines = r.output.split("\n").filter((l) => l.trim());
    throw new EnvoyError("E_ENVOY_CONFIG", `envoy --mode validate rejected the config: ${lines.at(-1) ?? `exit ${r.exitCode}`}`);
  }
}
