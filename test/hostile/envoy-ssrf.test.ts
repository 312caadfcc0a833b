/**
 * The SSRF case of docs/rewriting.md ("Steering headers from clients") in real Envoy: an
 * ORIGINAL_DST cluster with use_http_header connects wherever x-gateway-destination-endpoint
 * says. A route sends every request to it, including requests no pool of the plugin matches (an
 * operator's catch-all). A client names an internal server in the header; it must never be
 * reached, whether a pool matched or not. Skipped with a notice without Envoy, failed under
 * CI=true (test/envoy/helpers.ts).
 */
import { afterEach, expect, it } from "vitest";
import { describeEnvoy } from "../envoy/helpers.js";
import { promValues, type Stack, startStack } from "../envoy/stack.js";
import { RecordingUpstream } from "../envoy/upstream.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../envoy/stack.js";

/** The shipped example without pools: before the steering stage, nothing stripped the header. */
const MODEL_ROUTING = JSON.parse(readFileSync(path.join(repoRoot, "examples/configs/model-routing.json"), "utf8"));

const CONFIG = {
  logLevel: "info",
  pools: [
    {
      name: "pool",
      match: { pathPrefix: "/v1/" },
      endpoints: [],
      steering: { mode: "endpoint", maxEndpoints: 1 },
      scrape: { enabled: false },
      profile: { scorers: [{ type: "queue-scorer", weight: 1 }], picker: { type: "max-score-picker" } },
    },
  ],
};

/** Adds a catch-all route to the pool's cluster after the generated ones. */
function catchAll(bootstrap: Record<string, unknown>): void {
  const listeners = (bootstrap as { static_resources: { listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: { route_config: { virtual_hosts: Array<{ routes: unknown[] }> } } }> }> }> } }).static_resources.listeners;
  for (const vh of listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.route_config.virtual_hosts) {
    vh.routes.push({ match: { prefix: "/" }, route: { cluster: "pool", timeout: "0s" } });
  }
}

/** Runs the Wasm filter with `config` instead of the one the bootstrap was generated from. */
function withPluginConfig(config: Record<string, unknown>): (b: Record<string, unknown>) => void {
  return (b) => {
    catchAll(b);
    const hcm = (b as { static_resources: { listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: { http_filters: Array<{ typed_config: { config: { configuration: { value: string } } } }> } }> }> }> } }).static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
    hcm.http_filters[0]!.typed_config.config.configuration.value = JSON.stringify(config);
  };
}

describeEnvoy("client destination headers behind ORIGINAL_DST + use_http_header (real Envoy)", (binary) => {
  let stack: Stack | undefined;
  let internal: RecordingUpstream | undefined;
  afterEach(async () => {
    await stack?.stop();
    await internal?.stop();
    stack = undefined;
    internal = undefined;
  });

  it("never connects to the address a client names, on requests a pool matches or not", async () => {
    internal = await RecordingUpstream.start("internal");
    stack = await startStack({ binary, config: CONFIG, endpointCluster: "original_dst", editBootstrap: catchAll });
    const spoof = { "x-gateway-destination-endpoint": internal.address, "content-type": "application/json" };
    // No pool matches /admin: the plugin only strips; ORIGINAL_DST then has no address to use.
    for (const path of ["/admin", "/healthz"]) {
      const r = await fetch(stack.base + path, { headers: spoof });
      await r.arrayBuffer();
      expect(r.status, path).not.toBe(200);
    }
    // The pool matches /v1/: the plugin's own pick replaces the client's value.
    for (let i = 0; i < 4; i++) {
      const r = await fetch(stack.base + "/v1/chat/completions", { method: "POST", headers: spoof, body: '{"model":"m","messages":[]}' });
      await r.arrayBuffer();
      expect(r.status).toBe(200);
    }
    expect(internal.requests).toEqual([]);
    expect(stack.upstreams.reduce((n, u) => n + u.requests.length, 0)).toBe(4);
    for (const u of stack.upstreams) for (const q of u.requests) expect(u.header(q, "x-gateway-destination-endpoint")).toBe(u.address);
  });

  it("with examples/configs/model-routing.json (no pools) the header is removed too", async () => {
    internal = await RecordingUpstream.start("internal");
    stack = await startStack({ binary, config: CONFIG, endpointCluster: "original_dst", editBootstrap: withPluginConfig(MODEL_ROUTING) });
    const spoof = { "x-gateway-destination-endpoint": internal.address, "content-type": "application/json" };
    for (const p of ["/v1/chat/completions", "/v1/models", "/admin"]) {
      const r = await fetch(stack.base + p, { method: "POST", headers: spoof, body: '{"model":"food-review","messages":[]}' });
      await r.arrayBuffer();
      expect(r.status, p).not.toBe(200);
    }
    expect(internal.requests).toEqual([]);
    const removed = await promValues(stack.envoy, "wayroute_steering_headers_removed_total");
    expect(removed.get("wayroute_steering_headers_removed_total")).toBe(3);
  });
});
