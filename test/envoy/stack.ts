/**
 * One test stack: recording upstreams, the plugin config pointed at them, the generated Envoy
 * config (checked with `envoy --mode validate`), and Envoy with two workers on loopback.
 */
import { resolve } from "node:path";
import { expect } from "vitest";
import { type EnvoyBinary, EnvoyProcess, pointConfigAt, type StandaloneOptions, standaloneBootstrap, validateBootstrap } from "../../src/envoy/index.js";
import { type Received, RecordingUpstream } from "./upstream.js";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const PLUGIN = resolve(repoRoot, "build/plugin.wasm");

export interface Stack {
  envoy: EnvoyProcess;
  upstreams: RecordingUpstream[];
  /** `http://listener` */
  base: string;
  config: Record<string, unknown>;
  bootstrap: Record<string, unknown>;
  /** The upstream at `address`. */
  at(address: string): RecordingUpstream;
  /** The most recent non-scrape request any upstream received. */
  last(): Received | undefined;
  stop(): Promise<void>;
}

export interface StackOptions extends Partial<Omit<StandaloneOptions, "upstreams">> {
  binary: EnvoyBinary;
  /** The plugin config; its pools are pointed at the upstreams. */
  config: Record<string, unknown>;
  servers?: number;
  /** Edit the generated bootstrap before it is validated and started (tests of bad settings). */
  editBootstrap?: (b: Record<string, unknown>) => void;
  /** Skip `envoy --mode validate` (only when the test is about what validate says). */
  skipValidate?: boolean;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const upstreams = await Promise.all(Array.from({ length: o.servers ?? 2 }, (_, i) => RecordingUpstream.start(`up-${i}`)));
  let envoy: EnvoyProcess | undefined;
  try {
    const config = pointConfigAt(o.config, upstreams.map((u) => u.address));
    const bootstrap = standaloneBootstrap({ wasmPath: PLUGIN, ...o, pluginConfig: config, upstreams: upstreams.map((u) => u.address) });
    o.editBootstrap?.(bootstrap);
    if (!o.skipValidate) {
      const v = await validateBootstrap(bootstrap, o.binary);
      expect(v.output, "envoy --mode validate").toMatch(/OK$/);
    }
    envoy = await EnvoyProcess.start({ bootstrap, concurrency: 2, binary: o.binary });
    const e = envoy;
    return {
      envoy: e,
      upstreams,
      base: `http://${e.listenerAddress()}`,
      config,
      bootstrap,
      at: (address) => upstreams.find((u) => u.address === address)!,
      last: () => upstreams.flatMap((u) => u.requests).sort((a, b) => a.seq - b.seq).at(-1),
      async stop() {
        await e.stop();
        await Promise.all(upstreams.map((u) => u.stop()));
      },
    };
  } catch (err) {
    await envoy?.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
    throw err;
  }
}

/** Counter/gauge values from Envoy's `/stats/prometheus` whose name starts with `prefix`. */
export async function promValues(envoy: EnvoyProcess, prefix: string): Promise<Map<string, number>> {
  const text = (await envoy.admin("/stats/prometheus")).body;
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const m = /^(\S+?)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[3]));
  }
  return out;
}

/** Polls `check` every 50 ms until it returns true or `ms` pass. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** A chat completion body. */
export function chat(model: string, content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: "user", content }], max_tokens: 4, ...extra });
}
