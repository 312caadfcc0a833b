/**
 * Conformance: the C++, Rust and TinyGo peer plugins (peer-plugins/README.md) behave in the
 * harness as described there.
 */
import { expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/index.js";
import { describeCorpus } from "./helpers/corpus.js";
import { corpusModule } from "./helpers/modules.js";

describeCorpus("C++, Rust and TinyGo peer plugins", () => {
  it("cpp-sdk-on-request-headers (0.2.1, malloc, emscripten): logs every request header, then onLog/onDone/onDelete at WARN", async () => {
    const host = await ProxyWasmHost.create({ module: await corpusModule("cpp-sdk-on-request-headers.wasm") });
    // The plugin registers its context factory under the empty root id (the C++ SDK looks it up
    // through the plugin_root_id property at context creation).
    expect(host.abi).toBe("0.2.1");
    expect(host.configured).toBe(true);
    const res = await host.request({ headers: [["x-one", "1"], ["x-two", "2"]] });
    expect(res.upstreamCalled).toBe(true);
    const info = res.logs.filter((l) => l.level === "info").map((l) => l.message.replace(/^.*print from wasm, /, ""));
    expect(info).toEqual([":authority -> example.com", ":path -> /", ":method -> GET", ":scheme -> http", "x-one -> 1", "x-two -> 2"]);
    const warn = res.logs.filter((l) => l.level === "warn").map((l) => l.message);
    // Envoy order: on_log, then on_done, then on_delete.
    expect(warn).toHaveLength(3);
    expect(warn[0]).toMatch(/onLog/);
    expect(warn[1]).toMatch(/onDone/);
    expect(warn[2]).toMatch(/onDelete/);
    // The debug line is below Envoy's default info level.
    expect(res.logs.some((l) => l.level === "debug")).toBe(false);
  });

  it("rust-sdk-hello-world: 'Hello, World!' at start, a 5 s tick using WASI clock and random", async () => {
    let seed = 7;
    const host = await ProxyWasmHost.create({
      module: await corpusModule("rust-sdk-hello-world.wasm"),
      now: Date.UTC(2026, 4, 17, 12, 0, 0),
      random: (buf) => buf.fill(seed++),
    });
    // The canary, the main thread's VM and the worker's each start; the last two tick.
    expect(host.logs.messages()).toEqual(["Hello, World!", "Hello, World!", "Hello, World!"]);
    await host.advance(4999);
    expect(host.logs.messages()).toHaveLength(3);
    await host.advance(1);
    await host.advance(5000);
    expect(host.logs.messages().slice(3)).toEqual([
      "It's 2026-05-17 12:00:05 UTC, your lucky number is 7.",
      "It's 2026-05-17 12:00:05 UTC, your lucky number is 8.",
      "It's 2026-05-17 12:00:10 UTC, your lucky number is 9.",
      "It's 2026-05-17 12:00:10 UTC, your lucky number is 10.",
    ]);
  });

  it("rust-sdk-envoy-filter-metadata: answers locally with the metadata property when present", async () => {
    const host = await ProxyWasmHost.create({ module: await corpusModule("rust-sdk-envoy-filter-metadata.wasm") });
    const metadata = { metadata: { filter_metadata: { "envoy.filters.http.lua": { "uppercased-custom-metadata": "HELLO" } } } };
    const res = await host.request({ headers: { a: "b" }, properties: metadata });
    expect(res.upstreamCalled).toBe(false);
    expect(res.response.status).toBe(200);
    expect(res.response.headers.get("powered-by")).toBe("proxy-wasm");
    expect(res.response.headers.get("uppercased-metadata")).toBe("HELLO");
    expect(res.response.bodyText).toBe('Custom response with Envoy metadata: "HELLO"\n');
    const plain = await host.request({ headers: { a: "b" } });
    expect(plain.upstreamCalled).toBe(true);
    expect(plain.localReply).toBeUndefined();
  });

  it("tinygo-add-req-header (0.2.0, _start): sets Wasm-Context to the stream's context id", async () => {
    const host = await ProxyWasmHost.create({ module: await corpusModule("tinygo-add-req-header.wasm"), workers: 2 });
    expect(host.abi).toBe("0.2.0");
    expect(host.configured).toBe(true);
    const a = await host.request({ headers: { a: "b" }, worker: 0 });
    const b = await host.request({ headers: { a: "b" }, worker: 0 });
    const c = await host.request({ headers: { a: "b" }, worker: 1 });
    expect(a.request?.headers.get("wasm-context")).toBe("2");
    expect(b.request?.headers.get("wasm-context")).toBe("3");
    // Context ids are per VM: worker 1 starts again at 2.
    expect(c.request?.headers.get("wasm-context")).toBe("2");
  });
});
