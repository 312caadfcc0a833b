/**
 * Standalone Envoy config generation: impossible combinations are refused before Envoy starts,
 * and every example config (plus the committed examples/envoy/envoy.yaml) passes Envoy's own
 * `envoy --mode validate`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { standaloneBootstrap, validateBootstrap } from "../../src/envoy/index.js";
import { ManifestError } from "../../src/manifest/index.js";
import { describeEnvoy } from "./helpers.js";

const root = resolve(import.meta.dirname, "../..");
const configsDir = join(root, "examples/configs");
const exampleConfigs = readdirSync(configsDir).filter((f) => f.endsWith(".json")).sort();
const read = (file: string) => JSON.parse(readFileSync(join(configsDir, file), "utf8")) as Record<string, unknown>;
const UPSTREAMS = ["127.0.0.1:18001", "127.0.0.1:18002"];
const wasmPath = join(root, "build/plugin.wasm");

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).message;
  }
  throw new Error("expected the generator to refuse");
}

type Route = { match: { headers?: { name: string; string_match?: { exact: string } }[] }; route: { cluster: string } };
function routesOf(bootstrap: Record<string, unknown>): Route[] {
  const hcm = (bootstrap as any).static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  return hcm.route_config.virtual_hosts.flatMap((v: { routes: Route[] }) => v.routes);
}
function wasmConfigOf(bootstrap: Record<string, unknown>): Record<string, unknown> {
  return (bootstrap as any).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
}

describe("standalone Envoy config generation", () => {
  it("hold mode without allow_on_headers_stop_iteration is refused", () => {
    const cfg = read("envoy-prefix-affinity.json");
    expect(refusal(() => standaloneBootstrap({ pluginConfig: cfg, wasmPath, allowOnHeadersStopIteration: false }))).toMatch(/holdHeadersForBody needs Envoy's allow_on_headers_stop_iteration/);
    expect(wasmConfigOf(standaloneBootstrap({ pluginConfig: cfg, wasmPath })).allow_on_headers_stop_iteration).toBe(true);
    expect(wasmConfigOf(standaloneBootstrap({ pluginConfig: read("gie-default.json"), wasmPath }))).not.toHaveProperty("allow_on_headers_stop_iteration");
  });

  it("route mode with no routes is refused", () => {
    const cfg = read("waypoint-route-mode.json") as { pools: { endpoints: unknown[] }[] };
    cfg.pools[0].endpoints = [];
    expect(refusal(() => standaloneBootstrap({ pluginConfig: cfg, wasmPath }))).toMatch(/route mode with no routes/);
  });

  it("route mode without endpoint addresses is refused (a standalone cluster needs ip:port)", () => {
    expect(refusal(() => standaloneBootstrap({ pluginConfig: read("waypoint-route-mode.json"), wasmPath }))).toMatch(/'qwen-0' has no address/);
  });

  it("ORIGINAL_DST with a fallback list is refused (Envoy reads one address)", () => {
    expect(refusal(() => standaloneBootstrap({ pluginConfig: read("gie-default.json"), wasmPath, endpointCluster: "original_dst" }))).toMatch(/maxEndpoints to 1 \(it is 2\)/);
  });

  it("route mode: one cluster per endpoint, named like its scrape cluster, matched on the header value", () => {
    const cfg = read("waypoint-route-mode.json") as { pools: { endpoints: { address?: string }[] }[] };
    cfg.pools[0].endpoints.forEach((e, i) => (e.address = `127.0.0.1:${18001 + i}`));
    const b = standaloneBootstrap({ pluginConfig: cfg, wasmPath });
    const routes = routesOf(b);
    expect(routes.slice(0, 4).map((r) => [r.match.headers?.[0]?.name, r.match.headers?.[0]?.string_match?.exact, r.route.cluster])).toEqual(
      [0, 1, 2, 3].map((i) => ["x-wayroute-backend", `qwen-${i}`, `inbound-vip|8000|http|qwen-${i}.llm.svc.cluster.local`]),
    );
    expect(routes[4]).toMatchObject({ route: { cluster: "qwen" } });
    expect(routes[4].match.headers).toBeUndefined();
  });
});

describeEnvoy("envoy --mode validate on every generated config", (binary) => {
  const cases: [string, () => Record<string, unknown>][] = [];
  for (const file of exampleConfigs) {
    cases.push([`examples/configs/${file}`, () => {
      const cfg = read(file) as { pools?: { steering?: { mode?: string }; endpoints?: { address?: string }[] }[] };
      // Route mode on a standalone Envoy needs each backend's address.
      for (const p of cfg.pools ?? []) if (p.steering?.mode === "route") p.endpoints?.forEach((e, i) => (e.address ??= `127.0.0.1:${18001 + i}`));
      return standaloneBootstrap({ pluginConfig: cfg, wasmPath, upstreams: UPSTREAMS });
    }]);
  }
  cases.push(["gie-default.json, ORIGINAL_DST variant", () => {
    const cfg = read("gie-default.json") as { pools: { steering: { maxEndpoints: number } }[] };
    cfg.pools[0].steering.maxEndpoints = 1;
    return standaloneBootstrap({ pluginConfig: cfg, wasmPath, endpointCluster: "original_dst" });
  }]);
  for (const [name, make] of cases) {
    it(name, async () => {
      const r = await validateBootstrap(make(), binary);
      expect(r.output).toMatch(/OK$/);
      expect(r.ok).toBe(true);
    });
  }
  it("examples/envoy/envoy.yaml", async () => {
    const text = readFileSync(join(root, "examples/envoy/envoy.yaml"), "utf8").replace("/etc/envoy/plugin.wasm", wasmPath);
    const r = await validateBootstrap(text, binary);
    expect(r.output).toMatch(/OK$/);
  });
});
