import { existsSync } from "node:fs";
import { intOption, stringOption } from "../args.js";
import { type Command, CliError, UsageError } from "../command.js";
import { inspectImage } from "../../oci/transfer.js";
import { asCliError } from "./pack.js";
import { writeSummary } from "./pull.js";

/**
 * An argument no registry reference can be: `.`/`..`/`~` or `/`-rooted, relative with `./` or
 * `../`, a Windows path, or a `.tar` file.
 */
export function looksLikePath(target: string): boolean {
  return /^(\.{1,2}|~)?[\\/]/.test(target) || /^(\.{1,2}|~)$/.test(target) || /^[A-Za-z]:[\\/]/.test(target) || /\.tar$/i.test(target);
}

export const inspect: Command = {
  name: "inspect",
  summary: "check a Wasm image (registry reference or local layout) the way Istio would",
  usage: `usage: wayroute inspect <reference | layout-dir | layout.tar> [options]

Like 'wayroute pull' without writing anything. A path that exists is read as an OCI layout.

options:
  --tag <tag>       which manifest of a local layout, when it holds several
  --insecure        talk plain HTTP to a non-loopback registry
  --retries <n>     attempts per request on 5xx / connection errors (default 4)
  --json            print JSON

Exit codes: 0 ok, 1 failure, 2 usage error.`,
  options: {
    tag: { type: "string" },
    insecure: { type: "boolean" },
    retries: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const [target, extra] = args.positionals;
    if (!target || extra) throw new UsageError("expected one <reference> or layout path");
    if (!existsSync(target) && looksLikePath(target)) {
      throw new CliError(`${target} does not exist (a local OCI layout directory or .tar was expected; a registry reference looks like host[:port]/repository[:tag])`);
    }
    try {
      const summary = await inspectImage(target, {
        tag: stringOption(args, "tag"),
        insecure: args.options.insecure === true,
        attempts: intOption(args, "retries", 4, 1, 20),
      });
      writeSummary(summary, args.options.json === true);
      return 0;
    } catch (err) {
      // Neither a path that exists nor a valid reference: say both, not only the reference part.
      if ((err as { code?: string }).code === "E_BAD_REFERENCE") throw new CliError(`${(err as Error).message}; no file or directory named ${target} exists either`);
      throw asCliError(err);
    }
  },
};
