/**
 * Flow control in real Envoy 1.40 with two workers: a request held at its headers
 * (StopAllIterationAndWatermark) is resumed with proxy_continue_stream from another stream's
 * on_log (same worker) and from the root tick (capacity freed on the other worker), on each
 * worker; a request that waits too long gets 429 with the reason; the flow stats are in Envoy's
 * /stats. HTTP/2 connections pin their streams to one worker; Envoy's per-worker listener stats
 * tell which.
 */
import http2 from "node:http2";
import { afterEach, expect, it } from "vitest";
import { describeEnvoy } from "./helpers.js";
import { chat, eventually, promValues, type Stack, startStack } from "./stack.js";

function config(flow: Record<string, unknown>): Record<string, unknown> {
  return {
    logLevel: "info",
    pools: [
      {
        name: "pool",
        match: { pathPrefix: "/v1/" },
        endpoints: [],
        steering: { mode: "endpoint", maxEndpoints: 1 },
        scrape: { enabled: false },
        flowControl: {
          bands: [{ name: "standard", minPriority: 0, maxPriority: 0 }],
          dispatch: "in-flight-below",
          maxInFlightPerEndpoint: 1,
          ...flow,
        },
      },
    ],
  };
}

interface Answer {
  status: number;
  flow: string | undefined;
  /** When the answer was complete (ms since the test's start). */
  doneAt: number;
  /** The request body that was sent (to find the upstream that served it). */
  body: string;
}

const t0 = Date.now();

/** POSTs a chat with `text` as its prompt; `headers` are added to the request's. */
function post(session: http2.ClientHttp2Session, path = "/v1/chat/completions", text = "hi", headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = chat("m", text);
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers });
    let status = 0;
    let flow: string | undefined;
    req.on("response", (h) => {
      status = Number(h[":status"]);
      const v = h["x-wayroute-flow"];
      flow = Array.isArray(v) ? v[0] : v;
    });
    req.on("data", () => {});
    req.on("end", () => resolve({ status, flow, doneAt: Date.now() - t0, body }));
    req.on("error", reject);
    req.end(body);
  });
}

/** Connections accepted per worker, from Envoy's per-worker listener stats. */
async function connectionsPerWorker(stack: Stack): Promise<number[]> {
  const text = (await stack.envoy.admin("/stats?filter=worker_%5B0-9%5D%2B%5C.downstream_cx_total")).body;
  const out = [0, 0];
  for (const m of text.matchAll(/^listener\.[^:]*\.worker_(\d+)\.downstream_cx_total: (\d+)$/gm)) {
    out[Number(m[1])] = (out[Number(m[1])] ?? 0) + Number(m[2]);
  }
  return out;
}

