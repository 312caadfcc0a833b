/**
 * Compiles assembly/body/testing/probe.ts (the body scanner without a proxy host) and wraps its
 * exports for tests. Compiled once per process into memory.
 */
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ScanResult {
  error: number;
  errorOffset: number;
  hasModel: boolean;
  modelIsString: boolean;
  modelStart: number;
  modelEnd: number;
  /** Value spans [start, end) of every top-level model member, in body order. */
  modelSpans: Array<[number, number]>;
  /** -1 absent, 0 false, 1 true, 2 not a boolean. */
  stream: number;
  model: string | null;
}

export interface Probe {
  scan(body: Uint8Array | string): ScanResult;
  /** Prompt text of the last scanned body (null when it has none). */
  prompt(maxBytes?: number): string | null;
  /** The last scanned body with its model replaced (null without a string model). */
  rewrite(model: string): Uint8Array | null;
  parseConfig(text: string): boolean;
}

let cached: Promise<Probe> | null = null;

function utf16(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
  return s;
}

export function loadProbe(): Promise<Probe> {
  cached ??= build();
  return cached;
}

/**
 * Compiles the probe in memory (a few seconds, once per test file that loads it). Nothing is
 * written: a cache on disk would outlive the run.
 */
async function compileProbe(): Promise<Uint8Array> {
  let binary: Uint8Array | null = null;
  const stderr: string[] = [];
  const result = await asc.main(
    ["assembly/body/testing/probe.ts", "--runtime", "incremental", "--optimizeLevel", "2", "--outFile", "probe.wasm", "--exportRuntime"],
    {
      readFile(name: string, baseDir: string) {
        // The repository's asconfig.json would add the plugin entry; the probe stands alone.
        if (path.basename(name) === "asconfig.json") return "{}";
        try {
          return readFileSync(path.resolve(root, baseDir, name), "utf8");
        } catch {
          return null;
        }
      },
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents;
      },
      listFiles() {
        return [];
      },
      stderr: { write: (c: string | Uint8Array) => (stderr.push(String(c)), true) },
    } as never,
  );
  if (result.error || !binary) throw new Error(`probe build failed: ${result.error?.message}\n${stderr.join("")}`);
  return binary;
}

async function build(): Promise<Probe> {
  const binary = await compileProbe();
  const { instance } = await WebAssembly.instantiate(binary as Uint8Array<ArrayBuffer>, {
    env: {
      abort(msg: number, file: number, line: number, col: number) {
        throw new Error(`probe abort at ${line}:${col}`);
      },
      seed: () => 1,
      trace: () => undefined,
    },
  });
  const ex = instance.exports as Record<string, CallableFunction> & { memory: WebAssembly.Memory };
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const write = (fn: string, bytes: Uint8Array) => {
    const ptr = ex[fn](bytes.length) as number;
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  };
  const read = (len: number) => new Uint8Array(ex.memory.buffer, ex.outPtr() as number, len).slice();
  return {
    scan(body) {
      write("input", typeof body === "string" ? enc.encode(body) : body);
      const error = ex.runScan() as number;
      const len = ex.model() as number;
      return {
        error,
        errorOffset: ex.errorOffset() as number,
        hasModel: ex.hasModel() === 1,
        modelIsString: ex.modelIsString() === 1,
        modelStart: ex.modelStart() as number,
        modelEnd: ex.modelEnd() as number,
        modelSpans: Array.from({ length: ex.modelSpanCount() as number }, (_, i) => [ex.modelSpanStart(i) as number, ex.modelSpanEnd(i) as number] as [number, number]),
        stream: ex.streamState() as number,
        model: len < 0 ? null : utf16(read(len)),
      };
    },
    prompt(maxBytes = 0x7fffffff) {
      const len = ex.prompt(maxBytes) as number;
      return len < 0 ? null : dec.decode(read(len));
    },
    rewrite(model) {
      write("input2", enc.encode(model));
      const len = ex.rewrite() as number;
      return len < 0 ? null : read(len);
    },
    parseConfig(text) {
      write("input", enc.encode(text));
      return ex.parseConfig() === 1;
    },
  };
}
