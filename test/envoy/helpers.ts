/**
 * Shared pieces of the real-Envoy suite: the skip rule (no Envoy: skipped with a one-line notice,
 * except under CI=true where it is a failure) and small HTTP helpers. Everything runs on loopback.
 */
import { describe, it } from "vitest";
import { type EnvoyBinary, tryFindEnvoy, ENVOY_INSTALL_COMMAND } from "../../src/envoy/index.js";

export const envoyBinary: EnvoyBinary | undefined = tryFindEnvoy();

/** `describe` that needs a real Envoy binary. */
export function describeEnvoy(name: string, body: (binary: EnvoyBinary) => void): void {
  if (envoyBinary) {
    const binary = envoyBinary;
    describe(name, () => body(binary));
    return;
  }
  if (process.env.CI === "true") {
    describe(name, () => {
      it("finds Envoy", () => {
        throw new Error(`Envoy is required under CI=true: ${ENVOY_INSTALL_COMMAND}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: Envoy not found (install: ${ENVOY_INSTALL_COMMAND}, or set WAYROUTE_ENVOY)`);
  describe.skip(name, () => body(undefined as unknown as EnvoyBinary));
}
