/**
 * The per-class (per-tenant) summary on recorded samples: each class's throughput counts its
 * successful requests over its own active window, so a short burst is compared with the steady
 * tenant at the rate it was actually served.
 */
import { describe, expect, it } from "vitest";
import { summarize } from "../../src/load/index.js";
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
