/**
 * The micro-benchmark suite interface. A suite measures a few cases, each against a named
 * baseline, and returns one row per case; `npm run bench` prints every suite's rows in one table
 * and writes them to `bench-results/micro.json` and the HTML report.
 *
 * Adding a suite is one file under `src/bench/micro/` exporting a `MicroSuite`, plus one line in
 * `src/bench/micro/index.ts`.
 */
import type { CpuAb } from "./cpu-ab.js";

/** What the runner hands a suite. */
export interface MicroContext {
  /** Repository root (where `build/` and `examples/` live). */
  repoRoot: string;
  /** Wall-clock budget per measured case, in milliseconds (short under `--quick`). */
  durationMs: number;
  /** True for a quick smoke run (CI, `--quick`): measure briefly, still return every row. */
  quick: boolean;
  /** Progress line for the runner's progress bar; never write to stdout from a suite. */
  log(message: string): void;
  /** Two builds of the plugin to compare (`--baseline-plugin`); read by the `plugin-ab` suite. */
  ab?: PluginAbInput;
}

/** The `plugin-ab` suite's input: the new build, the old one, and how much to run. */
export interface PluginAbInput {
  /** The new module (default `build/plugin.wasm`). */
  plugin: string;
  /** The old module, the baseline of every ratio. */
  baseline: string;
  /** Interleaved rounds per case (default 12, 2 under `--quick`). */
  rounds?: number;
  /** Only cases whose name contains one of these. */
  cases?: string[];
}

/** One row of the micro table. */
export interface MicroResult {
  /** The case, e.g. "request headers, 8 headers". */
  case: string;
  /** What the case is compared against, e.g. "passthrough.wasm"; "" when there is none. */
  baseline: string;
  /** Operations per second of the case. */
  opsPerSec: number;
  /** Operations per second of the baseline on the same work, when measured. */
  baselineOpsPerSec?: number;
  /** `opsPerSec / baselineOpsPerSec` (below 1 means the case is slower than its baseline). */
  ratio?: number;
  /** Mean microseconds per operation of the case. */
  usPerOp?: number;
  /** Free text, e.g. the workload size. */
  notes?: string;
  /** A figure that is not a rate (module bytes, KiB of memory, milliseconds); `opsPerSec` is 0. */
  value?: number;
  /** Unit of `value`, e.g. "bytes", "KiB", "ms". */
  unit?: string;
  /** A side-by-side CPU comparison of two builds (the `plugin-ab` suite), with its spread. */
  cpuAb?: CpuAbRow;
}

/** A {@link CpuAb} measurement plus whether both builds answered the probe request alike. */
export interface CpuAbRow extends CpuAb {
  sameAnswer: boolean;
}

/** A named group of micro cases. */
export interface MicroSuite {
  /** Short id, also the `--suite` filter value, e.g. "harness", "body", "picker". */
  name: string;
  /** One line for the report. */
  description: string;
  /**
   * Runs only when asked for by name (`--suite`) or by its input (`--baseline-plugin` for
   * `plugin-ab`), not in a plain `npm run bench`.
   */
  optIn?: boolean;
  /** Measures every case; throws a `BenchError` when a prerequisite (e.g. a build) is missing. */
  run(ctx: MicroContext): Promise<MicroResult[]>;
}

/** A failure the benchmark runner reports as one line and skips the suite for. */
export class BenchError extends Error {
  constructor(
    message: string,
    readonly code = "E_BENCH",
  ) {
    super(message);
  }
}

/** Result of {@link measure}. */
export interface Measurement {
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
  usPerOp: number;
}

/**
 * Runs `op` repeatedly for about `durationMs` (after a short warm-up) and reports the rate.
 * `op` may be sync or async; batches of `batch` calls amortise the clock reads.
 */
export async function measure(
  op: () => unknown,
  durationMs: number,
  batch = 64,
): Promise<Measurement> {
  const warmUntil = performance.now() + Math.min(200, durationMs / 4);
  while (performance.now() < warmUntil) for (let i = 0; i < batch; i++) await op();
  let ops = 0;
  const start = performance.now();
  const end = start + durationMs;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) await op();
    ops += batch;
    now = performance.now();
  }
  const elapsedMs = now - start;
  const opsPerSec = (ops * 1000) / elapsedMs;
  return { ops, elapsedMs, opsPerSec, usPerOp: (elapsedMs * 1000) / ops };
}

/** Builds a row comparing a case with its baseline. */
export function compare(caseName: string, baseline: string, c: Measurement, b: Measurement, notes?: string): MicroResult {
  return {
    case: caseName,
    baseline,
    opsPerSec: c.opsPerSec,
    baselineOpsPerSec: b.opsPerSec,
    ratio: c.opsPerSec / b.opsPerSec,
    usPerOp: c.usPerOp,
    ...(notes ? { notes } : {}),
  };
}

/**
 * Measures a case and its baseline in alternating rounds (after warming both), so JIT warm-up
 * and machine noise fall on both alike. Returns [case, baseline].
 */
export async function measurePair(
  caseOp: () => unknown,
  baselineOp: () => unknown,
  durationMs: number,
  rounds = 3,
  batch = 16,
): Promise<[Measurement, Measurement]> {
  await measure(baselineOp, Math.min(300, durationMs), batch);
  await measure(caseOp, Math.min(300, durationMs), batch);
  const acc = [
    { ops: 0, ms: 0 },
    { ops: 0, ms: 0 },
  ];
  for (let r = 0; r < rounds; r++) {
    for (const [i, op] of [caseOp, baselineOp].entries()) {
      const m = await measure(op, durationMs / rounds, batch);
      acc[i]!.ops += m.ops;
      acc[i]!.ms += m.elapsedMs;
    }
  }
  const out = acc.map(({ ops, ms }) => ({ ops, elapsedMs: ms, opsPerSec: (ops * 1000) / ms, usPerOp: (ms * 1000) / ops }));
  return [out[0]!, out[1]!];
}
