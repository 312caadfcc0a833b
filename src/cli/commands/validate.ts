import { stringOption } from "../args.js";
import { type Command, CliError, UsageError } from "../command.js";
import { type ConfigValidation, findPluginWasm, PluginNotFoundError, validateConfig } from "../../config/index.js";
import { ManifestError } from "../../manifest/errors.js";
import { readConfigFile } from "../../manifest/plugin-config.js";

/** One file's outcome: validated, or not readable as a config at all (`error`). */
type FileResult = { file: string } & (ConfigValidation | { ok: false; error: string; schemaProblems: string[] });

export const validate: Command = {
  name: "validate",
  summary: "check plugin configs against the schema and the plugin itself",
  usage: `usage: wayroute validate <config.json|yaml>... [options]

Checks each config against schemas/plugin-config.schema.json, then loads the real plugin in the
host harness and runs proxy_on_configure with it, as Envoy would. A config passes only if both
accept it. Every file is checked and reported, even after one fails; a file that does not parse
is named with the line and column. Problems are printed as '<file>: <JSON path> <what is wrong>':
the deepest schema problem of each file (with a count of the others), and the plugin's refusal.

options:
  --all-errors    print every schema problem, not only the deepest
  --wasm <file>   the plugin to ask (default: the package's build/plugin.wasm)
  --json          print the results as JSON (always every problem)

Exit codes: 0 every config is valid, 1 at least one is not, 2 usage error.`,
  options: {
    "all-errors": { type: "boolean" },
    wasm: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError("expected at least one config file");
    let wasm: string;
    try {
      wasm = findPluginWasm(stringOption(args, "wasm"));
    } catch (err) {
      if (err instanceof PluginNotFoundError) throw new CliError(err.message);
      throw err;
    }
    const results: FileResult[] = [];
    for (const file of args.positionals) {
      try {
        const config = await readConfigFile(file);
        results.push({ file, ...(await validateConfig(config, { wasm })) });
      } catch (err) {
        // One unreadable file is that file's failure; the others are still checked.
        if (!(err instanceof ManifestError)) throw err;
        results.push({ file, ok: false, error: err.message, schemaProblems: [] });
      }
    }
    if (args.options.json === true) {
      process.stdout.write(JSON.stringify(results, null, 2) + "\n");
    } else {
      const all = args.options["all-errors"] === true;
      for (const r of results) {
        if (r.ok) process.stdout.write(`${r.file}: ok\n`);
        if ("error" in r) process.stderr.write(`${r.file}: ${r.error}\n`);
        // pluginConfigProblems puts the deepest problem first.
        const shown = all ? r.schemaProblems : r.schemaProblems.slice(0, 1);
        for (const p of shown) process.stderr.write(`${r.file}: ${p}\n`);
        const hidden = r.schemaProblems.length - shown.length;
        if (hidden > 0) process.stderr.write(`${r.file}: (and ${hidden} more schema problem${hidden === 1 ? "" : "s"}; --all-errors lists them)\n`);
        if ("pluginRefusal" in r && r.pluginRefusal) process.stderr.write(`${r.file}: plugin: ${r.pluginRefusal}\n`);
      }
      const failed = results.filter((r) => !r.ok).length;
      if (results.length > 1 && failed) process.stderr.write(`${failed} of ${results.length} configs failed\n`);
    }
    return results.every((r) => r.ok) ? 0 : 1;
  },
};
