/**
 * Old and new shared-state encodings give identical picks on the same recorded loads. The
 * fixture was recorded with the text load snapshot (one tab-separated line per endpoint) before
 * the per-endpoint binary slots replaced it; every pick here is made on a worker that learns the
 * load only through shared data (worker 1; worker 0 holds the scrape lease) and on the scraper.
 * Re-record (only when the scoring itself changes on purpose) with RECORD_STATE_PICKS=1.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FakePool, pickerHost, scrapeRound, steering, type ServerLoad } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/state/recorded-picks.json", import.meta.url));
const ADAPTERS = ["sql-lora", "chat-lora", "code-lora", "summ-lora"];

interface Round {
  loads: ServerLoad[];
  picks: string[];
}

/** Deterministic loads (mulberry32): distinct KV values so no two endpoints tie. */
function rounds(n: number, endpoints: number): ServerLoad[][] {
  let s = 0x5eed;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: ServerLoad[][] = [];
  for (let r = 0; r < n; r++) {
    const loads: ServerLoad[] = [];
    for (let e = 0; e < endpoints; e++) {
      const running = ADAPTERS.filter(() => rnd() < 0.3);
      const waiting = ADAPTERS.filter((a) => !running.includes(a) && rnd() < 0.15);
      loads.push({
        waiting: Math.floor(rnd() * 8),
        running: Math.floor(rnd() * 20),
        kv: Math.round((0.05 + rnd() * 0.9) * 1000 + e) / 1000 / 1.02,
        loras: { running, waiting, max: 1 + Math.floor(rnd() * 4) },
      });
    }
    out.push(loads);
  }
  return out;
}

const ADDRS = Array.from({ length: 12 }, (_, i) => `10.0.1.${i + 1}:8000`);

async function picksFor(all: ServerLoad[][]): Promise<string[][]> {
  const pool = new FakePool(ADDRS);
  const host = await pickerHost(
    {
      // The model header comes from a trusted gateway in front (the harness's default peer).
      steering: { trustedCallers: [{ properties: [{ path: "source.address", cidr: ["127.0.0.0/8"] }] }] },
      pools: [{
        name: "llm",
        endpoints: ADDRS.map((address) => ({ address })),
        // The schedule the fixture was recorded with (12 endpoints every 60 ms), so one
        // scrapeRound refreshes every endpoint.
        scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, budgetPerSecond: 200 },
        steering: { maxEndpoints: 3 },
        profile: {
          scorers: [
            { type: "queue-scorer", weight: 2 },
            { type: "kv-cache-utilization-scorer", weight: 2 },
            { type: "lora-affinity-scorer", weight: 1 },
          ],
        },
      }],
    },
    pool,
    2,
  );
  try {
    expect(host.configured).toBe(true);
    const out: string[][] = [];
    for (const loads of all) {
      loads.forEach((l, i) => pool.set(ADDRS[i], l));
      await scrapeRound(host);
      const picks: string[] = [];
      for (const worker of [1, 0]) {
        for (const model of [...ADAPTERS, "base-model"]) {
          const r = await host.request({ worker, headers: { ":path": "/v1/completions", "x-gateway-model-name": model } });
          picks.push(steering(r) ?? "");
        }
      }
      out.push(picks);
    }
    expect(host.traps).toEqual([]);
    return out;
  } finally {
    host.close();
  }
}

describe("shared load state: encodings", () => {
  it("old (text snapshot) and new encodings give identical picks on the same recorded loads", async () => {
    const all = rounds(24, ADDRS.length);
    const picks = await picksFor(all);
    if (process.env.RECORD_STATE_PICKS === "1") {
      const rec: Round[] = all.map((loads, i) => ({ loads, picks: picks[i] }));
      writeFileSync(FIXTURE, JSON.stringify(rec, null, 1) + "\n");
    }
    const recorded = JSON.parse(readFileSync(FIXTURE, "utf8")) as Round[];
    expect(recorded.map((r) => r.loads)).toEqual(all);
    expect(picks).toEqual(recorded.map((r) => r.picks));
    // The recording is not degenerate: loads move the picks around.
    expect(new Set(picks.flat().map((p) => p.split(",")[0])).size).toBeGreaterThan(3);
  }, 60_000);
});
