/**
 * The custom abort (proxy-wasm/abort.ts): an AssemblyScript `throw`/abort must log the reason at
 * critical through proxy_log and then trap, without importing `env.abort`.
 */
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./wasm-files.js";

let binary: Uint8Array<ArrayBuffer>;

beforeAll(async () => {
  const config = JSON.parse(readFileSync(path.join(repoRoot, "asconfig.json"), "utf8"));
  const configText = JSON.stringify({ ...config, entries: [] });
  let out: Uint8Array | null = null;
  const result = await asc.main(
    ["test/build/fixtures/aborts.ts", "--config", "asconfig.json", "--target", "release", "--outFile", "aborts.wasm"],
    {
      readFile(name: string, baseDir: string) {
        const full = path.resolve(repoRoot, baseDir, name);
        if (full === path.join(repoRoot, "asconfig.json")) return configText;
        try {
          return readFileSync(full, "utf8");
        } catch {
          return null;
        }
      },
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith(".wasm") && typeof contents !== "string") out = contents;
      },
    } as never,
  );
  expect(result.error).toBeNull();
  binary = Uint8Array.from(out!);
});

describe("wayrouteAbort", () => {
  it("logs the message and location at critical, then traps", async () => {
    const module = new WebAssembly.Module(binary);
    expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`)).toEqual(["env.proxy_log"]);
    const logs: Array<[number, string]> = [];
    let memory: WebAssembly.Memory | undefined;
    const instance = await WebAssembly.instantiate(module, {
      env: {
        proxy_log(level: number, ptr: number, size: number) {
          logs.push([level, new TextDecoder().decode(new Uint8Array(memory!.buffer, ptr, size))]);
          return 0;
        },
      },
    });
    memory = instance.exports.memory as WebAssembly.Memory;
    (instance.exports._initialize as () => void)();
    const failWith = instance.exports.failWith as (code: number) => void;
    failWith(0);
    expect(logs).toEqual([]);
    expect(() => failWith(7)).toThrow(WebAssembly.RuntimeError);
    expect(logs).toHaveLength(1);
    expect(logs[0]![0]).toBe(5);
    expect(logs[0]![1]).toMatch(/^wayroute: fatal: boom 7 at test\/build\/fixtures\/aborts\.ts:\d+:\d+$/);
    // A second abort in the same instance still logs (the re-entrancy guard resets).
    expect(() => failWith(8)).toThrow(WebAssembly.RuntimeError);
    expect(logs[1]![1]).toContain("boom 8");
  });
});
