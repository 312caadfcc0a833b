/** One `wayroute` subcommand. Each lives in its own file under `src/cli/commands/`. */
export interface Command {
  /** The word after `wayroute`. */
  name: string;
  /** One line for `wayroute --help`. */
  summary: string;
  /** Full usage text printed by `wayroute <name> --help`. */
  usage: string;
  /** Option specs understood by the shared parser. */
  options: Record<string, OptionSpec>;
  /** Runs the command; resolves to the process exit code. */
  run(args: ParsedArgs): Promise<number>;
}

export interface OptionSpec {
  /** `boolean` flags take no value; `string` options take one; `list` may repeat. */
  type: "boolean" | "string" | "list";
  /** A one-letter alias, e.g. `o` for `--out`. */
  short?: string;
  default?: string | boolean;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | boolean | string[] | undefined>;
}

/**
 * A usage error: printed as one line plus a pointer to `--help`, exit code 2.
 * Every other failure a command knows about should be a `CliError` with exit code 1.
 */
export class UsageError extends Error {
  readonly code = "E_USAGE";
}

/** A known failure: one line on stderr naming the cause, then exit with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code = "E_CLI",
  ) {
    super(message);
  }
}
