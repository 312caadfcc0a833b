import { intOption, stringOption } from "../args.js";
import { CliError, type Command, UsageError } from "../command.js";
import { waitForStop } from "../wait-for-stop.js";
import { SimCluster, SimParamError, type SimParams } from "../../sim/index.js";

function numberOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${v}`);
  return n;
}

export const sim: Command = {
  name: "sim",
  summary: "run simulated OpenAI-compatible model servers (vLLM metrics) on 127.0.0.1",
  usage: `usage: wayroute sim [options]

Starts simulated model servers on 127.0.0.1: POST /v1/chat/completions and /v1/completions
(streaming or not), GET /metrics (vLLM names), /v1/models, /health. Stops after --duration
seconds or on Ctrl-C. See docs/simulator.md for the behaviour model.

options:
  --servers <n>       how many servers (default 4)
  --base-port <p>     first port; consecutive ports follow (default: free ports)
  --duration <s>      stop after this many seconds (default 600, at most 86400)
  --speedup <x>       model time runs x times faster than real time (default 4)
  --max-batch <n>     running-batch limit per server (default 8)
  --kv-blocks <n>     KV-cache blocks of 16 tokens per server (default 512)
  --max-loras <n>     LoRA adapter slots (default 2)
  --orca <mode>       endpoint-load-metrics header: off | always | on-request (default on-request)
  --json              print the addresses as JSON

Exit codes: 0 ok, 1 failure, 2 usage error.`,
  options: {
    servers: { type: "string" },
    "base-port": { type: "string" },
    duration: { type: "string" },
    speedup: { type: "string" },
    "max-batch": { type: "string" },
    "kv-blocks": { type: "string" },
    "max-loras": { type: "string" },
    orca: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const params: Partial<SimParams> = {};
    const speedup = numberOption(stringOption(args, "speedup"), "speedup");
    if (speedup !== undefined) params.speedup = speedup;
    if (args.options["max-batch"] !== undefined) params.maxBatch = intOption(args, "max-batch", 8, 1, 4096);
    if (args.options["kv-blocks"] !== undefined) params.kvBlocks = intOption(args, "kv-blocks", 512, 1, 10_000_000);
    if (args.options["max-loras"] !== undefined) params.maxLoras = intOption(args, "max-loras", 2, 0, 1024);
    const orca = stringOption(args, "orca");
    if (orca !== undefined) params.orca = orca as SimParams["orca"];
    const duration = intOption(args, "duration", 600, 1, 86_400);
    // Options are read before starting anything: a bad value is a usage error (exit 2) with its
    // own hint, never reported as a failure to listen.
    const servers = intOption(args, "servers", 4, 1, 256);
    const basePort = intOption(args, "base-port", 0, 0, 65535);
    let cluster: SimCluster;
    try {
      cluster = await SimCluster.start({ servers, basePort, params });
    } catch (err) {
      if (err instanceof SimParamError) throw new UsageError(err.message);
      const hint = basePort ? "; pick another --base-port, or leave it out to use free ports" : "";
      throw new CliError(`cannot start the simulators: ${(err as Error).message}${hint}`);
    }
    const list = cluster.servers.map((s) => ({ name: s.name, address: s.address }));
    if (args.options.json === true) process.stdout.write(JSON.stringify({ servers: list }) + "\n");
    else {
      for (const s of list) process.stdout.write(`${s.name}  http://${s.address}\n`);
      process.stdout.write(`simulating ${list.length} servers for ${duration} s (Ctrl-C to stop)\n`);
    }
    await waitForStop(duration);
    await cluster.stop();
    return 0;
  },
};
