/**
 * ABI-layer behaviour of build/plugin.wasm driven by a minimal host: re-configuration keeps the
 * last good config, unknown context ids never trap, and host blocks are reclaimed even when the
 * host misbehaves.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MiniHost } from "./mini-host.js";
import { wasmBytes } from "./wasm-files.js";

const PLUGIN_CONFIGURATION = 7;
const REQUEST_HEADERS = 0;
const ROOT = 1;

let plugin: WebAssembly.Module;

beforeAll(async () => {
  plugin = await WebAssembly.compile(wasmBytes("plugin.wasm"));
});

function configure(host: MiniHost, config: unknown): number {
  const bytes = new TextEncoder().encode(typeof config === "string" ? config : JSON.stringify(config));
  host.buffers.set(PLUGIN_CONFIGURATION, bytes);
  return host.call("proxy_on_configure", ROOT, bytes.length);
}

/** Runs request headers on a fresh stream and returns the resulting request header map. */
function requestThrough(host: MiniHost, streamId: number, headers: Array<[string, string]>): Array<[string, string]> {
  host.headerMaps.set(REQUEST_HEADERS, [...headers]);
  host.call("proxy_on_context_create", streamId, ROOT);
  expect(host.call("proxy_on_request_headers", streamId, headers.length, 1)).toBe(0);
  host.call("proxy_on_log", streamId);
  expect(host.call("proxy_on_done", streamId)).toBe(1);
  host.call("proxy_on_delete", streamId);
  return host.headers(REQUEST_HEADERS);
}

async function startedHost(): Promise<MiniHost> {
  const host = await MiniHost.create(plugin);
  host.call("proxy_on_context_create", ROOT, 0);
  expect(host.call("proxy_on_vm_start", ROOT, 0)).toBe(1);
  return host;
}

describe("root context configuration", () => {
  it("keeps the last good config when a new one is refused", async () => {
    const host = await startedHost();
    expect(configure(host, { headers: { request: { set: { "x-a": "1" } } } })).toBe(1);
    expect(requestThrough(host, 2, [["x-in", "v"]])).toEqual([["x-in", "v"], ["x-a", "1"]]);

    expect(configure(host, { headers: { request: { set: { "x-a": 2 } } } })).toBe(0);
    expect(host.logs.at(-1)).toEqual({
      level: 4,
      message: 'plugin configuration refused: $.headers.request.set["x-a"]: expected string, got number',
    });
    expect(requestThrough(host, 3, [])).toEqual([["x-a", "1"]]);

    expect(configure(host, { headers: { request: { set: { "x-a": "2" } } } })).toBe(1);
    expect(requestThrough(host, 4, [])).toEqual([["x-a", "2"]]);
    // The counter is defined once and counts all three streams.
    expect([...host.metrics.values()]).toEqual([{ name: "wayroute_requests_total", value: 3n }]);
  });

  it("refuses when the configuration buffer is missing", async () => {
    const host = await startedHost();
    expect(host.call("proxy_on_configure", ROOT, 10)).toBe(0);
    expect(host.logs.at(-1)?.message).toMatch(/^plugin configuration refused: \$: configuration buffer unavailable/);
  });
});

describe("dispatcher", () => {
  it("answers callbacks for unknown context ids without trapping", async () => {
    const host = await startedHost();
    expect(host.call("proxy_on_request_headers", 99, 0, 0)).toBe(0);
    expect(host.call("proxy_on_request_body", 99, 10, 1)).toBe(0);
    expect(host.call("proxy_on_response_headers", 99, 0, 0)).toBe(0);
    expect(host.call("proxy_on_response_trailers", 99, 0)).toBe(0);
    expect(host.call("proxy_on_done", 99)).toBe(1);
    host.call("proxy_on_log", 99);
    host.call("proxy_on_delete", 99);
    host.call("proxy_on_tick", 99);
    host.call("proxy_on_http_call_response", 99, 1, 0, 0, 0);
    expect(host.call("proxy_on_configure", 99, 0)).toBe(0);
    // A stream whose parent root does not exist is ignored.
    host.call("proxy_on_context_create", 100, 42);
    expect(host.call("proxy_on_request_headers", 100, 0, 0)).toBe(0);
    expect(host.logs).toEqual([]);
  });
});

describe("host-allocated blocks", () => {
  it("releases blocks the host allocated but did not hand back", async () => {
    // A host that allocates the config copy, then reports failure: the block must not stay pinned.
    const host = await MiniHost.create(plugin, {
      getBufferBytes: (h, _type, _start, max, ptrPtr, sizePtr) => {
        h.copyIn(new Uint8Array(max), ptrPtr, sizePtr);
        return 1;
      },
    });
    host.call("proxy_on_context_create", ROOT, 0);
    for (let i = 0; i < 200; i++) expect(host.call("proxy_on_configure", ROOT, 16_384)).toBe(0);
    const after200 = host.memory.buffer.byteLength;
    for (let i = 0; i < 2_000; i++) host.call("proxy_on_configure", ROOT, 16_384);
    // 2,000 x 16 KiB leaked would be ~32 MiB.
    expect(host.memory.buffer.byteLength - after200).toBeLessThanOrEqual(65_536);
  });

  it("copies out a block the host placed outside malloc, and ignores one out of bounds", async () => {
    const config = new TextEncoder().encode(JSON.stringify({ headers: { request: { set: { "x-c": "3" } } } }));
    let mode: "foreign" | "out-of-bounds" = "foreign";
    const host = await MiniHost.create(plugin, {
      getBufferBytes: (h, _type, _start, _max, ptrPtr, sizePtr) => {
        // Foreign: a fresh page the host grew itself (the guest allocator has not claimed it yet).
        const ptr = mode === "foreign" ? h.memory.grow(1) * 65_536 : h.memory.buffer.byteLength + 16;
        if (mode === "foreign") new Uint8Array(h.memory.buffer, ptr, config.length).set(config);
        const view = new DataView(h.memory.buffer);
        view.setUint32(ptrPtr, ptr, true);
        view.setUint32(sizePtr, config.length, true);
        return 0;
      },
    });
    host.call("proxy_on_context_create", ROOT, 0);
    expect(host.call("proxy_on_configure", ROOT, config.length)).toBe(1);
    expect(requestThrough(host, 2, [])).toEqual([["x-c", "3"]]);
    // Out of bounds reads as an empty configuration (accepted as `{}`), never a trap.
    mode = "out-of-bounds";
    expect(host.call("proxy_on_configure", ROOT, config.length)).toBe(1);
    expect(requestThrough(host, 3, [])).toEqual([]);
  });
});
