/**
 * Locates the peer plugin corpus (prebuilt third-party proxy-wasm plugins). It is not part of the
 * repository: set WAYROUTE_PEER_PLUGINS, or place it at ../shared/peer-plugins next to the repo.
 * Absent corpus: the suites are skipped with a visible warning, except in CI where they fail.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const corpusDir = process.env.WAYROUTE_PEER_PLUGINS ?? resolve(repoRoot, "../shared/peer-plugins");

export function corpusPath(file: string): string {
  return join(corpusDir, file);
}

export const corpusAvailable = existsSync(corpusPath("go-sdk/http_headers.wasm"));

/** `describe` that needs the corpus. */
export function describeCorpus(name: string, body: () => void): void {
  if (corpusAvailable) {
    describe(name, body);
    return;
  }
  if (process.env.CI === "true") {
    describe(name, () => {
      it("finds the peer plugin corpus", () => {
        throw new Error(`peer plugin corpus not found at ${corpusDir}; set WAYROUTE_PEER_PLUGINS to its directory`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: peer plugin corpus not found at ${corpusDir} (set WAYROUTE_PEER_PLUGINS)`);
  describe.skip(name, body);
}
