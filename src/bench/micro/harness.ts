/**
 * Requests per second through the harness: the same request (headers plus a small JSON body,
 * its response back) through `build/passthrough.wasm` (every callback Continue) and through
 * `build/plugin.wasm` with its default configuration, in one run. The ratio is the cost of the
 * plugin's request path relative to the proxy-wasm overhead alone.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ProxyWasmHost } from "../../host/index.js";
import { BenchError, compare, measurePair, type MicroResult, type MicroSuite } from "../suite.js";

const BODY = JSON.stringify({ model: "sim-llm", stream: false, messages: [{ role: "system", content: "You are helpful. ".repeat(20) }, { role: "user", content: "What is the capital of France?" }] });

async function host(path: string): Promise<ProxyWasmHost> {
  const h = await ProxyWasmHost.create({ module: path, workers: 1, rootId: "wayroute", logLevel: "error", upstream: { status: 200, headers: { "content-type": "application/json" }, body: '{"ok":true}' } });
  if (!h.configured) throw new BenchError(`${path} did not start with an empty configuration`);
  return h;
}

export const harnessSuite: MicroSuite = {
  name: "harness",
  description: "requests per second through the proxy-wasm harness: passthrough.wasm vs plugin.wasm",
  async run(ctx): Promise<MicroResult[]> {
    const pass = join(ctx.repoRoot, "build/passthrough.wasm");
    const plugin = join(ctx.repoRoot, "build/plugin.wasm");
    for (const f of [pass, plugin]) if (!existsSync(f)) throw new BenchError(`${f} is missing: run 'npm run build:wasm'`);
    const base = await host(pass);
    const pl = await host(plugin);
    const headersOnly = (h: ProxyWasmHost) => () => h.request({ headers: { ":method": "GET", ":path": "/v1/models", ":authority": "llm.example" } });
    const withBody = (h: ProxyWasmHost) => () => h.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "llm.example", "content-type": "application/json" }, body: BODY });
    ctx.log("headers-only requests");
    const [p1, b1] = await measurePair(headersOnly(pl), headersOnly(base), ctx.durationMs, ctx.quick ? 1 : 3);
    ctx.log("requests with a JSON body");
    const [p2, b2] = await measurePair(withBody(pl), withBody(base), ctx.durationMs, ctx.quick ? 1 : 3);
    base.close();
    pl.close();
    return [
      compare("plugin.wasm: GET, headers only", "passthrough.wasm", p1, b1, "request and response through one worker"),
      compare("plugin.wasm: POST chat, 400 B body", "passthrough.wasm", p2, b2, "empty plugin config"),
    ];
  },
};
