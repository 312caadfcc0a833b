/**
 * `wayroute` command line. Exit codes, the same for every command: 0 success, 1 a failure (one line
 * on stderr naming the cause; an unexpected internal error also prints its stack trace), 2 a usage
 * error (one line plus a pointer to `--help`).
 */
import { parseArgs } from "./args.js";
import { type Command, CliError, UsageError } from "./command.js";
import { commands } from "./commands/index.js";

function topUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: wayroute <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Run `wayroute <command> --help` for a command's options.",
    "Exit codes (every command): 0 ok, 1 failure, 2 usage error.",
  ].join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    // No command is a usage error: the usage goes to stderr, as every other usage error's line does.
    process.stderr.write(topUsage() + "\n");
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(topUsage() + "\n");
    return 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`wayroute: unknown command '${name}'. Run 'wayroute --help'.\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage.trimEnd() + "\n");
    return 0;
  }
  try {
    return await command.run(parseArgs(rest, command.options));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`wayroute ${name}: ${err.message}. Run 'wayroute ${name} --help'.\n`);
      return 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`wayroute ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`wayroute ${name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

