/**
 * What one Envoy worker pays for the plugin: the size of `build/plugin.wasm`; one VM's linear
 * memory after configure with a 1,024-endpoint pool (GIE default profile, prefix index on) and
 * after routing a mix of bodies from 1 KB to 1 MiB through it; and, when Envoy is installed, cold
 * start with 2 workers (Envoy start to the first request served, and a config push by LDS file to
 * the first request served by the new listener) with the plugin, with `passthrough.wasm` and with
 * no Wasm filter, plus V8's eager compile time of the module; and what each new VM pays once the
 * module is compiled (instantiate, `_initialize` with the data unpacking), against the unpacked
 * build `plugin.names.wasm`. Rows carry a value and a unit.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tryFindEnvoy } from "../../envoy/index.js";
import { compileMs, measureColdStart } from "../../footprint/cold-start.js";
import { measureVmStart } from "../../footprint/vm-start.js";
import { chatBodyOf, footprintHost, linearMemoryBytes, sendChat } from "../../footprint/memory.js";
import { BenchError, type MicroResult, type MicroSuite } from "../suite.js";

const figure = (c: string, value: number, unit: string, notes?: string): MicroResult => ({
  case: c, baseline: "", opsPerSec: 0, value: Math.round(value * 10) / 10, unit, ...(notes ? { notes } : {}),
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export const footprintSuite: MicroSuite = {
  name: "footprint",
  description: "plugin.wasm bytes, KiB of linear memory per VM (1,024 endpoints, bodies to 1 MiB), Envoy cold start and config push (2 workers)",
  async run(ctx): Promise<MicroResult[]> {
    const plugin = join(ctx.repoRoot, "build/plugin.wasm");
    const passthrough = join(ctx.repoRoot, "build/passthrough.wasm");
    for (const f of [plugin, passthrough]) if (!existsSync(f)) throw new BenchError(`${f} is missing: run 'npm run build:wasm'`);
    const rows: MicroResult[] = [figure("plugin.wasm size", statSync(plugin).size, "bytes")];

    ctx.log("linear memory, 1024 endpoints");
    const host = await footprintHost(readFileSync(plugin), 1024);
    try {
      if (!host.configured) throw new BenchError("plugin.wasm refused the footprint configuration (1024 endpoints)");
      rows.push(figure("linear memory after configure, 1024 endpoints", linearMemoryBytes(host) / 1024, "KiB"));
      await host.advance(60);
      await host.settle();
      const sizes = [1024, 16_384, 65_536, 262_144, 1_048_576, 4096, 524_288, 1_048_576];
      for (let i = 0; i < sizes.length; i++) await sendChat(host, chatBodyOf(sizes[i]!, `footprint-${i}`));
      rows.push(figure("linear memory after bodies of 1 KB to 1 MiB, 1024 endpoints", linearMemoryBytes(host) / 1024, "KiB", "hold mode, prefix index learning, one scrape round"));
    } finally {
      host.close();
    }

    // Per-VM start with TurboFan only, as in Envoy's V8: packed data against the unpacked build.
    const unpacked = join(ctx.repoRoot, "build/plugin.names.wasm");
    for (const [label, file] of [["plugin.wasm", plugin], ["plugin.names.wasm (data not packed)", unpacked]] as const) {
      if (!existsSync(file)) continue;
      ctx.log(`VM start, ${label}`);
      const starts = Array.from({ length: ctx.quick ? 1 : 3 }, () => measureVmStart(file, "turbofan"));
      const note = "TurboFan, median of 21 VMs in a fresh Node process";
      rows.push(figure(`VM instantiate, ${label}`, median(starts.map((s) => s.instantiateMs)) * 1000, "µs", note));
      rows.push(figure(`VM _initialize, ${label}`, median(starts.map((s) => s.initializeMs)) * 1000, "µs", note));
    }

    const binary = tryFindEnvoy();
    if (!binary) {
      rows.push(figure("Envoy cold start", NaN, "ms", "skipped: Envoy not found (npm run setup:envoy)"));
      return rows;
    }
    const runs = ctx.quick ? 1 : 3;
    const variants: Array<[string, string, boolean]> = [["no Wasm filter", plugin, false], ["passthrough.wasm", passthrough, true], ["plugin.wasm", plugin, true]];
    for (const [label, wasmPath, withFilter] of variants) {
      ctx.log(`Envoy cold start, ${label}`);
      const results = [];
      for (let i = 0; i < runs; i++) results.push(await measureColdStart({ binary, wasmPath, plugin: withFilter }));
      const note = `2 workers, median of ${runs}`;
      rows.push(figure(`Envoy start to first request, ${label}`, median(results.map((r) => r.startMs)), "ms", note));
      rows.push(figure(`Envoy config push (LDS) to first request, ${label}`, median(results.map((r) => r.pushMs)), "ms", note));
    }
    ctx.log("V8 compile of plugin.wasm");
    rows.push(figure("V8 eager compile of plugin.wasm, TurboFan", compileMs(plugin, "turbofan", runs), "ms", "fresh Node process per run"));
    rows.push(figure("V8 eager compile of plugin.wasm, Liftoff", compileMs(plugin, "liftoff", runs), "ms", "fresh Node process per run"));
    return rows;
  },
};
