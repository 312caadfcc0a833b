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

/**
 * Shared-data traffic of the response-headers callbacks only (every key, not just load state):
 * what applying one ORCA report costs, apart from the request's own reads.
 */
async function reportTraffic(host: ProxyWasmHost, fn: () => Promise<unknown>): Promise<{ read: number; written: number; keys: string[] }> {
  const store = host.sharedData as unknown as {
    get(vm: string, key: string): { value: Uint8Array } | undefined;
    set(vm: string, key: string, value: Uint8Array, cas?: number, owned?: boolean): number;
  };
  const get = store.get.bind(store);
  const set = store.set.bind(store);
  let inReport = false;
  const out = { read: 0, written: 0, keys: [] as string[] };
  store.get = (vm, key) => {
    const v = get(vm, key);
    if (inReport) {
      out.read += key.length + (v?.value.length ?? 0);
      out.keys.push(`get ${key.replace(/^.*\/llm\//, "")}`);
    }
    return v;
  };
  store.set = (vm, key, value, cas, owned) => {
    if (inReport) {
      out.written += key.length + value.length;
      out.keys.push(`set ${key.replace(/^.*\/llm\//, "")}`);
    }
    return set(vm, key, value, cas, owned);
  };
  const restore: Array<() => void> = [];
  for (const w of host.workers) {
    const vm = w.vm as unknown as { call(name: string, ctx: number, ...a: number[]): number | undefined };
    const call = vm.call;
    vm.call = (name, ctx, ...a) => {
      if (name !== "proxy_on_response_headers") return call.call(vm, name, ctx, ...a);
      inReport = true;
      try {
        return call.call(vm, name, ctx, ...a);
      } finally {
        inReport = false;
      }
    };
    restore.push(() => (vm.call = call));
  }
  try {
    await fn();
  } finally {
    store.get = get;
    store.set = set;
    for (const r of restore) r();
  }
  return out;
}

describe("O(1) shared-state updates: the report itself", () => {
  it("applying an ORCA report touches one record, the counter and one journal entry, at 64 and at 1024 endpoints", async () => {
    const per: Record<number, { read: number; written: number }> = {};
    for (const n of [64, 1024]) {
      const host = await orcaHost(n);
      try {
        for (let i = 0; i < 4; i++) await host.request({ worker: i % 2, upstream: orca(1, 0.1) });
        let read = 0;
        let written = 0;
        const reports = 20;
        for (let i = 0; i < reports; i++) {
          const t = await reportTraffic(host, () => host.request({ worker: i % 2, upstream: orca(i % 4, (i % 10) / 10) }));
          // Exactly: write the endpoint's record, read and CAS the counter, write the journal entry.
          expect(t.keys.map((k) => k.replace(/^(set|get) (le|lj)\/.*$/, "$1 $2/*"))).toEqual(["set le/*", "get lseq", "set lseq", "set lj/*"]);
          read += t.read;
          written += t.written;
        }
        per[n] = { read: read / reports, written: written / reports };
        expect(host.traps).toEqual([]);
      } finally {
        host.close();
      }
    }
    for (const n of [64, 1024]) {
      expect(per[n].written).toBeLessThan(300);
      expect(per[n].read).toBeLessThan(60);
    }
    // The keys and the record carry the endpoint's address: a few bytes longer at 1,024.
    expect(per[1024].written).toBeLessThanOrEqual(per[64].written + 16);
    expect(per[1024].read).toBeLessThanOrEqual(per[64].read + 16);
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

describe("in-flight counts carry the queue signal between budgeted scrapes", () => {
  // One endpoint looked idle at its last scrape, three looked busy (queue 3). Eight requests
  // then arrive and stay in flight before the next scrape. With the old schedule (a scrape every
  // intervalMs, the budget not binding) the queue scores are the scraped ones, so every request
  // goes to the idle-looking endpoint; the EPP behaves the same, and a scrape 50 ms later sets it
  // right. When the budget spaces scrapes out (4 endpoints at 1/s: every 4 s), the queue scorer
  // adds the requests sent since the scrape, so the idle-looking endpoint stops taking every pick.
  const addrs = addresses(4);
  const queues = [0, 3, 3, 3];

  async function picksWhileInFlight(budgetPerSecond: number): Promise<{ toIdle: number; perEndpoint: Map<string, number>; interval: number }> {
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      workers: 2,
      rootId: "wayroute",
      logLevel: "error",
      pluginConfig: {
        pools: [{
          name: "llm", endpoints: addrs.map((address) => ({ address })), steering: { maxEndpoints: 1 },
          profile: { scorers: [{ type: "queue-scorer", weight: 2 }, { type: "kv-cache-utilization-scorer", weight: 2 }], picker: { type: "max-score-picker" } },
          scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, budgetPerSecond },
        }],
      },
      clusters: {
        pool: (req): HttpCallOutcome => {
          const i = addrs.indexOf(req.headers.get("x-gateway-destination-endpoint") ?? "");
          return { status: 200, body: vllmMetrics({ waiting: queues[i], kv: 0.2 }) };
        },
      },
    });
    try {
      expect(host.configured).toBe(true);
      // One full scrape round at either schedule (4 s at 1/s), then requests before the next.
      for (let t = 0; t < 4200; t += 100) {
        await host.advance(100);
        await host.settle();
      }
      const perEndpoint = new Map<string, number>();
      for (let i = 0; i < 8; i++) {
        const s = host.worker(i % 2).newStream();
        s.requestHeaders({ ":method": "GET", ":path": "/v1/models", ":authority": "a", ":scheme": "http" }, true);
        const a = s.forwardedRequest?.headers.get("x-gateway-destination-endpoint") ?? "";
        perEndpoint.set(a, (perEndpoint.get(a) ?? 0) + 1);
      }
      expect(host.traps).toEqual([]);
      return { toIdle: perEndpoint.get(addrs[0]!) ?? 0, perEndpoint, interval: metric(host, "wayroute_picker_llm_scrape_effective_interval_ms") };
    } finally {
      host.close();
    }
  }

  it("old schedule (budget not binding): the scraped queues alone, every request to the idle-looking endpoint", async () => {
    const r = await picksWhileInFlight(10_000);
    expect(r.interval).toBe(50);
    expect(r.toIdle).toBe(8);
  });

  it("budget spacing scrapes 4 s apart: the idle-looking endpoint takes its share, then the others", async () => {
    const r = await picksWhileInFlight(1);
    expect(r.interval).toBe(4000);
    // Three requests bring its estimate to the others' 3; from then on picks spread.
    expect(r.toIdle).toBeGreaterThanOrEqual(3);
    expect(r.toIdle).toBeLessThanOrEqual(5);
    expect(r.perEndpoint.size).toBeGreaterThanOrEqual(3);
  });
});
