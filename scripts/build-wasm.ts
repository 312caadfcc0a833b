/**
 * Builds the wasm modules with the AssemblyScript compiler API:
 *   build/plugin.wasm          release plugin   (asconfig.json target "release")
 *   build/plugin.names.wasm    the same module plus its `name` section, for `npm run size`
 *   build/plugin.debug.wasm    debug plugin     (target "debug")
 *   build/passthrough.wasm     baseline: every callback Continue       (release flags)
 *   build/body-reader.wasm     baseline: buffers and reads the request body (release flags)
 * Each module gets a custom section `wayroute.version` (JSON: name, version, revision, dirty,
 * target, module) and is validated with wabt before it is written. Prints each file's size.
 *
 * The release plugin is compiled once with debug names (binaryen emits the same code and data
 * with or without them) and written twice: with the `name` section as plugin.names.wasm and
 * without it as plugin.wasm. plugin.wasm must fit its budget in size-budget.json.
 *
 * Before that, the release plugin goes through a post-link size step (src/shrink/shrink-module.ts,
 * the newer binaryen): -O3 with one-caller inlining outside the configure-time code, identical
 * functions merged, functions ordered by call count. plugin.names.wasm is the module after it.
 *
 * plugin.wasm then has its data packed (src/datapack/pack-data.ts): the static data is stored
 * compressed in one segment and restored by `_initialize`, and the step fails the build unless
 * memory after start is byte for byte that of the unpacked module. plugin.names.wasm and the debug
 * build keep their data as the compiler laid it out (for debugging and `npm run size`).
 *
 * Skips compiling when the inputs (AssemblyScript sources, asconfig.json, package version, git
 * revision) hash the same as the last build and the outputs exist. `--force` rebuilds.
 *
 * Usage: tsx scripts/build-wasm.ts [--force] [--only plugin|baselines] [--no-budget]
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import wabtInit from "wabt";
import { checkBudget, readBudgets } from "../src/footprint/budget.js";
import { packData } from "../src/datapack/pack-data.js";
import { shrinkModule } from "../src/shrink/shrink-module.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const buildDir = path.join(root, "build");
const stampFile = path.join(buildDir, ".wasm-build-stamp.json");

/** Name of the custom section carrying version metadata. */
export const VERSION_SECTION = "wayroute.version";

interface ModuleSpec {
  /** Short name used in the metadata and logs. */
  name: string;
  entry: string;
  target: "release" | "debug";
  outFile: string;
  /** Also write the module with its `name` section here (the shipped file drops it). */
  namesFile?: string;
  /** Store the data compressed, restored on start (src/datapack). */
  packData?: boolean;
  /** Run the post-link size step (src/shrink). */
  shrink?: boolean;
}

const MODULES: ModuleSpec[] = [
  { name: "plugin", entry: "assembly/index.ts", target: "release", outFile: "build/plugin.wasm", namesFile: "build/plugin.names.wasm", packData: true, shrink: true },
  { name: "plugin", entry: "assembly/index.ts", target: "debug", outFile: "build/plugin.debug.wasm" },
  { name: "passthrough", entry: "assembly/baselines/passthrough.ts", target: "release", outFile: "build/passthrough.wasm" },
  { name: "body-reader", entry: "assembly/baselines/body-reader.ts", target: "release", outFile: "build/body-reader.wasm" },
];

/** Failure of one module's build; the message carries the compiler's output. */
export class WasmBuildError extends Error {
  readonly code = "WASM_BUILD_FAILED";
  constructor(message: string) {
    super(message);
    this.name = "WasmBuildError";
  }
}

/** Paths whose changes change the wasm; the recorded revision is the last commit touching them. */
export const WASM_INPUT_PATHS = ["assembly", "proxy-wasm", "runtime", "asconfig.json", "package.json", "scripts/build-wasm.ts", "src/datapack", "src/shrink"];

