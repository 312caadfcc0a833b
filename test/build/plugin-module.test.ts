/**
 * The built modules' ABI surface: what Envoy will look up (exports) and link (imports).
 * A wrong import name or signature makes Envoy refuse the module, so these checks are exact.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ABI_0_1_0_ONLY, CALLBACKS_0_2_1, HOST_FUNCTIONS_0_2_1 } from "./abi-signatures.js";
import { readModuleShape } from "./wasm-reader.js";
import { WASM_INPUT_PATHS } from "../../scripts/build-wasm.js";
import { ensureWasmBuilt, repoRoot, wasmBytes } from "./wasm-files.js";

/**
 * The exact host calls build/plugin.wasm imports today. When a stage starts using another host
 * call, add it here: the point is that every new import is a deliberate, reviewed change.
 */
const PLUGIN_IMPORTS = [
  "env.proxy_add_header_map_value",
  "env.proxy_call_foreign_function",
  "env.proxy_continue_stream",
  "env.proxy_define_metric",
  "env.proxy_get_buffer_bytes",
  "env.proxy_get_current_time_nanoseconds",
  "env.proxy_get_header_map_pairs",
  "env.proxy_get_header_map_value",
  "env.proxy_get_property",
  "env.proxy_get_shared_data",
  "env.proxy_http_call",
  "env.proxy_increment_metric",
  "env.proxy_log",
  "env.proxy_record_metric",
  "env.proxy_remove_header_map_value",
  "env.proxy_replace_header_map_value",
  "env.proxy_send_local_response",
  "env.proxy_set_buffer_bytes",
  "env.proxy_set_effective_context",
  "env.proxy_set_shared_data",
  "env.proxy_set_tick_period_milliseconds",
];

const MODULES = ["plugin.wasm", "plugin.debug.wasm", "passthrough.wasm", "body-reader.wasm"];

beforeAll(() => ensureWasmBuilt());

function importNames(bytes: Uint8Array<ArrayBuffer>): string[] {
  return WebAssembly.Module.imports(new WebAssembly.Module(bytes))
    .map((i) => `${i.module}.${i.name}`)
    .sort();
}

describe("build/plugin.wasm (release)", () => {
  it("imports exactly the host calls the plugin uses", () => {
    expect(importNames(wasmBytes("plugin.wasm"))).toEqual(PLUGIN_IMPORTS);
  });

  it("exports the ABI marker, the allocator, _initialize, memory and every callback", () => {
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes("plugin.wasm")));
    const byName = new Map(exports.map((e) => [e.name, e.kind]));
    expect(byName.get("proxy_abi_version_0_2_1")).toBe("function");
    expect(byName.get("malloc")).toBe("function");
    expect(byName.get("_initialize")).toBe("function");
    expect(byName.get("memory")).toBe("memory");
    for (const callback of Object.keys(CALLBACKS_0_2_1)) expect(byName.get(callback), callback).toBe("function");
    // No WASI command entry point: Envoy would call _start instead of _initialize.
    expect(byName.has("_start")).toBe(false);
  });

  it("exports callbacks with the signatures Envoy calls them with", () => {
    const shape = readModuleShape(wasmBytes("plugin.wasm"));
    for (const [name, signature] of Object.entries(CALLBACKS_0_2_1)) {
      expect(shape.exportedFunctions.get(name), name).toBe(signature);
    }
    expect(shape.exportedFunctions.get("malloc")).toBe("(i32)->i32");
    expect(shape.exportedFunctions.get("_initialize")).toBe("()->void");
  });
});

describe.each(MODULES)("build/%s", (file) => {
  it("imports only proxy-wasm 0.2.1 host calls, with Envoy's signatures", () => {
    const shape = readModuleShape(wasmBytes(file));
    for (const [name, signature] of shape.importedFunctions) {
      expect(HOST_FUNCTIONS_0_2_1[name], `${name} is not linked by Envoy for ABI 0.2.1`).toBeDefined();
      expect(signature, name).toBe(HOST_FUNCTIONS_0_2_1[name]);
    }
    const names = importNames(wasmBytes(file));
    expect(names).not.toContain("env.abort");
    for (const legacy of ABI_0_1_0_ONLY) expect(names).not.toContain(legacy);
    // Only function imports: memory is exported by the module, never imported.
    const kinds = WebAssembly.Module.imports(new WebAssembly.Module(wasmBytes(file))).map((i) => i.kind);
    expect(new Set(kinds)).toEqual(new Set(["function"]));
  });

  it("carries wayroute.version metadata (package version and git revision)", () => {
    const module = new WebAssembly.Module(wasmBytes(file));
    const sections = WebAssembly.Module.customSections(module, "wayroute.version");
    expect(sections).toHaveLength(1);
    const metadata = JSON.parse(new TextDecoder().decode(sections[0]));
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
    expect(metadata.name).toBe(pkg.name);
    expect(metadata.version).toBe(pkg.version);
    expect(typeof metadata.dirty).toBe("boolean");
    // The revision is the last commit that changed the wasm's inputs (see scripts/build-wasm.ts).
    let expected: string | null = null;
    try {
      expected = execFileSync("git", ["log", "-1", "--format=%H", "--", ...WASM_INPUT_PATHS], { cwd: repoRoot })
        .toString()
        .trim();
    } catch {
      expected = null;
    }
    expect(metadata.revision).toBe(expected || null);
    expect(metadata.target).toBe(file.includes("debug") ? "debug" : "release");
  });

  it("instantiates with only its declared imports and runs _initialize without host calls", async () => {
    const module = new WebAssembly.Module(wasmBytes(file));
    const calls: string[] = [];
    const env: Record<string, () => number> = {};
    for (const i of WebAssembly.Module.imports(module)) {
      env[i.name] = () => {
        calls.push(i.name);
        return 0;
      };
    }
    const instance = await WebAssembly.instantiate(module, { env });
    (instance.exports._initialize as () => void)();
    // Envoy restricts _initialize to proxy_log; our start code calls nothing at all.
    expect(calls).toEqual([]);
    const malloc = instance.exports.malloc as (size: number) => number;
    const memory = instance.exports.memory as WebAssembly.Memory;
    const ptr = malloc(64);
    expect(ptr).toBeGreaterThan(0);
    expect(ptr + 64).toBeLessThanOrEqual(memory.buffer.byteLength);
  });
});
