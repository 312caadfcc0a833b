// This file is the README's harness example, run as a test (readme-sync.test.ts keeps them equal).
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/index.js";

describe("my routing config", () => {
  it("stamps the tenant header and tags responses", async () => {
    const host = await ProxyWasmHost.create({
      module: "build/plugin.wasm", // or any proxy-wasm plugin
      workers: 2, // Envoy workers: one VM each, plus Envoy's main-thread VMs, sharing shared data and queues
      pluginConfig: {
        headers: {
          request: { set: { "x-tenant": "team-a" }, remove: ["x-gateway-destination-endpoint"] },
          response: { remove: ["server"] },
        },
      },
    });
    expect(host.configured).toBe(true);

    const res = await host.request({
      headers: { ":method": "GET", ":path": "/v1/models", "x-gateway-destination-endpoint": "6.6.6.6:80" },
      upstream: { status: 200, headers: { server: "uvicorn" }, body: "{}" },
    });
    expect(res.request?.headers.get("x-tenant")).toBe("team-a");
    expect(res.request?.headers.has("x-gateway-destination-endpoint")).toBe(false);
    expect(res.response.headers.has("server")).toBe(false);
    expect(host.metrics.get("wayroute_requests_total")?.value).toBe(1);

    await host.advance(5_000); // virtual clock: fires due ticks, times out http calls
    host.close();
  });
});
