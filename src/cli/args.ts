import { type OptionSpec, type ParsedArgs, UsageError } from "./command.js";

/** Option names that would reach `Object.prototype` through a plain object. */
const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/**
 * The one argument parser every subcommand shares: `--name value`, `--name=value`, `-n value`,
 * boolean `--flag` / `--no-flag`, repeatable list options, and `--` to end options. Only a
 * command's own options are known (`Object.hasOwn`): `--__proto__`, `--constructor` and friends
 * are unknown options, never a way into the options object's prototype.
 */
export function parseArgs(argv: readonly string[], specs: Record<string, OptionSpec>): ParsedArgs {
  const options: ParsedArgs["options"] = {};
  const known = (n: string) => !FORBIDDEN_NAMES.has(n) && Object.hasOwn(specs, n);
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.short) byShort.set(spec.short, name);
    if (spec.default !== undefined) options[name] = spec.default;
    if (spec.type === "list") options[name] = [];
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      if (!known(name) && name.startsWith("no-") && known(name.slice(3)) && specs[name.slice(3)]!.type === "boolean") {
        options[name.slice(3)] = false;
        continue;
      }
    } else if (arg.startsWith("-") && arg.length === 2) {
      name = byShort.get(arg.slice(1));
      if (!name) throw new UsageError(`unknown option ${arg}`);
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = known(name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (spec.type === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new UsageError(`--${name} takes no value`);
      }
      options[name] = inline === undefined ? true : inline === "true";
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (spec.type === "list") (options[name] as string[]).push(value);
    else options[name] = value;
  }
  return { positionals, options };
}

/** Reads a string option, throwing a usage error naming it when it is required and missing. */
export function stringOption(args: ParsedArgs, name: string, required: true): string;
export function stringOption(args: ParsedArgs, name: string, required?: false): string | undefined;
export function stringOption(args: ParsedArgs, name: string, required = false): string | undefined {
  const v = args.options[name];
  if (typeof v === "string") return v;
  if (required) throw new UsageError(`--${name} is required`);
  return undefined;
}

/** Reads an integer option within [min, max]. */
export function intOption(args: ParsedArgs, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = args.options[name];
  if (v === undefined || v === false) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return n;
}
