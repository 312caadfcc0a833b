/**
 * Side-by-side CPU cost of one operation in two variants (a new and an old build of the plugin):
 * the same operation on both, in interleaved rounds whose order alternates, timed by the
 * process's CPU time (user + system) rather than wall time. On a shared machine wall time also
 * counts the time other processes held the core; CPU time counts only ours, so it moves less.
 * It still counts everything the process does meanwhile (the harness's JavaScript, V8's
 * compiler and collector threads), alike for both variants.
 *
 * Each round yields one paired ratio (new/old of that round's two batches, run back to back), so
 * a slow spell of the machine that spans a round falls on both sides of its ratio. The spread of
 * those ratios is the noise of the comparison; it is reported with the median, as a confidence
 * interval of the median that assumes nothing about the ratios' distribution.
 */

/** One variant's operation: one request through the harness, for instance. */
export type AbOp = () => unknown;

/** How long to measure. */
export interface CpuAbOptions {
  /** Interleaved rounds (each runs one batch of each variant). */
  rounds: number;
  /** Target CPU time of one batch, in milliseconds; sets the batch's operation count. */
  batchMs: number;
  /** Warm-up of each variant before the rounds, in milliseconds of wall time. */
  warmMs: number;
}

/** Result of {@link measureCpuAb}. CPU figures are microseconds of process CPU per operation. */
export interface CpuAb {
  rounds: number;
  /** Operations per batch (the same for both variants). */
  batch: number;
  /** Median over the rounds of the new variant's CPU per operation. */
  newUs: number;
  /** Median over the rounds of the old variant's CPU per operation. */
  oldUs: number;
  /** Median of the per-round ratios new/old (above 1: the new variant costs more). */
  ratio: number;
  /** Quartiles of the per-round ratios (the middle half of the rounds lies between them). */
  q1: number;
  q3: number;
  /**
   * A distribution-free confidence interval of the median ratio (order statistics of the rounds'
   * ratios, by the sign test) and its coverage, at least 95 %; NaN under 6 rounds.
   */
  ciLow: number;
  ciHigh: number;
  ciLevel: number;
  /** Lowest and highest per-round ratio. */
  min: number;
  max: number;
  /** Ratio of the two variants' cheapest rounds (the least disturbed batches). */
  minRatio: number;
  /** Every round's ratio, in round order. */
  ratios: number[];
}

/** Linear-interpolated quantile `q` (0..1) of `xs`. */
export function quantile(xs: readonly number[], q: number): number {
  const v = [...xs].sort((a, b) => a - b);
  if (!v.length) return NaN;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

/**
 * The order-statistic interval [x(k), x(n+1-k)] (1-based, sorted) that holds the median of the
 * distribution the rounds sample with probability at least 95 %: k is the largest rank with
 * P(Binomial(n, 1/2) < k) <= 2.5 %. Makes no assumption about the ratios' distribution, only
 * that rounds are independent. Null under 6 rounds (no such k).
 */
export function medianInterval(xs: readonly number[]): { low: number; high: number; level: number } | null {
  const n = xs.length;
  let cumulative = 0;
  let k = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    cumulative += binomial(n, i) / 2 ** n;
    if (cumulative > 0.025) break;
    k = i + 1;
    tail = cumulative;
  }
  if (k === 0) return null;
  const v = [...xs].sort((a, b) => a - b);
  return { low: v[k - 1]!, high: v[n - k]!, level: 1 - 2 * tail };
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** CPU microseconds (user + system) of this process since `since`. */
function cpuUsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

async function runBatch(op: AbOp, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await op();
  return cpuUsSince(start) / n;
}

/** Runs `op` for about `ms` of wall time; returns the CPU microseconds per operation. */
async function warm(op: AbOp, ms: number): Promise<number> {
  const start = process.cpuUsage();
  const end = performance.now() + ms;
  let n = 0;
  do {
    await op();
    n++;
  } while (performance.now() < end);
  return cpuUsSince(start) / n;
}

/**
 * Measures `newOp` against `oldOp`: warms both, sizes one batch to about `batchMs` of CPU (the
 * same count for both), then runs `rounds` rounds, new first in even rounds and old first in odd
 * ones, so neither variant always runs right after the other's warm caches or the other's
 * garbage.
 */
export async function measureCpuAb(newOp: AbOp, oldOp: AbOp, o: CpuAbOptions): Promise<CpuAb> {
  await warm(oldOp, o.warmMs / 2);
  await warm(newOp, o.warmMs / 2);
  const perOp = (await warm(oldOp, o.warmMs / 2) + (await warm(newOp, o.warmMs / 2))) / 2;
  const batch = Math.max(1, Math.round((o.batchMs * 1000) / Math.max(perOp, 1)));
  const news: number[] = [];
  const olds: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    let n: number;
    let b: number;
    if (r % 2 === 0) {
      n = await runBatch(newOp, batch);
      b = await runBatch(oldOp, batch);
    } else {
      b = await runBatch(oldOp, batch);
      n = await runBatch(newOp, batch);
    }
    news.push(n);
    olds.push(b);
    ratios.push(n / b);
  }
  const ci = medianInterval(ratios);
  return {
    rounds: o.rounds,
    batch,
    newUs: quantile(news, 0.5),
    oldUs: quantile(olds, 0.5),
    ratio: quantile(ratios, 0.5),
    q1: quantile(ratios, 0.25),
    q3: quantile(ratios, 0.75),
    ciLow: ci?.low ?? NaN,
    ciHigh: ci?.high ?? NaN,
    ciLevel: ci?.level ?? NaN,
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    minRatio: Math.min(...news) / Math.min(...olds),
    ratios,
  };
}

/**
 * "slower" or "faster" when the median's confidence interval (see {@link medianInterval}) lies
 * wholly above or below 1, "noise" when it holds 1 (a median of 1.03 whose interval is 0.95 to
 * 1.10 is no finding), "few rounds" when there is no interval (under 6 rounds, a `--quick`
 * run). At about 95 % per case, a run of twelve cases of two equal builds still shows a false
 * verdict now and then: repeat a run before reading one as a finding.
 */
export function verdict(m: Pick<CpuAb, "ciLow" | "ciHigh">): "slower" | "faster" | "noise" | "few rounds" {
  if (!Number.isFinite(m.ciLow) || !Number.isFinite(m.ciHigh)) return "few rounds";
  if (m.ciLow > 1) return "slower";
  if (m.ciHigh < 1) return "faster";
  return "noise";
}
