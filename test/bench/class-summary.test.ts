/**
 * The per-class (per-tenant) summary on recorded samples: each class's throughput counts its
 * successful requests over its own active window, so a short burst is compared with the steady
 * tenant at the rate it was actually served.
 */
import { describe, expect, it } from "vitest";
import { contentionWindow, defaultWorkloads, summarize } from "../../src/load/index.js";
import type { RequestRecord } from "../../src/load/client.js";

let nextId = 0;
const rec = (cls: string, startMs: number, e2eMs: number, status = 200, outputChars = 96, extra: Partial<RequestRecord> = {}): RequestRecord =>
  ({ id: nextId++, class: cls, startMs, e2eMs, status, shed: status === 429, outputChars, ttftMs: e2eMs / 2, ...extra });

describe("summarize: per-class throughput", () => {
  // Tenant a: 4 requests from 0 ms, the last ending at 2000 ms (2 s window) -> 2 req/s.
  // Tenant b: 3 served + 1 shed from 500 ms, the last ending at 1500 ms (1 s window) -> 3 req/s.
  const records = [
    rec("tenant-a", 0, 200), rec("tenant-a", 600, 300), rec("tenant-a", 1200, 300), rec("tenant-a", 1800, 200),
    rec("tenant-b", 500, 400), rec("tenant-b", 520, 700), rec("tenant-b", 540, 960), rec("tenant-b", 560, 10, 429, 0),
  ];
  const s = summarize(records, 2000);

  it.each([
    ["tenant-a", 4, 0, 2, 2 * 96 / 4],
    ["tenant-b", 3, 1, 3, 3 * 96 / 4],
  ] as const)("%s: %i ok, %i shed, %f req/s, %f output tok/s", (cls, ok, sheds, rps, tps) => {
    const k = s.perClass[cls]!;
    expect(k.ok).toBe(ok);
    expect(k.sheds).toBe(sheds);
    expect(k.errors).toBe(0);
    expect(k.throughputRps).toBeCloseTo(rps, 9);
    expect(k.outputTokensPerSec).toBeCloseTo(tps, 9);
  });

  it("the run's throughput is over the whole run, not a class window", () => {
    expect(s.throughputRps).toBeCloseTo(7 / 2, 9);
  });

  it("a class with nothing served has zero throughput, not NaN", () => {
    const t = summarize([rec("x", 0, 50, 503, 0, { error: "upstream reset" }), rec("y", 0, 100)], 100);
    expect(t.perClass.x).toMatchObject({ ok: 0, errors: 1, throughputRps: 0, outputTokensPerSec: 0 });
    expect(t.perClass.y!.throughputRps).toBeCloseTo(10, 9);
  });
});

describe("summarize: the contention window (both tenants backlogged)", () => {
  // Window 1000..3000 ms. Tenant a: served 2 in it (ends 1500, 2900), one ended before it
  // (900) and one after (3100); 3 started in it. Tenant b: 4 served in it, all started before.
  const records = [
    rec("tenant-a", 0, 900), rec("tenant-a", 800, 700), rec("tenant-a", 1200, 1700), rec("tenant-a", 2500, 600), rec("tenant-a", 2900, 50, 429, 0),
    rec("tenant-b", 500, 1000), rec("tenant-b", 510, 1500), rec("tenant-b", 520, 2000), rec("tenant-b", 530, 2400), rec("tenant-b", 540, 4000),
  ];
  const s = summarize(records, 4500, { startMs: 1000, endMs: 3000 });

  it("counts each class's successful requests that ended in the window, what it offered there, and what was open at both ends", () => {
    expect(s.perClass["tenant-a"]!.contention).toEqual({ served: 2, offered: 3, rps: 1, openAtStart: 1, openAtEnd: 1 });
    expect(s.perClass["tenant-b"]!.contention).toEqual({ served: 4, offered: 0, rps: 2, openAtStart: 5, openAtEnd: 1 });
  });

  it("fairness is the lowest class's window rate over the highest's", () => {
    expect(s.fairness).toBeCloseTo(0.5, 9);
    expect(summarize(records, 4500).fairness).toBeUndefined();
    expect(summarize(records, 4500).perClass["tenant-a"]!.contention).toBeUndefined();
  });

  it("the default bursty workload's window starts a settle time after the burst and ends with the steady tenant", () => {
    const w = defaultWorkloads().find((x) => x.kind === "bursty-tenants")!;
    expect(contentionWindow(w)).toEqual({ startMs: 2000, endMs: 5000 });
    expect(contentionWindow(defaultWorkloads()[0]!)).toBeUndefined();
    // Tenant a offers more than half of what the pool serves (about 30 requests/s here), and
    // b's burst outlasts the window at half of it: both stay backlogged.
    if (w.kind === "bursty-tenants") {
      expect(w.steadyRate).toBeGreaterThan(15);
      expect(w.burst).toBeGreaterThan(15 * (w.durationMs - w.burstAtMs) / 1000);
    }
  });
});
