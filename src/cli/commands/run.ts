import { readFile } from "node:fs/promises";
import { type Command, CliError, UsageError } from "../command.js";
import { findPluginWasm, PluginNotFoundError } from "../../config/index.js";
import { describeJsonSyntaxError } from "../../config/json-syntax.js";
import { ModuleLoadError, HostError } from "../../host/index.js";
import { parseScenario, runScenario, ScenarioError } from "../../scenario/index.js";
import type { ScenarioResult } from "../../scenario/index.js";

/** Every WebAssembly binary starts with these four bytes ("\0asm"). */
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

function isWasm(bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((b, i) => bytes[i] === b);
}

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/**
 * The line the plugin logged when it refused its configuration (it names the field by JSON path),
 * without the worker prefix; the host's own "Unable to configure" line only when the plugin said
 * nothing.
 */
export function refusalLine(result: ScenarioResult): string | undefined {
  const parsed = result.logs.map((l) => /^\[worker \d+\] (\w+): (.*)$/s.exec(l)).filter((m) => m !== null);
  const errors = parsed.filter((m) => m[1] === "error" || m[1] === "critical");
  const own = errors.find((m) => !m[2]!.startsWith("Unable to configure"));
  return (own ?? errors[0])?.[2];
}

export const run: Command = {
  name: "run",
  summary: "run a JSON scenario through a proxy-wasm plugin in the host harness",
  usage: `usage: wayroute run [<plugin.wasm>] <scenario.json> [options]

Loads the plugin into the Envoy-faithful host harness (one VM per worker plus Envoy's main-thread
VMs), plays the scenario's ticks and HTTP exchanges, and prints a JSON result: request and response
headers and bodies after the plugin, local replies, logs, http calls, metrics and shared data.
The first argument is the plugin; with only a scenario, the package's own build/plugin.wasm runs
it (the scenario's "plugin" object gives its config, root id and failure policy).
Scenario format: schemas/scenario.schema.json; result format: schemas/scenario-result.schema.json.

options:
  --compact    print the result on one line

Exit codes: 0 the scenario ran and every 'expect' held; 1 the scenario is invalid, the plugin
refused its config (its refusal line, naming the field, goes to stderr), or an 'expect' failed
(the result is still printed); 2 usage error.`,
  options: {
    compact: { type: "boolean" },
  },
  async run(args) {
    if (args.positionals.length < 1 || args.positionals.length > 2) throw new UsageError("expected [<plugin.wasm>] <scenario.json>");
    const scenarioPath = args.positionals[args.positionals.length - 1]!;
    let wasmPath = args.positionals.length === 2 ? args.positionals[0]! : undefined;
    if (wasmPath === undefined) {
      try {
        wasmPath = findPluginWasm();
      } catch (err) {
        if (err instanceof PluginNotFoundError) throw new CliError(`${err.message.replace(" or pass --wasm <file>", "")}, or name the plugin: wayroute run <plugin.wasm> ${scenarioPath}`);
        throw err;
      }
    }
    const wasm = await readInput(wasmPath, "plugin");
    if (!isWasm(wasm)) {
      const swapped = args.positionals.length === 2 && /^\s*[{[]/.test(wasm.subarray(0, 64).toString("utf8"));
      throw new CliError(
        `${wasmPath} is not a WebAssembly module${swapped ? " (it looks like JSON)" : ""}: the first argument is the plugin (.wasm), the second the scenario (.json)`,
      );
    }
    const scenarioBytes = await readInput(scenarioPath, "scenario");
    if (isWasm(scenarioBytes)) throw new UsageError(`${scenarioPath} is a WebAssembly module, not a scenario: expected [<plugin.wasm>] <scenario.json>`);
    const text = scenarioBytes.toString("utf8");
    try {
      JSON.parse(text);
    } catch (err) {
      throw new CliError(`${scenarioPath} is not valid JSON: ${describeJsonSyntaxError(text, err)}`);
    }
    let result: ScenarioResult;
    try {
      result = await runScenario(wasm, parseScenario(text, scenarioPath));
    } catch (err) {
      if (err instanceof ModuleLoadError || err instanceof HostError) throw new CliError(`plugin ${wasmPath}: ${err.message}`);
      if (err instanceof ScenarioError) throw new CliError(err.message);
      throw err;
    }
    process.stdout.write(JSON.stringify(result, null, args.options.compact === true ? undefined : 2) + "\n");
    if (!result.configured) {
      const line = refusalLine(result) ?? "it logged no reason";
      process.stderr.write(`wayroute run: the plugin refused its configuration: ${line}\n`);
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
