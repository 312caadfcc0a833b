/** Aggregates of a load run: latency percentiles, throughput, sheds and errors. */
import type { RequestRecord } from "./client.js";

/** The `q`-quantile (0..1) of `values` by nearest rank; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LoadSummary {
  requests: number;
  ok: number;
  sheds: number;
  errors: number;
  ttftP50Ms: number;
  ttftP90Ms: number;
  ttftP99Ms: number;
  e2eP50Ms: number;
  e2eP90Ms: number;
  /** Successful requests per wall second. */
  throughputRps: number;
  /** Output characters / 4 per wall second. */
  outputTokensPerSec: number;
  /** Successful requests per simulator. */
  perServer: Record<string, number>;
  /** Per request class (e.g. a tenant): counts, TTFT p90 and throughput. */
  perClass: Record<string, ClassSummary>;
  /**
   * With a contention window and two or more classes: the lowest class's served rate in the
   * window over the highest's (1 = equal shares; the fairness goal is >= 0.8).
   */
  fairness?: number;
}

/**
 * A span of the run (ms from its start) in which every class offers more than its fair share,
 * so each one's served rate there is what the router gives it, not what it asked for.
 */
export interface ContentionWindow {
  startMs: number;
  endMs: number;
}

/** One class's figures inside the contention window. */
export interface WindowShare {
  /** Requests the class started in the window. */
  offered: number;
  /** Its successful requests that ended in the window. */
  served: number;
  /** served per second of the window. */
  rps: number;
  /**
   * Its requests started and not yet ended at the window's start and at its end: more than the
   * pool serves at once at both ends means the class stayed backlogged (it had work waiting).
   */
  openAtStart: number;
  openAtEnd: number;
}

/** One request class's share of a run. */
export interface ClassSummary {
  ok: number;
  sheds: number;
  errors: number;
  ttftP50Ms: number;
  ttftP90Ms: number;
  /**
   * Successful requests per second over the class's own active window (its first request's
   * start to its last request's end), so a tenant that bursts for one second is not diluted by
   * the rest of the run; 0 when none succeeded.
   */
  throughputRps: number;
  /** Output tokens (characters / 4) of its successful requests per second, same window. */
  outputTokensPerSec: number;
  /** Its share of the contention window, when the run has one. */
  contention?: WindowShare;
}

export function summarize(records: readonly RequestRecord[], durationMs: number, window?: ContentionWindow): LoadSummary {
  const ok = records.filter((r) => r.status === 200 && !r.error);
  const ttft = ok.flatMap((r) => (r.ttftMs !== undefined ? [r.ttftMs] : []));
  const e2e = ok.map((r) => r.e2eMs);
  const perServer: Record<string, number> = {};
  for (const r of ok) if (r.server) perServer[r.server] = (perServer[r.server] ?? 0) + 1;
  const perClass: LoadSummary["perClass"] = {};
  for (const name of new Set(records.map((r) => r.class))) {
    const rs = records.filter((r) => r.class === name);
    const okc = rs.filter((r) => r.status === 200 && !r.error);
    const windowSecs = Math.max(Math.max(...rs.map((r) => r.startMs + r.e2eMs)) - Math.min(...rs.map((r) => r.startMs)), 1) / 1000;
    perClass[name] = {
      ok: okc.length,
      sheds: rs.filter((r) => r.shed).length,
      errors: rs.filter((r) => !r.shed && (r.status !== 200 || r.error)).length,
      ttftP50Ms: quantile(okc.flatMap((r) => (r.ttftMs !== undefined ? [r.ttftMs] : [])), 0.5),
      ttftP90Ms: quantile(okc.flatMap((r) => (r.ttftMs !== undefined ? [r.ttftMs] : [])), 0.9),
      throughputRps: okc.length / windowSecs,
      outputTokensPerSec: okc.reduce((a, r) => a + r.outputChars, 0) / 4 / windowSecs,
      ...(window ? { contention: windowShare(rs, okc, window) } : {}),
    };
  }
  const shares = Object.values(perClass).flatMap((k) => (k.contention ? [k.contention.rps] : []));
  const fairness = shares.length >= 2 && Math.max(...shares) > 0 ? Math.min(...shares) / Math.max(...shares) : undefined;
  const secs = Math.max(durationMs, 1) / 1000;
  return {
    requests: records.length,
    ok: ok.length,
    sheds: records.filter((r) => r.shed).length,
    errors: records.filter((r) => !r.shed && (r.status !== 200 || !!r.error)).length,
    ttftP50Ms: quantile(ttft, 0.5),
    ttftP90Ms: quantile(ttft, 0.9),
    ttftP99Ms: quantile(ttft, 0.99),
    e2eP50Ms: quantile(e2e, 0.5),
    e2eP90Ms: quantile(e2e, 0.9),
    throughputRps: ok.length / secs,
    outputTokensPerSec: ok.reduce((a, r) => a + r.outputChars, 0) / 4 / secs,
    perServer,
    perClass,
    ...(fairness !== undefined ? { fairness } : {}),
  };
}

function windowShare(all: readonly RequestRecord[], ok: readonly RequestRecord[], w: ContentionWindow): WindowShare {
  const inside = (t: number) => t >= w.startMs && t < w.endMs;
  const served = ok.filter((r) => inside(r.startMs + r.e2eMs)).length;
  const open = (t: number) => all.filter((r) => r.startMs <= t && r.startMs + r.e2eMs > t).length;
  return {
    offered: all.filter((r) => inside(r.startMs)).length, served, rps: served / (Math.max(w.endMs - w.startMs, 1) / 1000),
    openAtStart: open(w.startMs), openAtEnd: open(w.endMs),
  };
}
