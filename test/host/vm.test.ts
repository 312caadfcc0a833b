/** Loading: ABI detection, linking like Envoy, start functions, configure refusal. */
import { describe, expect, it } from "vitest";
import { AbiVersionError, LinkError, ProxyWasmHost, VmStartError } from "../../src/index.js";
import { testHost, testModuleWat } from "./helpers/test-module.js";
import { wat } from "./helpers/wat.js";

describe("module loading", () => {
  it("detects the ABI from the exported marker", async () => {
    for (const abi of ["0_2_1", "0_2_0", "0_1_0"] as const) {
      const { host } = await testHost({}, {}, { abi, imports: ["proxy_log"] });
      expect(host.abi).toBe(abi.replace(/_/g, "."));
    }
  });

  it("rejects a module without an ABI marker", async () => {
    const bytes = await wat(testModuleWat({ abi: "none", imports: ["proxy_log"] }));
    await expect(ProxyWasmHost.create({ module: bytes, extraImports: { test: { on: () => 0 } } })).rejects.toBeInstanceOf(AbiVersionError);
  });

  it("reports a missing import by name, like Envoy's 'missing import' error", async () => {
    const bytes = await wat(
      testModuleWat({ imports: ["proxy_log"], extraImportLines: ['(import "env" "proxy_made_up" (func (param i32) (result i32)))', '(import "env" "abort" (func (param i32 i32 i32 i32)))'] }),
    );
    const err = await ProxyWasmHost.create({ module: bytes, extraImports: { test: { on: () => 0 } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).code).toBe("E_LINK_MISSING_IMPORT");
    expect((err as LinkError).missing).toEqual(["env.proxy_made_up", "env.abort"]);
    expect((err as Error).message).toContain("Failed to load Wasm module due to a missing import: env.proxy_made_up, env.abort");
  });

  it("links 0.1.0-only functions only for 0.1.0 modules", async () => {
    const line = '(import "env" "proxy_clear_route_cache" (func (result i32)))';
    const v021 = await wat(testModuleWat({ imports: ["proxy_log"], extraImportLines: [line] }));
    await expect(ProxyWasmHost.create({ module: v021, extraImports: { test: { on: () => 0 } } })).rejects.toBeInstanceOf(LinkError);
    const v010 = await wat(testModuleWat({ abi: "0_1_0", imports: ["proxy_log"], extraImportLines: [line] }));
    const host = await ProxyWasmHost.create({ module: v010, extraImports: { test: { on: () => 0 } } });
    expect(host.abi).toBe("0.1.0");
  });

  it("links WASI under both module names and the emscripten/pthread helpers", async () => {
    const extra = [
      '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
      '(import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
      '(import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))',
      '(import "env" "emscripten_notify_memory_growth" (func (param i32)))',
      '(import "env" "pthread_equal" (func (param i32 i32) (result i32)))',
    ];
    const { host } = await testHost({}, {}, { imports: ["proxy_log"], extraImportLines: extra });
    expect(host.configured).toBe(true);
    const bad = await wat(testModuleWat({ imports: [], extraImportLines: ['(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))'] }));
    await expect(ProxyWasmHost.create({ module: bad, extraImports: { test: { on: () => 0 } } })).rejects.toThrow(/wasi_snapshot_preview1\.path_open/);
  });

  it("needs malloc or proxy_on_memory_allocate", async () => {
    const src = testModuleWat({ imports: ["proxy_log"] }).replace(/\(func \(export "malloc"\)/, '(func (export "not_malloc")');
    await expect(ProxyWasmHost.create({ module: await wat(src), extraImports: { test: { on: () => 0 } } })).rejects.toBeInstanceOf(VmStartError);
  });

  it("starts with _initialize (or _start), then creates the root context: create(1,0), vm_start, configure", async () => {
    for (const start of ["_initialize", "_start"] as const) {
      const { host, calls, guest } = await testHost({}, { vmConfig: "vmc", pluginConfig: "abc" }, { start });
      expect(guest().global("started")).toBe(1);
      // The base VM only starts; the canary, the main thread's VM and the worker's each run these.
      const rootContext = ["proxy_on_context_create(1,0)", "proxy_on_vm_start(1,3)", "proxy_on_configure(1,3)"];
      expect(calls).toEqual([...rootContext, ...rootContext, ...rootContext]);
      expect(host.configured).toBe(true);
    }
  });

  it("reports proxy_on_configure returning 0 as configured=false with a log, without throwing", async () => {
    const { host } = await testHost({ proxy_on_configure: () => 0 }, { workers: 2 });
    expect(host.configured).toBe(false);
    expect(host.configureResults).toEqual([false, false]);
    expect(host.logs.messages("critical")).toContain("Unable to configure Wasm plugin: proxy_on_configure returned 0");
  });

  it("exposes the plugin configuration only during proxy_on_configure", async () => {
    const seen: number[] = [];
    const read = (g: import("./helpers/test-module.js").Guest) => {
      const out = g.slot(8);
      seen.push(g.call("proxy_get_buffer_bytes", 7, 0, 100, out, out + 4));
      return 1;
    };
    await testHost({ proxy_on_vm_start: read, proxy_on_configure: read }, { pluginConfig: "cfg" });
    expect(seen).toEqual([1, 0, 1, 0, 1, 0]); // canary, main thread's VM, worker
  });
});