/**
 * The source revision of the wasm: the last commit that changed one of WASM_INPUT_PATHS (not
 * HEAD, so unrelated commits neither change the metadata nor force a rebuild), and whether those
 * paths have uncommitted changes. Null revision outside a git checkout.
 */
function gitRevision(): { revision: string | null; dirty: boolean } {
  const git = (args: string[]): string =>
    execFileSync("git", args, { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  try {
    const revision = git(["log", "-1", "--format=%H", "--", ...WASM_INPUT_PATHS]);
    const status = git(["status", "--porcelain", "--", ...WASM_INPUT_PATHS]);
    return { revision: revision.length > 0 ? revision : null, dirty: status.length > 0 };
  } catch {
    return { revision: null, dirty: false };
  }
}

function listSources(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) listSources(full, out);
    else if (name.endsWith(".ts") && !name.endsWith(".spec.ts")) out.push(full);
  }
  return out;
}

function inputsHash(extra: string): string {
  const hash = createHash("sha256");
  for (const file of [...listSources(path.join(root, "assembly")), ...listSources(path.join(root, "proxy-wasm")), ...listSources(path.join(root, "runtime")), ...listSources(path.join(root, "src/datapack")), ...listSources(path.join(root, "src/shrink"))]) {
    hash.update(path.relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  hash.update(readFileSync(path.join(root, "asconfig.json")));
  hash.update(extra);
  return hash.digest("hex");
}

function writeAtomic(file: string, contents: Uint8Array | string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, file);
}

function leb128(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** Appends a custom section (id 0) named `name` holding `payload` to a wasm binary. */
export function appendCustomSection(binary: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb128(nameBytes.length), ...nameBytes, ...payload];
  const section = Uint8Array.from([0, ...leb128(body.length), ...body]);
  const out = new Uint8Array(binary.length + section.length);
  out.set(binary, 0);
  out.set(section, binary.length);
  return out;
}

/** The binary without its custom sections named `name` (section order otherwise unchanged). */
export function removeCustomSection(binary: Uint8Array, name: string): Uint8Array {
  const kept: Uint8Array[] = [binary.subarray(0, 8)];
  let pos = 8;
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = binary[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < binary.length) {
    const start = pos;
    const id = binary[pos++]!;
    const size = u32();
    const end = pos + size;
    let drop = false;
    if (id === 0) {
      const length = u32();
      drop = new TextDecoder().decode(binary.subarray(pos, pos + length)) === name;
    }
    if (!drop) kept.push(binary.subarray(start, end));
    pos = end;
  }
  const out = new Uint8Array(kept.reduce((n, k) => n + k.length, 0));
  let at = 0;
  for (const k of kept) {
    out.set(k, at);
    at += k.length;
  }
  return out;
}

async function compile(spec: ModuleSpec): Promise<Uint8Array> {
  const config = JSON.parse(readFileSync(path.join(root, "asconfig.json"), "utf8"));
  // asc adds the config's `entries` to the command line ones; baselines must not pull in the
  // plugin entry, so the config is served without them (the entry comes from `spec`).
  const configText = JSON.stringify({ ...config, entries: [] });
  let binary: Uint8Array | null = null;
  const stderr: string[] = [];
  const result = await asc.main(
    [spec.entry, "--config", "asconfig.json", "--target", spec.target, "--outFile", spec.outFile, ...(spec.namesFile ? ["--debug"] : [])],
    {
      readFile(name: string, baseDir: string) {
        const full = path.resolve(root, baseDir, name);
        if (full === path.join(root, "asconfig.json")) return configText;
        try {
          return readFileSync(full, "utf8");
        } catch {
          return null;
        }
      },
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents;
      },
      stderr: {
        write(chunk: string | Uint8Array) {
          stderr.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
          return true;
        },
      },
    } as never,
  );
  if (result.error || binary === null) {
    throw new WasmBuildError(
      `compiling ${spec.entry} (target ${spec.target}) failed: ${result.error?.message ?? "no output"}\n${stderr.join("")}` +
        "\nFix the AssemblyScript error above and rerun `npm run build:wasm`.",
    );
  }
  return binary;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const force = args.includes("--force");
  const onlyIndex = args.indexOf("--only");
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : null;
  const selected = MODULES.filter((m) =>
    only === null ? true : only === "plugin" ? m.name === "plugin" : m.name !== "plugin",
  );

  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { name: string; version: string };
  const { revision, dirty } = gitRevision();
  const hash = inputsHash(JSON.stringify({ version: pkg.version, revision, dirty }));
  mkdirSync(buildDir, { recursive: true });

  let stamp: Record<string, string> = {};
  try {
    stamp = JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    stamp = {};
  }

  const wabt = await wabtInit();
  for (const spec of selected) {
    const outPath = path.join(root, spec.outFile);
    const namesPath = spec.namesFile ? path.join(root, spec.namesFile) : null;
    if (!force && stamp[spec.outFile] === hash && existsSync(outPath) && (namesPath === null || existsSync(namesPath))) {
      console.log(`${spec.outFile.padEnd(26)} ${String(statSync(outPath).size).padStart(8)} bytes (unchanged)`);
      continue;
    }
    const started = Date.now();
    let compiled = await compile(spec);
    let note = "";
    if (spec.shrink) {
      const before = removeCustomSection(compiled, "name").length;
      const shrunk = shrinkModule(compiled);
      compiled = shrunk.binary;
      note += `, size step ${removeCustomSection(compiled, "name").length - before} bytes (${shrunk.functionsBefore} -> ${shrunk.functionsAfter} functions, ${shrunk.configureOnly} configure-time only)`;
    }
    const metadata = {
      name: pkg.name,
      version: pkg.version,
      revision,
      dirty,
      module: spec.name,
      target: spec.target,
    };
    const version = new TextEncoder().encode(JSON.stringify(metadata));
    const named = appendCustomSection(compiled, VERSION_SECTION, version);
    let binary = namesPath ? removeCustomSection(named, "name") : named;
    if (spec.packData) {
      // Packed without the name section (binaryen would not keep it), then labelled like the rest.
      const packed = packData(removeCustomSection(compiled, "name"));
      if (packed.packed) {
        binary = appendCustomSection(packed.binary, VERSION_SECTION, version);
        note += `, data ${packed.imageBytes} -> ${packed.packedBytes} bytes packed`;
        // Room for the decoder's table past the data: the VM starts with more memory.
        if (packed.addedPages > 0) note += ` (initial memory raised by ${packed.addedPages} page(s) for the decoder's table)`;
      } else {
        note += `, data left unpacked: ${packed.reason}`;
      }
    }
    const module = wabt.readWasm(binary, { readDebugNames: false });
    try {
      module.validate();
    } catch (error) {
      throw new WasmBuildError(`${spec.outFile} failed wabt validation: ${(error as Error).message}`);
    } finally {
      module.destroy();
    }
    // Write-then-rename: test processes may build concurrently and must never read half a file.
    writeAtomic(outPath, binary);
    if (namesPath) writeAtomic(namesPath, named);
    stamp[spec.outFile] = hash;
    writeAtomic(stampFile, JSON.stringify(stamp, null, 2));
    console.log(`${spec.outFile.padEnd(26)} ${String(binary.length).padStart(8)} bytes (${Date.now() - started} ms${note})`);
  }
  // Checked on every build, also when nothing was recompiled, so an over-budget module keeps failing.
  // `--no-budget` (used by `npm run size`) builds without failing, to show where the bytes went.
  for (const budget of args.includes("--no-budget") ? [] : readBudgets(root)) {
    const file = path.join(root, budget.file);
    if (!existsSync(file)) continue;
    const over = checkBudget(budget, statSync(file).size);
    if (over) throw new WasmBuildError(over);
  }
}

// Build only when run as a script; tests import the constants above.
const invokedPath = process.argv[1] ? path.resolve(process.argv[1]) : "";
if (invokedPath === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
