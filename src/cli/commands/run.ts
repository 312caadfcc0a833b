import { readFile } from "node:fs/promises";
import { type Command, CliError, UsageError } from "../command.js";
import { ModuleLoadError, HostError } from "../../host/index.js";
import { parseScenario, runScenario, ScenarioError } from "../../scenario/index.js";

export const run: Command = {
  name: "run",
  summary: "run a JSON scenario through a proxy-wasm plugin in the host harness",
  usage: `usage: wayroute run <plugin.wasm> <scenario.json> [options]

Loads the plugin into the Envoy-faithful host harness (one VM per worker), plays the scenario's
ticks and HTTP exchanges, and prints a JSON result: request and response headers and bodies after
the plugin, local replies, logs, http calls, metrics and shared data.
Scenario format: schemas/scenario.schema.json; result format: schemas/scenario-result.schema.json.

options:
  --compact    print the result on one line

Exit codes: 0 the scenario ran and every 'expect' held; 1 the scenario is invalid, the plugin
refused its config, or an 'expect' failed (the result is still printed); 2 usage error.`,
  options: {
    compact: { type: "boolean" },
  },
  async run(args) {
    const [wasmPath, scenarioPath, extra] = args.positionals;
    if (!wasmPath || !scenarioPath || extra) throw new UsageError("expected <plugin.wasm> <scenario.json>");
    let wasm: Uint8Array;
    let text: string;
    try {
      wasm = await readFile(wasmPath);
      text = await readFile(scenarioPath, "utf8");
    } catch (err) {
      throw new CliError(`cannot read ${(err as NodeJS.ErrnoException).path ?? "input"}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    let result;
    try {
      result = await runScenario(wasm, parseScenario(text, scenarioPath));
    } catch (err) {
      if (err instanceof ScenarioError || err instanceof ModuleLoadError || err instanceof HostError) throw new CliError(err.message);
      throw err;
    }
    process.stdout.write(JSON.stringify(result, null, args.options.compact === true ? undefined : 2) + "\n");
    if (!result.configured) {
      process.stderr.write("wayroute run: the plugin refused its configuration (see the logs in the result)\n");
      return 1;
    }
    if (!result.passed) {
      const failures = result.steps.flatMap((s, i) => ("expectFailures" in s ? s.expectFailures.map((f) => `step ${i}: ${f}`) : []));
      process.stderr.write(`wayroute run: ${failures.length} expectation(s) failed:\n${failures.map((f) => `  ${f}\n`).join("")}`);
      return 1;
    }
    return 0;
  },
};
