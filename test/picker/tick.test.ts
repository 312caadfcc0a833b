/**
 * The root tick's pace through the real plugin.wasm in the harness (which re-arms the timer as
 * Envoy's Wasm::setTickPeriod does): only the VM holding the scrape lease ticks at the scrape
 * pace, batching its scrapes when the budget stretches the interval; the other VMs watch the
 * lease slowly and read shared state on their requests; a worker ticks at the flow's tickMs
 * only while streams wait in its queue.
 */
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { FakePool, chat, pickerHost, pluginModule, poolConfig, scrapeRound, steering } from "./helpers.js";

interface Counted {
  label: string;
  ticks: number;
}

/** Counts proxy_on_tick calls per VM (Envoy's main-thread VM first, then the workers). */
function countTicks(host: ProxyWasmHost): Counted[] {
  const vms: { label: string; vm: { call(name: string, ...a: number[]): unknown } }[] = [];
  if (host.mainThread?.vm) vms.push({ label: "main", vm: host.mainThread.vm as never });
  for (let w = 0; w < host.workers.length; w++) vms.push({ label: `worker ${w}`, vm: host.worker(w).vm as never });
  return vms.map(({ label, vm }) => {
    const c: Counted = { label, ticks: 0 };
    const orig = vm.call.bind(vm);
    vm.call = (name: string, ...a: number[]) => {
      if (name === "proxy_on_tick") c.ticks++;
      return orig(name, ...a);
    };
    return c;
  });
}

function addresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.1.${i >> 8}.${i & 255}:8000`);
}

async function run(host: ProxyWasmHost, ms: number): Promise<void> {
  // In 10 ms steps, so scrape responses come back before the next tick (as on loopback).
  for (let t = 0; t < ms; t += 10) {
    await host.advance(10);
    await host.settle();
  }
}

describe("tick pace", () => {
  it("only the lease holder ticks at the scrape interval; the workers watch the lease at half its term", async () => {
    const addrs = addresses(3);
    const pool = new FakePool(addrs);
    const host = await pickerHost(poolConfig({}, addrs), pool, 2);
    await scrapeRound(host);
    const counts = countTicks(host);
    pool.scrapes = [];
    await run(host, 2000);
    const [main, w0, w1] = counts;
    // The main thread's VM ticks first and holds the lease: 50 ms ticks (3 endpoints, budget 100/s).
    expect(main.ticks).toBeGreaterThanOrEqual(38);
    expect(main.ticks).toBeLessThanOrEqual(41);
    // Workers: every 500 ms (leaseMs 1000 / 2).
    for (const w of [w0, w1]) expect(w.ticks).toBeLessThanOrEqual(5);
    // Every endpoint still scraped once per 50 ms.
    expect(pool.scrapes.length).toBeGreaterThanOrEqual(114);
    expect(pool.scrapes.length).toBeLessThanOrEqual(123);
    // A worker that has not ticked since reads the fresh load on its request.
    pool.set(addrs[0], { waiting: 9 });
    pool.set(addrs[1], { waiting: 0 });
    pool.set(addrs[2], { waiting: 9 });
    await host.advance(60);
    await host.settle();
    expect(steering(await host.request({ worker: 1, body: chat("hello") }))?.split(",")[0]).toBe(addrs[1]);
    expect(host.traps).toEqual([]);
  });

  it("when the budget stretches the interval, the holder batches a quarter interval's scrapes per tick and the budget holds", async () => {
    const addrs = addresses(64); // 64 / 100 per s (the default budget): every endpoint every 640 ms
    const pool = new FakePool(addrs);
    const host = await pickerHost(poolConfig({}, addrs), pool, 2);
    await run(host, 1000);
    const counts = countTicks(host);
    pool.scrapes = [];
    await run(host, 3200);
    // Ticks every 160 ms (640 / 4), not 50.
    expect(counts[0].ticks).toBeGreaterThanOrEqual(19);
    expect(counts[0].ticks).toBeLessThanOrEqual(21);
    for (const w of counts.slice(1)) expect(w.ticks).toBeLessThanOrEqual(7);
    // The same scrape rate: at most 100/s, every endpoint about 5 times in 3.2 s. Batches of 16
    // (100/s x 160 ms) fit a sliding one-second window 6 at a time, so about 90/s arrive.
    expect(pool.scrapes.length).toBeGreaterThanOrEqual(270);
    expect(pool.scrapes.length).toBeLessThanOrEqual(320);
    const per = new Map<string, number>();
    for (const s of pool.scrapes) {
      const a = s.headers.get("x-gateway-destination-endpoint")!;
      per.set(a, (per.get(a) ?? 0) + 1);
    }
    expect(per.size).toBe(64);
    for (const n of per.values()) expect(n).toBeGreaterThanOrEqual(4);
  });

  it("a worker whose lease holder died takes the lease over and then ticks at the scrape pace", async () => {
    const addrs = addresses(3);
    const pool = new FakePool(addrs);
    const host = await pickerHost(poolConfig({ scrape: { engine: "vllm", cluster: "pool", intervalMs: 50, leaseMs: 1000 } }, addrs), pool, 2);
    await scrapeRound(host);
    host.mainThread!.vm!.failed = true;
    // The lease lapses 1 s after its last renewal; a worker sees it within its 500 ms watch.
    await run(host, 2000);
    const counts = countTicks(host);
    pool.scrapes = [];
    await run(host, 1000);
    const fast = counts.filter((c) => c.ticks >= 19);
    expect(fast.map((c) => c.label).length).toBe(1);
    expect(fast[0].label).not.toBe("main");
    // Every endpoint about once per 50 ms (a round whose previous scrape is still out skips it).
    expect(pool.scrapes.length).toBeGreaterThanOrEqual(54);
    expect(new Set(pool.scrapes.map((s) => s.worker)).size).toBe(1);
  });
});

describe("tick pace: prefix journal", () => {
  it("an idle worker's tick follows the journal's rate: a quarter of the ring between two replays", async () => {
    const addrs = addresses(4);
    const pool = new FakePool(addrs);
    const host = await pickerHost(poolConfig({ steering: { maxEndpoints: 1 } }, addrs), pool, 2);
    await run(host, 1200);
    const counts = countTicks(host);
    await run(host, 1000);
    // Nothing to replay: the lease watch (500 ms) is the pace.
    expect(counts[2].ticks).toBeLessThanOrEqual(2);
    // 150 prompts on worker 0 in 1.5 s (100 journal records a second, more than the ring's 64):
    // worker 1 replays about every 160 ms (16 records apart), not once a second.
    const prompt = (i: number) => `conversation ${i}: ` + "the same long system prompt of this tenant. ".repeat(40);
    counts[2].ticks = 0;
    for (let i = 0; i < 150; i++) {
      expect(steering(await host.request({ worker: 0, body: chat(prompt(i)) }))).toBeDefined();
      await host.advance(10);
      await host.settle();
    }
    expect(counts[2].ticks).toBeGreaterThanOrEqual(6);
    // Quiet again: back to the lease watch.
    await run(host, 2000);
    counts[2].ticks = 0;
    await run(host, 1000);
    expect(counts[2].ticks).toBeLessThanOrEqual(2);
    expect(host.traps).toEqual([]);
  });
});

describe("tick pace: flow control", () => {
  const config = {
    pools: [{
      name: "llm",
      endpoints: [{ address: "10.0.0.1:8000" }],
      steering: { maxEndpoints: 1 },
      // No prefix index (its journal replay ticks every second): only the flow needs a tick.
      profile: { scorers: [{ type: "queue-scorer", weight: 1 }] },
      flowControl: { bands: [{ name: "standard", minPriority: 0, maxPriority: 0 }], maxWaitMs: 1000, dispatch: "in-flight-below", maxInFlightPerEndpoint: 1, tickMs: 10 },
    }],
  };
  const headers = { ":method": "GET", ":path": "/v1/models", ":authority": "llm", ":scheme": "http" };

  it("a worker ticks at tickMs only while a stream waits in its queue", async () => {
    const host = await ProxyWasmHost.create({ module: await pluginModule(), pluginConfig: config, workers: 1, rootId: "wayroute" });
    const [, w] = countTicks(host);
    // The first tick, right after configure, finds nothing that needs another: without
    // scraping and with nobody waiting the VM does not tick.
    await run(host, 100);
    expect(w.ticks).toBe(1);
    await run(host, 400);
    expect(w.ticks).toBe(1);
    const a = host.worker(0).newStream();
    expect(a.requestHeaders(headers, true)).toBe("complete");
    const b = host.worker(0).newStream();
    expect(b.requestHeaders(headers, true)).toBe("pause");
    await run(host, 200);
    expect(w.ticks - 1).toBeGreaterThanOrEqual(19);
    expect(w.ticks - 1).toBeLessThanOrEqual(21);
    // A's end frees the slot: B goes; the next tick finds the queue empty and stops ticking.
    a.responseHeaders({ ":status": "200" }, true);
    a.finish();
    expect(b.forwardedRequest).toBeDefined();
    await run(host, 100);
    const after = w.ticks;
    await run(host, 1000);
    expect(w.ticks).toBe(after);
    // A stream that waits again starts the tick again, and expires from it.
    const c = host.worker(0).newStream();
    expect(c.requestHeaders(headers, true)).toBe("pause");
    await run(host, 1100);
    expect(c.result().response.status).toBe(429);
    expect(host.traps).toEqual([]);
  });
});
