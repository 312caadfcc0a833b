import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { stringOption } from "../args.js";
import { type Command, CliError, UsageError } from "../command.js";
import { isCodedError } from "../../oci/errors.js";
import { buildWasmImage, WASM_IMAGE_FORMATS, type WasmImageFormat } from "../../oci/image.js";
import { writeLayoutDir, writeLayoutTar } from "../../oci/layout.js";
import { digestHex } from "../../oci/digest.js";
import { assertWasm } from "../../oci/wasm.js";

/**
 * Re-raises a library error carrying a stable code as a one-line CLI failure (exit 1). The CLI's
 * own errors pass through unchanged, so a usage error keeps its exit code 2.
 */
export function asCliError(err: unknown): unknown {
  if (err instanceof UsageError || err instanceof CliError) return err;
  return isCodedError(err) ? new CliError(err.message, 1, err.code) : err;
}

async function packageJson(): Promise<{ version?: string; repository?: string | { url?: string } } | undefined> {
  try {
    return JSON.parse(await readFile("package.json", "utf8"));
  } catch {
    return undefined;
  }
}

function gitRevision(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const pack: Command = {
  name: "pack",
  summary: "package the plugin .wasm as an OCI image layout (compat or artifact format)",
  usage: `usage: wayroute pack --out <dir> [options]

Writes an OCI image layout directory <dir> and the same layout as <dir>.tar, holding the plugin in
one of the two formats Istio's WasmPlugin fetcher accepts, and prints the manifest digest.
The output is reproducible: the same wasm and annotations give the same digests.

options:
  --out <dir>           layout directory to write (required; absent or empty); the tar goes to <dir>.tar
  --force               replace an existing layout directory at --out (never anything else)
  --format <f>          compat (one tar+gzip layer holding plugin.wasm; default) or
                        artifact (two layers: raw wasm + runtime config)
  --wasm <file>         module to package (default build/plugin.wasm)
  --tar <file>          where to write the layout tar (default <dir>.tar); --no-tar to skip
  --tag <tag>           tag recorded in index.json (default: the version, else latest)
  --version <v>         org.opencontainers.image.version (default: ./package.json version)
  --source <url>        org.opencontainers.image.source (default: ./package.json repository)
  --revision <rev>      org.opencontainers.image.revision (default: git rev-parse HEAD, if any)
  --created <time>      org.opencontainers.image.created (default: omitted, for reproducibility)
  --root-id <id>        root id in the artifact runtime config (default wayroute)
  --json                print a JSON summary instead of the digest

Exit codes: 0 ok, 1 failure (e.g. the input is not wasm), 2 usage error.`,
  options: {
    out: { type: "string", short: "o" },
    force: { type: "boolean" },
    format: { type: "string", default: "compat" },
    wasm: { type: "string", default: "build/plugin.wasm" },
    tar: { type: "string" },
    "no-tar": { type: "boolean" },
    tag: { type: "string" },
    version: { type: "string" },
    source: { type: "string" },
    revision: { type: "string" },
    created: { type: "string" },
    "root-id": { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const out = stringOption(args, "out", true);
    const format = stringOption(args, "format") as WasmImageFormat;
    if (!WASM_IMAGE_FORMATS.includes(format)) throw new UsageError(`--format must be compat or artifact, got '${format}'`);
    const wasmPath = stringOption(args, "wasm", true);
    let wasm: Buffer;
    try {
      wasm = await readFile(wasmPath);
    } catch (err) {
      throw new CliError(`cannot read ${wasmPath} (${(err as NodeJS.ErrnoException).code ?? err}); build the plugin first or pass --wasm <file>`);
    }
    const pkg = await packageJson();
    const repo = typeof pkg?.repository === "string" ? pkg.repository : pkg?.repository?.url;
    const version = stringOption(args, "version") ?? pkg?.version;
    const source = stringOption(args, "source") ?? repo?.replace(/^git\+/, "");
    const revision = stringOption(args, "revision") ?? gitRevision();
    const tag = stringOption(args, "tag") ?? version ?? "latest";
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new UsageError(`--tag '${tag}' is not a valid OCI tag`);
    try {
      assertWasm(wasm, wasmPath);
      const image = buildWasmImage(wasm, {
        format,
        version: version || undefined,
        source: source || undefined,
        revision: revision || undefined,
        created: stringOption(args, "created"),
        rootId: stringOption(args, "root-id"),
      });
      const tarPath = args.options["no-tar"] === true ? undefined : (stringOption(args, "tar") ?? `${out.replace(/\/+$/, "")}.tar`);
      await writeLayoutDir(out, image, tag, { force: args.options.force === true });
      if (tarPath) await writeLayoutTar(tarPath, image, tag);
      if (args.options.json === true) {
        const summary = {
          format,
          layout: out,
          tar: tarPath ?? null,
          tag,
          manifestDigest: image.manifestDigest,
          sha256: digestHex(image.manifestDigest),
          wasmSha256: digestHex(image.wasmDigest),
          wasmSize: image.wasmSize,
          annotations: image.manifest.annotations ?? {},
        };
        process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      } else {
        process.stderr.write(`wrote ${out}${tarPath ? ` and ${tarPath}` : ""} (${format}, tag ${tag}, wasm ${image.wasmSize} bytes)\n`);
        process.stdout.write(image.manifestDigest + "\n");
      }
      return 0;
    } catch (err) {
      throw asCliError(err);
    }
  },
};