/** One HTTP/2 connection per worker (its streams all run on that worker's VM). */
async function sessionPerWorker(stack: Stack, open: http2.ClientHttp2Session[]): Promise<http2.ClientHttp2Session[]> {
  const byWorker: (http2.ClientHttp2Session | undefined)[] = [undefined, undefined];
  for (let i = 0; i < 16 && !(byWorker[0] && byWorker[1]); i++) {
    const before = await connectionsPerWorker(stack);
    const s = http2.connect(stack.base);
    open.push(s);
    expect((await post(s, "/v1/warmup")).status).toBe(200);
    const after = await connectionsPerWorker(stack);
    const w = after.findIndex((n, k) => n > (before[k] ?? 0));
    if (w >= 0 && !byWorker[w]) byWorker[w] = s;
  }
  expect(byWorker[0] && byWorker[1], "connections on both workers").toBeTruthy();
  return byWorker as http2.ClientHttp2Session[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEnvoy("flow control in real Envoy", (binary) => {
  let stack: Stack | undefined;
  const sessions: http2.ClientHttp2Session[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    await stack?.stop();
    stack = undefined;
  });

  it("a paused request is resumed from another stream's end, on each worker (the tick is 5 s away)", async () => {
    stack = await startStack({ binary, config: config({ maxWaitMs: 10000, tickMs: 5000 }), servers: 1 });
    const workers = await sessionPerWorker(stack, sessions);
    for (const [w, s] of workers.entries()) {
      const a = post(s, "/v1/chat/completions?slowMs=600");
      await sleep(150);
      const b = post(s, "/v1/chat/completions");
      const [ra, rb] = await Promise.all([a, b]);
      console.log(`[envoy] worker ${w}: A done at ${ra.doneAt} ms; B ${rb.status} "${rb.flow}" done at ${rb.doneAt} ms`);
      expect(ra.status).toBe(200);
      expect(ra.flow).toBeUndefined();
      expect(rb.status).toBe(200);
      const waited = Number(/^queued; band=standard; waited=(\d+)ms$/.exec(rb.flow ?? "")?.[1]);
      // Held until A's end (about 450 ms), resumed by A's on_log: long before the 5 s tick.
      expect(waited).toBeGreaterThanOrEqual(300);
      expect(waited).toBeLessThan(2000);
      expect(rb.doneAt).toBeGreaterThanOrEqual(ra.doneAt - 50);
    }
    expect(stack.upstreams[0]!.requests.filter((r) => r.path.startsWith("/v1/chat")).length).toBe(4);
    const stats = await promValues(stack.envoy, "wayroute_flow_pool_");
    expect(stats.get("wayroute_flow_pool_queued_total")).toBe(2);
    expect(stats.get("wayroute_flow_pool_dispatched_after_wait_total")).toBe(2);
    expect(stats.get("wayroute_flow_pool_standard_queue_length")).toBe(0);
    // Envoy merges histograms into /stats at its stats flush (every 5 s by default), unlike
    // counters and gauges, which are current.
    const waitCount = async () => (await promValues(stack!.envoy, "wayroute_flow_pool_standard_wait_ms_count")).get("wayroute_flow_pool_standard_wait_ms_count");
    expect(await eventually(async () => (await waitCount()) === 2, 8000)).toBe(true);
  });

  it("a paused request is resumed from its worker's tick when the other worker frees the slot, both ways", async () => {
    stack = await startStack({ binary, config: config({ maxWaitMs: 10000, tickMs: 50 }), servers: 1 });
    const workers = await sessionPerWorker(stack, sessions);
    for (const [holder, waiter] of [[0, 1], [1, 0]] as const) {
      const a = post(workers[holder]!, "/v1/chat/completions?slowMs=600");
      await sleep(150);
      const b = post(workers[waiter]!, "/v1/chat/completions");
      const [ra, rb] = await Promise.all([a, b]);
      console.log(`[envoy] A on worker ${holder} done at ${ra.doneAt} ms; B on worker ${waiter}: ${rb.status} "${rb.flow}" done at ${rb.doneAt} ms`);
      expect(rb.status).toBe(200);
      const waited = Number(/^queued; band=standard; waited=(\d+)ms$/.exec(rb.flow ?? "")?.[1]);
      // The slot is shared: B waits for A on the other worker, then its own tick resumes it.
      expect(waited).toBeGreaterThanOrEqual(300);
      expect(rb.doneAt).toBeGreaterThanOrEqual(ra.doneAt - 50);
    }
  });

  it("hold mode: a request that waited is picked with its body (prefix affinity), not by load alone", async () => {
    const cfg = config({ maxWaitMs: 10000, tickMs: 5000 }) as { pools: Record<string, unknown>[] } & Record<string, unknown>;
    cfg.holdHeadersForBody = true;
    cfg.pools[0]!.profile = { scorers: [{ type: "prefix-cache-scorer", weight: 5 }, { type: "in-flight-scorer", weight: 1 }], picker: { type: "max-score-picker" } };
    stack = await startStack({ binary, config: cfg, servers: 2 });
    // One connection: every stream on one worker's VM (one queue, one prefix index).
    const s = http2.connect(stack.base);
    sessions.push(s);
    const prompt = (seed: string) => Array.from({ length: 40 }, (_, i) => `${seed} block ${i} `.padEnd(64, ".")).join("");
    const send = (path: string, text: string) => post(s, path, text);
    const serverOf = (body: string) => stack!.upstreams.findIndex((u) => u.requests.some((r) => r.body.toString("utf8") === body));
    // A (prompt P) holds one endpoint for 1.2 s; B (prompt Q) the other for 0.5 s: the pool is full.
    const a = send("/v1/chat/completions?slowMs=1200", prompt("conversation P"));
    await sleep(150);
    const b = send("/v1/chat/completions?slowMs=500", prompt("conversation Q"));
    await sleep(150);
    // C (P's follow-up) waits; its body reaches the plugin meanwhile. B's end frees the other
    // endpoint and resumes C from B's on_log: C goes where P went, by its prompt.
    const c = send("/v1/chat/completions", prompt("conversation P") + " and a follow-up");
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    console.log(`[envoy] hold mode: A on server ${serverOf(ra.body)}, B on ${serverOf(rb.body)}, C ${rc.status} "${rc.flow}" on ${serverOf(rc.body)}`);
    expect([ra.status, rb.status, rc.status]).toEqual([200, 200, 200]);
    expect(serverOf(rb.body)).not.toBe(serverOf(ra.body));
    expect(rc.flow).toMatch(/^queued; band=standard; waited=\d+ms$/);
    expect(serverOf(rc.body)).toBe(serverOf(ra.body));
  });

  it("tenants share the pool evenly across workers: a tenant on one worker gets as much as one on both", async () => {
    stack = await startStack({ binary, config: config({ maxWaitMs: 20000, tickMs: 20, maxInFlightPerEndpoint: 2, flowHeader: "x-tenant" }), servers: 1 });
    const [w0, w1] = await sessionPerWorker(stack, sessions);
    const send = (s: http2.ClientHttp2Session, tenant: string) => post(s, "/v1/chat/completions?slowMs=150", "hi", { "x-tenant": tenant }).then((a) => a.status);
    // Tenant b on both workers, tenant a only on worker 1; all backlogged behind two slots, which
    // worker 0's first requests take. A stream's end drains its own worker first, so without
    // fairness across workers worker 0 would keep refilling both slots with b while a waits.
    const all: Promise<number>[] = [];
    for (let i = 0; i < 10; i++) all.push(send(w0!, "b"));
    await sleep(50);
    for (let i = 0; i < 10; i++) all.push(send(w1!, "a"), send(w1!, "b"));
    expect((await Promise.all(all)).every((st) => st === 200)).toBe(true);
    const order = stack.upstreams[0]!.requests.filter((r) => r.path.startsWith("/v1/chat/completions?slowMs"))
      .sort((x, y) => x.seq - y.seq).map((r) => r.headers.find(([k]) => k === "x-tenant")?.[1]);
    console.log(`[envoy] fairness across workers, dispatch order: ${order.join("")}`);
    // a's first request goes at the first stream end after it arrived (worker 0 leaves the slot
    // to it), not after worker 0's ten b (what per-worker round-robin alone does: measured
    // "bbbbbbbbbbabab..."); from then on the two take turns.
    const firstA = order.indexOf("a");
    expect(firstA).toBeLessThanOrEqual(5);
    expect(order.slice(firstA, firstA + 16).filter((t) => t === "a").length).toBeGreaterThanOrEqual(7);
  });

  it("a request that waits maxWaitMs gets 429 with the reason; the stats say so", async () => {
    stack = await startStack({ binary, config: config({ maxWaitMs: 200, tickMs: 20 }), servers: 1 });
    const s = http2.connect(stack.base);
    sessions.push(s);
    const a = post(s, "/v1/chat/completions?slowMs=800");
    await sleep(100);
    const rb = await post(s, "/v1/chat/completions");
    expect(rb.status).toBe(429);
    expect(rb.flow).toMatch(/^expired; band=standard; waited=2\d\dms$/);
    expect((await a).status).toBe(200);
    const stats = await promValues(stack.envoy, "wayroute_flow_pool_");
    expect(stats.get("wayroute_flow_pool_expired_total")).toBe(1);
    expect(stats.get("wayroute_flow_pool_standard_queue_length")).toBe(0);
    // Only A reached the server.
    expect(stack.upstreams[0]!.requests.filter((r) => r.path.startsWith("/v1/")).length).toBe(1);
  });
});
