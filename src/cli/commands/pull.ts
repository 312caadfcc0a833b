import { intOption, stringOption } from "../args.js";
import { type Command, UsageError } from "../command.js";
import type { ImageSummary } from "../../oci/transfer.js";
import { pullImage } from "../../oci/transfer.js";
import { escapeControl } from "../../oci/terminal-text.js";
import { asCliError } from "./pack.js";

/** Writes an image summary to stdout as JSON or as text (shared by pull and inspect). */
export function writeSummary(s: ImageSummary, json: boolean): void {
  process.stdout.write(json ? JSON.stringify(s, null, 2) + "\n" : summaryText(s));
}

/** Human-readable lines for an image summary. */
function summaryText(s: ImageSummary): string {
  const lines = [
    ...(s.url ? [`url:            ${s.url}`] : []),
    `manifest:       ${s.manifestDigest}`,
    `sha256:         ${s.sha256}   (WasmPlugin.spec.sha256 for an oci:// url)`,
    `format:         ${s.format}`,
    `wasm sha256:    ${s.wasmSha256}   (spec.sha256 if served over http(s)://)`,
    `wasm size:      ${s.wasmSize} bytes`,
  ];
  // Annotations come from the image: escape control characters so they cannot rewrite the terminal.
  for (const [k, v] of Object.entries(s.annotations)) lines.push(`annotation:     ${escapeControl(k)}=${escapeControl(v)}`);
  return lines.join("\n") + "\n";
}

export const pull: Command = {
  name: "pull",
  summary: "pull a Wasm image, verify every digest, and report what a WasmPlugin needs",
  usage: `usage: wayroute pull <host[:port]/repository[:tag|@sha256:…]> [options]

Fetches the manifest and every blob, verifies each digest, extracts the module the way Istio
does (compat: plugin.wasm in the last tar+gzip layer; artifact: the wasm layer of exactly two),
and prints the manifest digest, the wasm sha256 and size, and the format.

options:
  --out <dir>       also write the image as an OCI layout directory (absent or empty)
  --force           replace an existing layout directory at --out (never anything else)
  --insecure        talk plain HTTP to a non-loopback registry
  --retries <n>     attempts per request on 5xx / connection errors (default 4)
  --json            print JSON

Exit codes: 0 ok, 1 failure (auth, unreachable, digest mismatch, not a Wasm image), 2 usage error.`,
  options: {
    out: { type: "string", short: "o" },
    force: { type: "boolean" },
    insecure: { type: "boolean" },
    retries: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const [ref, extra] = args.positionals;
    if (!ref || extra) throw new UsageError("expected one <reference>");
    try {
      const { summary } = await pullImage(ref, {
        out: stringOption(args, "out"),
        force: args.options.force === true,
        insecure: args.options.insecure === true,
        attempts: intOption(args, "retries", 4, 1, 20),
      });
      writeSummary(summary, args.options.json === true);
      return 0;
    } catch (err) {
      throw asCliError(err);
    }
  },
};
