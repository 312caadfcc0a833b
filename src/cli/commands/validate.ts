import { stringOption } from "../args.js";
import { type Command, CliError, UsageError } from "../command.js";
import { PluginNotFoundError, validateConfig } from "../../config/index.js";
import { ManifestError } from "../../manifest/errors.js";
import { readConfigFile } from "../../manifest/plugin-config.js";

export const validate: Command = {
  name: "validate",
  summary: "check plugin configs against the schema and the plugin itself",
  usage: `usage: wayroute validate <config.json|yaml>... [options]

Checks each config against schemas/plugin-config.schema.json, then loads the real plugin in the
host harness and runs proxy_on_configure with it, as Envoy would. A config passes only if both
accept it. Problems are printed one per line as '<file>: <JSON path> <what is wrong>'.

options:
  --wasm <file>   the plugin to ask (default: the package's build/plugin.wasm)
  --json          print the results as JSON

Exit codes: 0 every config is valid, 1 at least one is not, 2 usage error.`,
  options: {
    wasm: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError("expected at least one config file");
    const results = [];
    for (const file of args.positionals) {
      try {
        const config = await readConfigFile(file);
        results.push({ file, ...(await validateConfig(config, { wasm: stringOption(args, "wasm") })) });
      } catch (err) {
        if (err instanceof ManifestError || err instanceof PluginNotFoundError) throw new CliError(err.message);
        throw err;
      }
    }
    if (args.options.json === true) {
      process.stdout.write(JSON.stringify(results, null, 2) + "\n");
    } else {
      for (const r of results) {
        if (r.ok) process.stdout.write(`${r.file}: ok\n`);
        for (const p of r.schemaProblems) process.stderr.write(`${r.file}: ${p}\n`);
        if (r.pluginRefusal) process.stderr.write(`${r.file}: plugin: ${r.pluginRefusal}\n`);
      }
    }
    return results.every((r) => r.ok) ? 0 : 1;
  },
};
