import { readFileSync } from "node:fs";
import { intOption, stringOption } from "../args.js";
import { CliError, type Command, UsageError } from "../command.js";
import { waitForStop } from "../wait-for-stop.js";
import { loadServeConfig, ProxyServer, resolveServeConfig, ServeConfigError, type FailStrategy, type ServeConfig } from "../../serve/index.js";
import { createWasmFilters, PluginLoadError } from "../../serve/wasm-filter.js";
import { describeJsonSyntaxError } from "../../config/json-syntax.js";
import { SimCluster } from "../../sim/index.js";
import { mapPoolsOntoSims, SIM_CLUSTER } from "../sim-mapping.js";

function pairs(list: string[], flag: string): Array<[string, string]> {
  return list.map((item) => {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${flag} takes name=value, got ${item}`);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

/** Reads --config as a file path, or as inline JSON when it starts with `{`. */
function pluginConfig(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  const text = v.trimStart().startsWith("{") ? v : (() => {
    try {
      return readFileSync(v, "utf8");
    } catch (err) {
      throw new CliError(`cannot read plugin config ${v}: ${(err as Error).message}`);
    }
  })();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`plugin config ${v.length > 60 ? v.slice(0, 60) + "..." : v} is not JSON: ${describeJsonSyntaxError(text, err)}`);
  }
}

export const serve: Command = {
  name: "serve",
  summary: "run the local proxy: a proxy-wasm plugin on every request, forwarding over TCP",
  usage: `usage: wayroute serve [options]

An HTTP proxy on 127.0.0.1 that runs the plugin (through the harness, one VM per worker plus
Envoy's main-thread VMs, as Envoy would) on every request and forwards to the upstream it chose:
the endpoints in x-gateway-destination-endpoint (primary, then fallbacks on connect failure), a
route-mode backend, or else the proxy's own load balancer over --upstream. Stops after --duration
seconds or Ctrl-C.

options:
  --plugin <file.wasm>        proxy-wasm plugin to run (none: plain proxy)
  --config <file|json>        plugin configuration (Istio pluginConfig)
  --root-id <id>              root id / Istio pluginName (default wayroute)
  --vm-id <id>                VM id (default empty)
  --fail-strategy <s>         FAIL_CLOSE (default), FAIL_OPEN or FAIL_RELOAD
  --allow-on-headers-stop-iteration
                              Envoy 1.35+ PluginConfig option: a headers StopIteration keeps
                              the headers while the plugin reads the body (default: the plugin
                              config's holdHeadersForBody)
  --workers <n>               workers, one VM each (default 2)
  --port <p>                  listen port on 127.0.0.1 (default 8080; 0 picks one)
  --upstream <ip:port>        default cluster endpoint (repeat)
  --lb <policy>               round-robin (default) or random
  --route-header <name>       route mode: header naming the backend
  --backend <name=ip:port,..> route-mode backend (repeat)
  --cluster <name=ip:port>    cluster for the plugin's http calls (repeat)
  --serve-config <file>       all of the above as JSON (see docs/simulator.md)
  --with-sim <n>              also start n simulated model servers as the upstreams; their
                              metrics are reachable through cluster "sim-pool". The plugin
                              config's endpoint-mode pools are mapped onto the simulators
                              (addresses and scrape cluster), each change listed on stderr
  --duration <s>              stop after this many seconds (default 600)
  --log-level <level>         plugin log lines printed to stderr (default warn)

Exit codes: 0 ok, 1 failure, 2 usage error.`,
  options: {
    plugin: { type: "string" },
    config: { type: "string" },
    "root-id": { type: "string" },
    "vm-id": { type: "string" },
    "fail-strategy": { type: "string" },
    "allow-on-headers-stop-iteration": { type: "boolean" },
    workers: { type: "string" },
    port: { type: "string" },
    upstream: { type: "list" },
    lb: { type: "string" },
    "route-header": { type: "string" },
    backend: { type: "list" },
    cluster: { type: "list" },
    "serve-config": { type: "string" },
    "with-sim": { type: "string" },
    duration: { type: "string" },
    "log-level": { type: "string" },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const failStrategy = (stringOption(args, "fail-strategy") ?? "FAIL_CLOSE") as FailStrategy;
    if (!["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"].includes(failStrategy)) throw new UsageError("--fail-strategy must be FAIL_CLOSE, FAIL_OPEN or FAIL_RELOAD");
    const nSim = intOption(args, "with-sim", 0, 0, 64);
    const sims = nSim ? await SimCluster.start({ servers: nSim }) : undefined;
    let proxy: ProxyServer | undefined;
    try {
      let config: ServeConfig;
      try {
        const file = stringOption(args, "serve-config");
        if (file) config = loadServeConfig(file);
        else {
          const upstreams = [...(args.options.upstream as string[]), ...(sims?.addresses ?? [])];
          const routeHeader = stringOption(args, "route-header");
          config = resolveServeConfig({
            port: intOption(args, "port", 8080, 0, 65535),
            workers: intOption(args, "workers", 2, 1, 64),
            defaultCluster: { name: "default", endpoints: upstreams, lb: (stringOption(args, "lb") ?? "round-robin") as "round-robin" },
            ...(routeHeader ? { routes: { header: routeHeader, backends: Object.fromEntries(pairs(args.options.backend as string[], "backend").map(([k, v]) => [k, v.split(",")])) } } : {}),
            clusters: { ...(sims ? { [SIM_CLUSTER]: sims.addresses[0]! } : {}), ...Object.fromEntries(pairs(args.options.cluster as string[], "cluster")) },
          });
        }
      } catch (err) {
        if (err instanceof ServeConfigError) throw new UsageError(err.message);
        throw err;
      }
      // --plugin and friends win over the serve config file's "plugin" object.
      const filePlugin = config.plugin;
      const pluginPath = stringOption(args, "plugin") ?? (typeof filePlugin?.wasm === "string" ? filePlugin.wasm : undefined);
      let filters;
      if (sims && stringOption(args, "serve-config")) {
        process.stderr.write(`warning: --with-sim: the serve config file's clusters are used as written; the simulators (${sims.addresses.join(", ")}) are not in them\n`);
      }
      if (pluginPath) {
        let plugin = stringOption(args, "config") !== undefined ? pluginConfig(stringOption(args, "config")) : filePlugin?.config;
        if (sims) {
          // Traffic must reach the simulators, not the addresses a production config names.
          const parsed = typeof plugin === "string" ? (() => { try { return JSON.parse(plugin) as unknown; } catch { return undefined; } })() : plugin;
          const mapped = mapPoolsOntoSims(parsed, sims.addresses);
          if (mapped.notices.length) plugin = mapped.config;
          for (const n of mapped.notices) process.stderr.write(`notice: --with-sim: ${n}\n`);
        }
        try {
          filters = await createWasmFilters(
            {
              wasm: pluginPath,
              config: plugin,
              rootId: stringOption(args, "root-id") ?? filePlugin?.rootId ?? "wayroute",
              vmId: stringOption(args, "vm-id") ?? filePlugin?.vmId ?? "",
              failStrategy: stringOption(args, "fail-strategy") !== undefined ? failStrategy : (filePlugin?.failStrategy ?? failStrategy),
              logLevel: (stringOption(args, "log-level") ?? "warn") as "warn", echoLogs: true,
              ...(typeof args.options["allow-on-headers-stop-iteration"] === "boolean" ? { allowOnHeadersStopIteration: args.options["allow-on-headers-stop-iteration"] } : {}),
            },
            { workers: config.workers, clusters: config.clusters, endpoints: [...config.defaultCluster.endpoints, ...Object.values(config.routes?.backends ?? {}).flat()] },
          );
        } catch (err) {
          if (err instanceof PluginLoadError) throw new CliError(err.message);
          throw err;
        }
      }
      proxy = new ProxyServer(config, filters);
      try {
        await proxy.start();
      } catch (err) {
        throw new CliError(`cannot listen on 127.0.0.1:${config.port}: ${(err as Error).message}; pick another --port`);
      }
      const duration = intOption(args, "duration", 600, 1, 86_400);
      process.stdout.write(`wayroute serve listening on http://${proxy.address} (${config.workers} workers${pluginPath ? `, plugin ${pluginPath}` : ", no plugin"})\n`);
      for (const s of sims?.servers ?? []) process.stdout.write(`  upstream ${s.name} http://${s.address}\n`);
      await waitForStop(duration);
      return 0;
    } finally {
      await proxy?.stop();
      await sims?.stop();
    }
  },
};
