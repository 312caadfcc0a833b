/**
 * The state plane at scale through the real plugin.wasm: the scrape budget holds under a
 * 1,024-endpoint pool (http calls per virtual second never above it, every endpoint still
 * scraped once per effective interval, nothing stale by construction), and shared-state updates
 * are O(1): the bytes an ORCA report reads and writes through shared data do not grow with the
 * pool. Plus ORCA-only mode: no scraping at all, load from responses.
 */
import { describe, expect, it } from "vitest";
import { ProxyWasmHost, type HttpCallOutcome } from "../../src/host/index.js";
import { metric, pluginModule, steering, vllmMetrics } from "./helpers.js";
import { sharedLoad } from "./load-state.js";

function addresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1:8000`);
}

describe("scrape budget", () => {
  it("1024 endpoints: at most budgetPerSecond calls in any virtual second; each endpoint once per effective interval", async () => {
    const addrs = addresses(1024);
    const calls: Array<{ at: number; addr: string }> = [];
    let host!: ProxyWasmHost;
    host = await ProxyWasmHost.create({
      module: await pluginModule(),
      workers: 2,
      rootId: "wayroute",
      logLevel: "error",
      pluginConfig: {
        pools: [{
          name: "llm", endpoints: addrs.map((address) => ({ address })), debug: { explain: true },
          scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, budgetPerSecond: 200 },
        }],
      },
      clusters: {
        pool: (req): HttpCallOutcome => {
          const addr = req.headers.get("x-gateway-destination-endpoint") ?? "";
          calls.push({ at: host.now, addr });
          return { status: 200, body: vllmMetrics({ waiting: addrs.indexOf(addr) % 5, kv: 0.1 }) };
        },
      },
    });
    try {
      expect(host.configured).toBe(true);
      for (let t = 0; t < 12_000; t += 500) {
        await host.advance(500);
        await host.settle();
      }
      // The budget: a sliding one-second window over every call's virtual time.
      let max = 0;
      for (let i = 0, j = 0; i < calls.length; i++) {
        while (calls[i].at - calls[j].at >= 1000) j++;
        max = Math.max(max, i - j + 1);
      }
      expect(max).toBeLessThanOrEqual(200);
      expect(max).toBeGreaterThan(150); // and it is used, not starved
      // Effective interval 1024 / 200 per s = 5120 ms: every endpoint scraped about twice in 12 s.
      expect(metric(host, "wayroute_picker_llm_scrape_effective_interval_ms")).toBe(5120);
      const per = new Map<string, number>();
      for (const c of calls) per.set(c.addr, (per.get(c.addr) ?? 0) + 1);
      expect(per.size).toBe(1024);
      expect(Math.min(...per.values())).toBeGreaterThanOrEqual(2);
      // Staleness follows the effective interval: nothing is stale, requests route, and the
      // explanation says how often the pool is scraped.
      expect(metric(host, "wayroute_picker_llm_stale_endpoints")).toBe(0);
      const r = await host.request({ worker: 1, headers: { ":path": "/v1/models" } });
      expect(r.response.status).toBe(200);
      expect(r.response.headers.get("x-wayroute-explain")).toContain("scrape every 5120 ms (1024 endpoints, budget 200/s)");
      expect(host.traps).toEqual([]);
    } finally {
      host.close();
    }
  }, 120_000);
});

/** Bytes read and written through shared data on load-state keys during `fn`. */
async function loadBytes(host: ProxyWasmHost, fn: () => Promise<unknown>): Promise<{ read: number; written: number; ops: number }> {
  const store = host.sharedData as unknown as {
    get(vm: string, key: string): { value: Uint8Array } | undefined;
    set(vm: string, key: string, value: Uint8Array, cas?: number): number;
  };
  const get = store.get.bind(store);
  const set = store.set.bind(store);
  const isLoad = (k: string): boolean => /\/(le\/|lj\/|lseq$|load$|loadv$)/.test(k);
  const out = { read: 0, written: 0, ops: 0 };
  store.get = (vm, key) => {
    const v = get(vm, key);
    if (isLoad(key)) {
      out.ops++;
      out.read += key.length + (v?.value.length ?? 0);
    }
    return v;
  };
  store.set = (vm, key, value, cas) => {
    if (isLoad(key)) {
      out.ops++;
      out.written += key.length + value.length;
    }
    return set(vm, key, value, cas);
  };
  try {
    await fn();
  } finally {
    store.get = get;
    store.set = set;
  }
  return out;
}

async function orcaHost(n: number): Promise<ProxyWasmHost> {
  const addrs = addresses(n);
  const host = await ProxyWasmHost.create({
    module: await pluginModule(),
    workers: 2,
    rootId: "wayroute",
    logLevel: "error",
    // ORCA-only: no scrape section, load from the responses' endpoint-load-metrics.
    pluginConfig: { pools: [{ name: "llm", endpoints: addrs.map((address) => ({ address })), steering: { maxEndpoints: 1 } }] },
  });
  expect(host.configured).toBe(true);
  return host;
}

const orca = (w: number, kv: number) => ({ status: 200, headers: { "endpoint-load-metrics": `TEXT named_metrics.num_requests_waiting=${w}, named_metrics.kv_cache_usage_perc=${kv}` } });

describe("O(1) shared-state updates", () => {
  it("an ORCA report reads and writes the same few hundred bytes of load state at 64 and at 1024 endpoints", async () => {
    const perReport: Record<number, { read: number; written: number; ops: number }> = {};
    for (const n of [64, 1024]) {
      const host = await orcaHost(n);
      try {
        // Warm up: every worker has read the (empty) state once.
        for (let i = 0; i < 4; i++) await host.request({ worker: i % 2, upstream: orca(1, 0.1) });
        let total = { read: 0, written: 0, ops: 0 };
        const reports = 20;
        for (let i = 0; i < reports; i++) {
          const b = await loadBytes(host, () => host.request({ worker: i % 2, upstream: orca(i % 4, (i % 10) / 10) }));
          total = { read: total.read + b.read, written: total.written + b.written, ops: total.ops + b.ops };
        }
        perReport[n] = { read: total.read / reports, written: total.written / reports, ops: total.ops / reports };
        expect(host.traps).toEqual([]);
      } finally {
        host.close();
      }
    }
    // Per report: one endpoint record (~70 B + key) read and written, the counter, one journal
    // entry, and the other worker's entry since its last look. Independent of the pool size.
    for (const n of [64, 1024]) {
      expect(perReport[n].written).toBeLessThan(400);
      expect(perReport[n].read).toBeLessThan(800);
      expect(perReport[n].ops).toBeLessThanOrEqual(8);
    }
    expect(perReport[1024].written).toBeLessThanOrEqual(perReport[64].written + 16);
    expect(perReport[1024].read).toBeLessThanOrEqual(perReport[64].read + 16);
  }, 60_000);
});

describe("ORCA-only mode", () => {
  it("no scrape calls; each response's report steers the other worker away from a busy endpoint", async () => {
    const host = await orcaHost(3);
    try {
      const first = await host.request({ worker: 0, upstream: orca(9, 0.95) });
      const busy = steering(first)!;
      expect(sharedLoad(host, busy)).toMatchObject({ waiting: 9, kv: 0.95, running: -1 });
      for (let i = 0; i < 6; i++) {
        const r = await host.request({ worker: 1, upstream: orca(0, 0.1) });
        expect(steering(r)).not.toBe(busy);
      }
      expect(host.httpCalls.length).toBe(0);
      expect(host.traps).toEqual([]);
    } finally {
      host.close();
    }
  });
});
