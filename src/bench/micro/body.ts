/**
 * Per-request cost of body-based model routing: chat bodies of about 1 KB, 4 KB and 220 KB
 * through `build/plugin.wasm` with a `bodyRouting` section, (a) extracting the model only and
 * (b) extracting and rewriting it (a catch-all model rewrite), each against
 * `build/body-reader.wasm`, which buffers the same body and copies it into the VM once without
 * parsing. The ratio is what the scan (and the rewrite) cost on top of reading the body.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ProxyWasmHost } from "../../host/index.js";
import { BenchError, compare, measurePair, type MicroResult, type MicroSuite } from "../suite.js";

/** A chat body of about `bytes` bytes (multi-turn conversation, model first). */
function chatBody(bytes: number): string {
  const messages: Array<{ role: string; content: string }> = [{ role: "system", content: "You are a helpful assistant." }];
  let size = 120;
  for (let i = 0; size < bytes; i++) {
    const content = `Turn ${i}: ` + "Summarise the quarterly report and list three risks. ".repeat(3);
    messages.push({ role: i % 2 === 0 ? "user" : "assistant", content });
    size += content.length + 32;
  }
  return JSON.stringify({ model: "bench-model", messages, stream: true, temperature: 0.2 });
}

const SIZES: Array<[string, number]> = [
  ["1 KB", 1024],
  ["4 KB", 4096],
  ["220 KB", 220 * 1024],
];

async function host(module: string, pluginConfig: unknown): Promise<ProxyWasmHost> {
  const h = await ProxyWasmHost.create({
    module,
    workers: 1,
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: pluginConfig as Record<string, unknown> | undefined,
    upstream: { status: 200, body: "{}" },
  });
  if (!h.configured) throw new BenchError(`${module} refused the benchmark configuration ${JSON.stringify(pluginConfig)}`);
  return h;
}

export const bodySuite: MicroSuite = {
  name: "body",
  description: "body-based model routing: model extraction, and extraction + rewrite, vs reading the body (body-reader.wasm)",
  async run(ctx): Promise<MicroResult[]> {
    const reader = join(ctx.repoRoot, "build/body-reader.wasm");
    const plugin = join(ctx.repoRoot, "build/plugin.wasm");
    for (const f of [reader, plugin]) if (!existsSync(f)) throw new BenchError(`${f} is missing: run 'npm run build:wasm'`);
    const base = await host(reader, undefined);
    const extract = await host(plugin, { bodyRouting: { maxBodyBytes: 1048576 } });
    const rewrite = await host(plugin, { bodyRouting: { maxBodyBytes: 1048576, modelRewrites: [{ targets: [{ modelRewrite: "bench-model-v2" }] }] } });
    const rows: MicroResult[] = [];
    const rounds = ctx.quick ? 1 : 3;
    for (const [label, size] of SIZES) {
      const body = chatBody(size);
      const send = (h: ProxyWasmHost) => () =>
        h.request({
          headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "llm.example", "content-type": "application/json", "content-length": String(body.length) },
          body,
        });
      // Correctness guard: a benchmark of a path that silently skipped routing would be meaningless.
      const probe = await send(rewrite)();
      if (!probe.request?.bodyText.includes('"model":"bench-model-v2"')) throw new BenchError(`the ${label} body was not rewritten; check the bodyRouting configuration`);
      ctx.log(`model extraction, ${label}`);
      const [e, b1] = await measurePair(send(extract), send(base), ctx.durationMs, rounds, size > 100_000 ? 2 : 16);
      rows.push(compare(`bodyRouting: extract model, ${label} chat body`, "body-reader.wasm", e, b1, `${body.length} bytes`));
      ctx.log(`model extraction + rewrite, ${label}`);
      const [w, b2] = await measurePair(send(rewrite), send(base), ctx.durationMs, rounds, size > 100_000 ? 2 : 16);
      rows.push(compare(`bodyRouting: extract + rewrite model, ${label} chat body`, "body-reader.wasm", w, b2, `${body.length} bytes`));
    }
    base.close();
    extract.close();
    rewrite.close();
    return rows;
  },
};

/** Runs the suite alone and returns its rows (for scripts that do not use the bench runner). */
export async function benchBody(repoRoot = process.cwd(), durationMs = 1000): Promise<object> {
  return bodySuite.run({ repoRoot, durationMs, quick: false, log: () => undefined });
}
