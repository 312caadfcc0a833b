/**
 * The benchmark baselines behave as their names say, so benchmark differences measure the
 * plugin's policy and not a broken baseline.
 */
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { wasmBytes } from "./wasm-files.js";

function importNames(file: string): string[] {
  return WebAssembly.Module.imports(new WebAssembly.Module(wasmBytes(file)))
    .map((i) => `${i.module}.${i.name}`)
    .sort();
}

describe("passthrough.wasm", () => {
  it("imports only proxy_log (for abort) and changes nothing", async () => {
    expect(importNames("passthrough.wasm")).toEqual(["env.proxy_log"]);
    const host = await ProxyWasmHost.create({ module: wasmBytes("passthrough.wasm") });
    expect(host.configured).toBe(true);
    const result = await host.request({
      headers: { "x-a": "1" },
      body: ["part one, ", "part two"],
      upstream: { status: 202, headers: { "x-u": "u" }, body: "reply" },
    });
    expect(result.request!.headers.get("x-a")).toBe("1");
    expect(result.request!.bodyText).toBe("part one, part two");
    expect(result.response.status).toBe(202);
    expect(result.response.headers.get("x-u")).toBe("u");
    expect(result.response.bodyText).toBe("reply");
    expect(result.logs).toEqual([]);
  });
});

describe("body-reader.wasm", () => {
  it("buffers the whole request body, reads it, and forwards it unchanged", async () => {
    expect(importNames("body-reader.wasm")).toEqual(["env.proxy_get_buffer_bytes", "env.proxy_log"]);
    const host = await ProxyWasmHost.create({ module: wasmBytes("body-reader.wasm") });
    const chunks = ["{\"model\":", "\"m\",", "\"prompt\":\"" + "p".repeat(50_000) + "\"}"];
    const result = await host.request({ body: chunks });
    expect(result.trap).toBeUndefined();
    expect(result.upstreamCalled).toBe(true);
    expect(result.request!.bodyText).toBe(chunks.join(""));
    expect(result.response.status).toBe(200);
  });
});
