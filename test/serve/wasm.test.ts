/**
 * The local proxy running real proxy-wasm plugins (third-party builds from the peer corpus, and
 * wayroute's own baselines) through the harness, forwarding over loopback TCP.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProxyServer, type FailStrategy } from "../../src/serve/index.js";
import { createWasmFilters, PluginLoadError } from "../../src/serve/wasm-filter.js";
import { send, startUpstream, type Upstream } from "./helpers.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const corpus = process.env.WAYROUTE_PEER_PLUGINS ?? resolve(repoRoot, "../shared/peer-plugins");
const peer = (f: string) => resolve(corpus, f);
const haveCorpus = existsSync(peer("go-sdk/http_headers.wasm"));
if (!haveCorpus && process.env.CI === "true") throw new Error(`peer plugin corpus not found at ${corpus}; set WAYROUTE_PEER_PLUGINS`);

let up: Upstream;
let proxies: ProxyServer[] = [];
beforeAll(async () => {
  up = await startUpstream("up");
});
afterAll(async () => {
  await up.close();
});
afterEach(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  proxies = [];
});

async function withPlugin(wasm: string, config?: unknown, failStrategy: FailStrategy = "FAIL_CLOSE", clusters: Record<string, string> = {}) {
  const filters = await createWasmFilters({ wasm, config, failStrategy }, { workers: 2, clusters });
  const p = new ProxyServer({ workers: 2, defaultCluster: { name: "d", endpoints: [up.address], lb: "round-robin" } }, filters);
  await p.start();
  proxies.push(p);
  return p;
}

describe.skipIf(!haveCorpus)("serve with third-party proxy-wasm plugins", () => {
  it("request-path header changes reach the upstream (TinyGo add-request-header)", async () => {
    const p = await withPlugin(peer("tinygo-add-req-header.wasm"));
    const r = await send(p.address, { body: "{}" });
    expect(r.status).toBe(200);
    expect(up.seen.at(-1)!.headers["wasm-context"]).toMatch(/^\d+$/);
  });

  it("response-path header changes reach the client (Go SDK http_headers)", async () => {
    const p = await withPlugin(peer("go-sdk/http_headers.wasm"), { header: "x-wasm-header", value: "x-value" });
    const r = await send(p.address, { body: "{}" });
    expect(r.status).toBe(200);
    expect(r.headers["x-wasm-header"]).toBe("x-value");
    expect(r.headers["x-proxy-wasm-go-sdk-example"]).toBe("http_headers");
    expect(up.seen.at(-1)!.headers["test"]).toBe("best");
  });

  it("passes a local reply built from the buffered request body (Go SDK http_body, echo)", async () => {
    const p = await withPlugin(peer("go-sdk/http_body.wasm"), "echo");
    const before = up.seen.length;
    const r = await send(p.address, { headers: { "content-type": "text/plain" }, body: "frame1...frame2..." });
    expect(r.status).toBe(200);
    expect(r.body).toBe("frame1...frame2...");
    expect(up.seen.length).toBe(before);
  });

  it("passes response body rewrites (Go SDK http_body, append to response)", async () => {
    const p = await withPlugin(peer("go-sdk/http_body.wasm"));
    const r = await send(p.address, { headers: { "content-type": "text/plain", "buffer-replace-at": "response", "buffer-operation": "append" }, body: "abc" });
    expect(r.status).toBe(200);
    expect(r.body.endsWith("[this is appended body]")).toBe(true);
    expect(JSON.parse(r.body.slice(0, -"[this is appended body]".length))).toMatchObject({ upstream: "up", body: "abc" });
  });

  it("routes the plugin's http calls to a real cluster and resumes the request (Go SDK http_auth_random)", async () => {
    const auth = await startUpstream("auth", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"uuid": "7b10a67a-1c67-4199-835b-cbefcd4a63d4"}'); // FNV-1a even: access granted
    });
    try {
      const p = await withPlugin(peer("go-sdk/http_auth_random.wasm"), undefined, "FAIL_CLOSE", { httpbin: auth.address });
      const r = await send(p.address, { body: "{}" });
      expect(auth.seen.length).toBe(1);
      expect(r.status).toBe(200);
      expect(r.headers["x-upstream"]).toBe("up");
    } finally {
      await auth.close();
    }
  });

  it("http-call verdict can be a local 403 from the plugin", async () => {
    const auth = await startUpstream("auth", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"uuid": "aaaaaaaa-1c67-4199-835b-cbefcd4a63d4"}'); // odd hash: forbidden
    });
    try {
      const p = await withPlugin(peer("go-sdk/http_auth_random.wasm"), undefined, "FAIL_CLOSE", { httpbin: auth.address });
      const r = await send(p.address, { body: "{}" });
      expect(r.status).toBe(403);
      expect(r.body).toBe("access forbidden");
      expect(r.headers["powered-by"]).toBe("proxy-wasm-go-sdk!!");
    } finally {
      await auth.close();
    }
  });
});

describe.skipIf(!haveCorpus)("serve: a plugin trap follows the failure policy", () => {
  // dispatch_call_on_tick has no HTTP context type: creating one traps (a Go panic).
  const trapping = () => peer("go-sdk/dispatch_call_on_tick.wasm");

  it("FAIL_CLOSE: 503, and the proxy keeps answering", async () => {
    const p = await withPlugin(trapping(), undefined, "FAIL_CLOSE");
    const r = await send(p.address, { body: "{}" });
    expect(r.status).toBe(503);
    const again = await send(p.address, { body: "{}" });
    expect(again.status).toBe(503);
  });

  it("FAIL_OPEN: the request goes through untouched", async () => {
    const p = await withPlugin(trapping(), undefined, "FAIL_OPEN");
    const before = up.seen.length;
    const r = await send(p.address, { body: "{}" });
    expect(r.status).toBe(200);
    expect(up.seen.length).toBe(before + 1);
  });

  it("FAIL_RELOAD: 503 for the failing stream, and a fresh VM for the next one", async () => {
    const filters = await createWasmFilters({ wasm: trapping(), failStrategy: "FAIL_RELOAD" }, { workers: 1 });
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [up.address], lb: "round-robin" } }, filters);
    await p.start();
    proxies.push(p);
    expect((await send(p.address, { body: "{}" })).status).toBe(503);
    expect((await send(p.address, { body: "{}" })).status).toBe(503);
    expect(filters.host.workers[0]!.generation).toBeGreaterThan(1);
  });
});

describe("serve: plugin loading errors", () => {
  it("refuses a file that is not wasm, naming the cause", async () => {
    await expect(createWasmFilters({ wasm: resolve(repoRoot, "package.json") }, { workers: 1 })).rejects.toBeInstanceOf(PluginLoadError);
  });

  it.skipIf(!existsSync(resolve(repoRoot, "build/passthrough.wasm")))("runs wayroute's passthrough baseline on two workers", async () => {
    const p = await withPlugin(resolve(repoRoot, "build/passthrough.wasm"));
    for (let i = 0; i < 4; i++) expect((await send(p.address, { body: '{"i":' + i + "}" })).status).toBe(200);
    expect(p.stats.requests).toBe(4);
  });
});

describe.skipIf(!existsSync(resolve(repoRoot, "build/plugin.wasm")))("serve with the wayroute plugin", () => {
  it("forwards every request to the endpoint the plugin picked (endpoint mode), sticky per tenant", async () => {
    const { SimCluster } = await import("../../src/sim/index.js");
    const { findPolicy } = await import("../../src/bench/policies.js");
    const sims = await SimCluster.start({ servers: 3, params: { speedup: 20 } });
    try {
      const config = findPolicy("wayroute")!.config!({ endpoints: sims.addresses, metricsCluster: "sim-pool", model: "sim-llm" }, repoRoot);
      const filters = await createWasmFilters({ wasm: resolve(repoRoot, "build/plugin.wasm"), config, rootId: "wayroute" }, { workers: 2, clusters: { "sim-pool": sims.addresses[0]! }, endpoints: sims.addresses });
      const p = new ProxyServer({ workers: 2, defaultCluster: { name: "d", endpoints: sims.addresses, lb: "round-robin" } }, filters);
      await p.start();
      proxies.push(p);
      const servedBy = new Map<string, Set<string>>();
      for (const tenant of ["a", "b", "c", "d"]) {
        for (let i = 0; i < 3; i++) {
          const r = await send(p.address, {
            headers: { "content-type": "application/json", "x-session-id": `tenant-${tenant}` },
            body: JSON.stringify({ model: "sim-llm", max_tokens: 2, messages: [{ role: "user", content: `q${i}` }] }),
          });
          expect(r.status).toBe(200);
          servedBy.set(tenant, (servedBy.get(tenant) ?? new Set()).add(String(r.headers["x-sim-server"])));
        }
      }
      expect(p.stats.steering.endpoint).toBe(12); // the plugin steered every request
      expect(p.stats.steering.default).toBe(0);
      for (const [tenant, servers] of servedBy) expect(servers.size, tenant).toBe(1); // sequential requests: no load spill
    } finally {
      await Promise.all(proxies.map((p) => p.stop()));
      proxies = [];
      await sims.stop();
    }
  });
});

describe.skipIf(!existsSync(resolve(repoRoot, "build/plugin.wasm")))("serve with the plugin reading the prompt (holdHeadersForBody)", () => {
  it("holds the headers while the plugin reads the body, then forwards headers and body to its pick", async () => {
    const { SimCluster } = await import("../../src/sim/index.js");
    const { findPolicy } = await import("../../src/bench/policies.js");
    const sims = await SimCluster.start({ servers: 3, params: { speedup: 20 } });
    try {
      const config = findPolicy("wayroute-prefix")!.config!({ endpoints: sims.addresses, metricsCluster: "sim-pool", model: "sim-llm" }, repoRoot);
      const filters = await createWasmFilters({ wasm: resolve(repoRoot, "build/plugin.wasm"), config, rootId: "wayroute" }, { workers: 1, clusters: { "sim-pool": sims.addresses[0]! }, endpoints: sims.addresses });
      const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: sims.addresses, lb: "round-robin" } }, filters);
      await p.start();
      proxies.push(p);
      const system = "You answer questions about the shop's return policy. ".repeat(30);
      const served = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const body = JSON.stringify({ model: "sim-llm", max_tokens: 2, messages: [{ role: "system", content: system }, { role: "user", content: `question ${i}` }] });
        const r = await send(p.address, { headers: { "content-type": "application/json" }, body });
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body).usage.prompt_tokens).toBeGreaterThan(400); // the whole body arrived
        served.add(String(r.headers["x-sim-server"]));
      }
      expect(p.stats.steering.endpoint).toBe(4);
      expect(served.size).toBe(1); // one shared prefix: the prefix-cache scorer keeps it on one server
    } finally {
      await Promise.all(proxies.map((p) => p.stop()));
      proxies = [];
      await sims.stop();
    }
  });
});
