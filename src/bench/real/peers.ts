/**
 * Where the real-stack benchmark finds its Go peers: the llm-d Endpoint Picker (`epp`) and
 * llm-d-inference-sim. `npm run setup:peers` builds them into `.peers/bin/` (not committed) from
 * the pinned Go module in `test/peers/`, and writes `<name>.version` beside each binary. The
 * environment variables WAYROUTE_EPP and WAYROUTE_INFERENCE_SIM name other binaries.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isExecutable } from "../../envoy/locate.js";

/** The pinned releases (test/peers/go.mod; the simulator cannot be pinned there, see docs/benchmarks.md). */
export const EPP_VERSION = "v0.9.2";
export const INFERENCE_SIM_VERSION = "v0.9.2";

/** Directory of the built peers, relative to the repository root. */
export const PEERS_BIN = join(".peers", "bin");

/** A located peer binary, or why there is none. */
export type PeerBinary = { ok: true; path: string; version: string } | { ok: false; reason: string };

function versionBeside(path: string, fallback: string): string {
  const stamp = `${path}.version`;
  return existsSync(stamp) ? readFileSync(stamp, "utf8").trim() || fallback : fallback;
}

function locate(repoRoot: string, name: string, envVar: string, pinned: string): PeerBinary {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) return { ok: false, reason: `${envVar}=${fromEnv} is not an executable file` };
    return { ok: true, path: fromEnv, version: versionBeside(fromEnv, process.env[`${envVar}_VERSION`] ?? "unknown version") };
  }
  const built = join(repoRoot, PEERS_BIN, name);
  if (isExecutable(built)) return { ok: true, path: built, version: versionBeside(built, pinned) };
  return { ok: false, reason: `${name} is not installed (${join(PEERS_BIN, name)} is missing; run npm run setup:peers, or set ${envVar})` };
}

/** llm-d's Endpoint Picker. */
export function findEpp(repoRoot: string): PeerBinary {
  return locate(repoRoot, "epp", "WAYROUTE_EPP", EPP_VERSION);
}

/** llm-d-inference-sim. */
export function findInferenceSim(repoRoot: string): PeerBinary {
  return locate(repoRoot, "llm-d-inference-sim", "WAYROUTE_INFERENCE_SIM", INFERENCE_SIM_VERSION);
}
