/**
 * Flow control through the real plugin.wasm in the Envoy-faithful harness: requests pause at
 * their headers while the pool is full and are resumed (proxy_continue_stream on the effective
 * stream) from another stream's end or from the root tick; ordering, expiry, disconnects, two
 * workers and one shared slot, reconfiguration, and the queue's cap. Streams are driven step by
 * step, so a request is "in flight" upstream until the test ends it.
 */
import Ajv2020 from "ajv/dist/2020.js";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ProxyWasmHost, type HttpStream } from "../../src/host/index.js";
import { repoRoot } from "../build/wasm-files.js";
import { chat, pluginModule } from "../picker/helpers.js";

const ADDR = "10.0.0.1:8000";
const H = "x-gateway-destination-endpoint";
const FLOW = "x-wayroute-flow";

const BANDS = [
  { name: "critical", minPriority: 1, maxPriority: 1000, expireStatus: 503 },
  { name: "standard", minPriority: 0, maxPriority: 0 },
  { name: "sheddable", minPriority: -1000, maxPriority: -1 },
];

function flowConfig(flow: Record<string, unknown> = {}, pool: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pools: [{
      name: "llm",
      endpoints: [{ address: ADDR }],
      steering: { maxEndpoints: 1 },
      priority: { objectives: { hi: 5, batch: -1 } },
      trustedCallers: [{ property: "request.path", prefix: "/" }],
      flowControl: {
        bands: BANDS,
        flowHeader: "x-tenant",
        maxWaitMs: 1000,
        dispatch: "in-flight-below",
        maxInFlightPerEndpoint: 1,
        tickMs: 10,
        ...flow,
      },
      ...pool,
    }],
  };
}

/** Requests by name, and the order in which they reached the upstream. */
class Clients {
  readonly streams = new Map<string, HttpStream>();
  readonly arrived: string[] = [];

  constructor(private readonly host: ProxyWasmHost) {}

  /** Sends request headers (no body) on a worker; returns the step result. */
  send(name: string, opts: { objective?: string; tenant?: string; worker?: number; bytes?: number } = {}): string {
    const headers: Record<string, string> = { ":method": "GET", ":path": "/v1/chat/completions", ":authority": "llm", ":scheme": "http", "x-name": name };
    if (opts.objective) headers["x-llm-d-inference-objective"] = opts.objective;
    if (opts.tenant) headers["x-tenant"] = opts.tenant;
    if (opts.bytes !== undefined) {
      headers[":method"] = "POST";
      headers["content-length"] = String(opts.bytes);
    }
    const s = this.host.worker(opts.worker ?? 0).newStream();
    this.streams.set(name, s);
    const r = s.requestHeaders(headers, opts.bytes === undefined);
    this.poll();
    return r;
  }

  /** Records streams whose request went upstream since the last look. */
  poll(): void {
    for (const [name, s] of this.streams) {
      if (s.forwardedRequest && !this.arrived.includes(name)) this.arrived.push(name);
    }
  }

  get(name: string): HttpStream {
    return this.streams.get(name)!;
  }

  /** The upstream answers `name` and the stream ends (on_log, on_done, on_delete). */
  end(name: string): void {
    const s = this.get(name);
    s.responseHeaders({ ":status": "200" }, true);
    s.finish();
    this.poll();
  }

  status(name: string): number {
    return this.get(name).result().response.status;
  }

  flowHeader(name: string): string | undefined {
    return this.get(name).result().response.headers.get(FLOW);
  }

  inFlight(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.forwardedRequest && s.result().response.status === 0 && !s.result().reset) n++;
    return n;
  }
}

async function flowHost(config: Record<string, unknown>, workers = 1): Promise<ProxyWasmHost> {
  const host = await ProxyWasmHost.create({ module: await pluginModule(), pluginConfig: config, workers, rootId: "wayroute" });
  expect(host.configured).toBe(true);
  return host;
}

function metric(host: ProxyWasmHost, name: string): number {
  return Number(host.metrics.get(name)?.value ?? 0);
}

function samples(host: ProxyWasmHost, name: string): number[] {
  return [...(host.metrics.get(name)?.samples ?? [])];
}

function dispatchedSlots(host: ProxyWasmHost): bigint {
  return Buffer.from(host.sharedData.get("", "wayroute.flow/wayroute/llm/dispatched")!.value).readBigInt64LE(0);
}

describe("flow control: ordering", () => {
  it("dispatches by priority, then round-robin across tenants, then FIFO, as capacity frees", async () => {
    const host = await flowHost(flowConfig());
    const c = new Clients(host);
    expect(c.send("A")).toBe("complete");
    expect(c.send("B", { objective: "batch", tenant: "t1" })).toBe("pause");
    expect(c.send("C", { tenant: "t1" })).toBe("pause");
    expect(c.send("D", { tenant: "t1" })).toBe("pause");
    expect(c.send("E", { tenant: "t2" })).toBe("pause");
    expect(c.send("F", { objective: "hi", tenant: "t1" })).toBe("pause");
    expect(c.arrived).toEqual(["A"]);
    expect(metric(host, "wayroute_flow_llm_standard_queue_length")).toBe(3);
    expect(metric(host, "wayroute_flow_llm_critical_queue_length")).toBe(1);
    expect(metric(host, "wayroute_flow_llm_sheddable_queue_length")).toBe(1);
    // Each end of stream frees the one slot: the next in order goes, resumed from that
    // stream's on_log (no tick in between).
    for (let i = 0; i < 6; i++) {
      await host.advance(5);
      c.end(c.arrived[i]);
      expect(c.inFlight()).toBeLessThanOrEqual(1);
    }
    expect(c.arrived).toEqual(["A", "F", "C", "E", "D", "B"]);
    for (const n of c.arrived) expect(c.status(n)).toBe(200);
    for (const n of c.arrived) expect(c.get(n).forwardedRequest?.headers.get(H)).toBe(ADDR);
    // The queued ones say how long they waited; A did not wait.
    expect(c.flowHeader("A")).toBeUndefined();
    expect(c.flowHeader("F")).toMatch(/^queued; band=critical; waited=[45]ms$/);
    expect(c.flowHeader("B")).toMatch(/^queued; band=sheddable; waited=2[45]ms$/);
    for (const band of ["critical", "standard", "sheddable"]) expect(metric(host, `wayroute_flow_llm_${band}_queue_length`)).toBe(0);
    const waits = samples(host, "wayroute_flow_llm_standard_wait_ms");
    expect(waits.length).toBe(3);
    [10, 15, 20].forEach((ms, i) => expect(Math.abs(waits[i] - ms)).toBeLessThanOrEqual(1));
    expect(metric(host, "wayroute_flow_llm_queued_total")).toBe(5);
    expect(metric(host, "wayroute_flow_llm_dispatched_after_wait_total")).toBe(5);
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });

  it("does not hold a request while the pool has room and nobody waits", async () => {
    const host = await flowHost(flowConfig({ maxInFlightPerEndpoint: 2 }));
    const c = new Clients(host);
    expect(c.send("A")).toBe("complete");
    expect(c.send("B")).toBe("complete");
    expect(c.send("C")).toBe("pause");
    c.end("A");
    expect(c.arrived).toEqual(["A", "B", "C"]);
    expect(c.flowHeader("A")).toBeUndefined();
    expect(metric(host, "wayroute_flow_llm_queued_total")).toBe(1);
  });

  it("requests whose priority no band holds are not flow-controlled", async () => {
    const host = await flowHost(flowConfig({ bands: [BANDS[1]] }));
    const c = new Clients(host);
    expect(c.send("A")).toBe("complete");
    expect(c.send("B", { objective: "batch" })).toBe("complete");
    expect(c.send("C")).toBe("pause");
  });
});

describe("flow control: a band's in-flight share (headroom for higher bands)", () => {
  it("sheddable requests fill only their share of the slots; standard ones take the rest, first, and sheddable goes when the pool drains below its share", async () => {
    const bands = [BANDS[0], BANDS[1], { ...BANDS[2], maxInFlightShare: 0.5 }];
    const host = await flowHost(flowConfig({ bands, maxInFlightPerEndpoint: 4 }));
    const c = new Clients(host);
    // Pool limit 4, sheddable 2 (half): the third sheddable waits although two slots are free.
    expect(c.send("B1", { objective: "batch" })).toBe("complete");
    expect(c.send("B2", { objective: "batch" })).toBe("complete");
    expect(c.send("B3", { objective: "batch" })).toBe("pause");
    expect(c.send("S1")).toBe("complete");
    expect(c.send("S2")).toBe("complete");
    expect(c.send("S3")).toBe("pause");
    expect(dispatchedSlots(host)).toBe(4n);
    // A freed slot goes to the standard request; then the pool (3 in flight) is above B3's share.
    c.end("B1");
    expect(c.arrived).toEqual(["B1", "B2", "S1", "S2", "S3"]);
    c.end("S1");
    await host.advance(20);
    c.poll();
    expect(c.arrived).not.toContain("B3");
    c.end("B2");
    c.poll();
    expect(c.arrived).not.toContain("B3");
    // S3 alone in flight, below half of the limit: B3 is dispatched by S2's end (its on_log).
    c.end("S2");
    expect(c.arrived).toEqual(["B1", "B2", "S1", "S2", "S3", "B3"]);
    expect(dispatchedSlots(host)).toBe(2n);
    c.end("S3");
    c.end("B3");
    expect(c.flowHeader("B3")).toMatch(/^queued; band=sheddable; waited=\d+ms$/);
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });

  it("the share counts the pool's requests on every worker (the shared slot counter)", async () => {
    const bands = [BANDS[1], { ...BANDS[2], maxInFlightShare: 0.5 }];
    const host = await flowHost(flowConfig({ bands, maxInFlightPerEndpoint: 4 }), 2);
    const c = new Clients(host);
    expect(c.send("S1", { worker: 0 })).toBe("complete");
    expect(c.send("B1", { objective: "batch", worker: 0 })).toBe("complete");
    // Two in flight on worker 0: worker 1's sheddable request waits, its standard one goes.
    expect(c.send("B2", { objective: "batch", worker: 1 })).toBe("pause");
    expect(c.send("S2", { worker: 1 })).toBe("complete");
    c.end("S1");
    c.end("B1");
    // Worker 0's stream ends leave one in flight (S2): worker 1's tick dispatches B2.
    await host.advance(20);
    c.poll();
    expect(c.arrived).toEqual(["S1", "B1", "S2", "B2"]);
    c.end("S2");
    c.end("B2");
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });

  it("a share of 1 (the default) lets a lower band fill the pool", async () => {
    const host = await flowHost(flowConfig({ maxInFlightPerEndpoint: 4 }));
    const c = new Clients(host);
    for (const n of ["B1", "B2", "B3", "B4"]) expect(c.send(n, { objective: "batch" })).toBe("complete");
    expect(c.send("S1")).toBe("pause");
  });
});

describe("flow control: expiry, disconnects, caps", () => {
  it("a request that waits maxWaitMs gets 429 (503 in a band that must not be retried) with the reason, from the tick", async () => {
    const host = await flowHost(flowConfig({ maxWaitMs: 100 }));
    const c = new Clients(host);
    c.send("A");
    expect(c.send("B")).toBe("pause");
    expect(c.send("C", { objective: "hi" })).toBe("pause");
    await host.advance(90);
    expect(c.get("B").paused("request")).toBe(true);
    await host.advance(20);
    expect(c.status("B")).toBe(429);
    expect(c.flowHeader("B")).toMatch(/^expired; band=standard; waited=1[01]0ms$/);
    expect(c.status("C")).toBe(503);
    expect(c.flowHeader("C")).toMatch(/^expired; band=critical; waited=1[01]0ms$/);
    expect(c.get("B").forwardedRequest).toBeUndefined();
    expect(metric(host, "wayroute_flow_llm_expired_total")).toBe(2);
    expect(metric(host, "wayroute_flow_llm_standard_queue_length")).toBe(0);
    expect(samples(host, "wayroute_flow_llm_standard_wait_ms")[0]).toBeGreaterThanOrEqual(100);
    c.end("A");
    expect(c.arrived).toEqual(["A"]);
    expect(dispatchedSlots(host)).toBe(0n);
  });

  it("a client that leaves while waiting frees its place; the next one is served", async () => {
    const host = await flowHost(flowConfig());
    const c = new Clients(host);
    c.send("A");
    expect(c.send("B")).toBe("pause");
    expect(c.send("C")).toBe("pause");
    expect(metric(host, "wayroute_flow_llm_standard_queue_length")).toBe(2);
    c.get("B").reset("downstream_remote_disconnect"); // Envoy: on_log, on_done, on_delete
    expect(metric(host, "wayroute_flow_llm_standard_queue_length")).toBe(1);
    expect(metric(host, "wayroute_flow_llm_abandoned_total")).toBe(1);
    c.end("A");
    expect(c.arrived).toEqual(["A", "C"]);
    c.end("C");
    expect(c.get("B").forwardedRequest).toBeUndefined();
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });

  it("never pauses more streams than a band's cap: the next gets 429 at once (requests and bytes)", async () => {
    const host = await flowHost(flowConfig({ bands: [{ name: "standard", minPriority: 0, maxPriority: 0, maxRequests: 3, maxBytes: 1000 }] }));
    const c = new Clients(host);
    c.send("A");
    const names = Array.from({ length: 10 }, (_, i) => `Q${i}`);
    for (const n of names) c.send(n);
    expect(names.filter((n) => c.get(n).paused("request")).length).toBe(3);
    const refused = names.filter((n) => c.status(n) === 429);
    expect(refused.length).toBe(7);
    expect(c.flowHeader(refused[0])).toBe("full; band=standard; maxRequests=3");
    expect(metric(host, "wayroute_flow_llm_rejected_full_total")).toBe(7);
    for (const n of names) c.get(n).reset("downstream_remote_disconnect");
    // Bytes: 600 + 400 fit, 1 more does not.
    expect(c.send("big", { bytes: 600 })).toBe("pause");
    expect(c.send("fits", { bytes: 400 })).toBe("pause");
    c.send("over", { bytes: 1 });
    expect(c.status("over")).toBe(429);
    expect(c.flowHeader("over")).toBe("full; band=standard; maxBytes=1000");
    // While it waits, the body is held by Envoy (StopAllIterationAndWatermark): no body callback.
    c.get("big").requestBody("x".repeat(600), true);
    expect(c.get("big").paused("request")).toBe(true);
    c.end("A");
    expect(c.arrived).toEqual(["A", "big"]);
    expect(c.get("big").forwardedRequest?.bodyText).toBe("x".repeat(600));
  });
});

describe("flow control: hold mode (holdHeadersForBody, allow_on_headers_stop_iteration)", () => {
  it("a waiting request's body reaches the plugin and is kept until the stream is dispatched", async () => {
    const host = await ProxyWasmHost.create({
      module: await pluginModule(), rootId: "wayroute", allowOnHeadersStopIteration: true,
      pluginConfig: { ...flowConfig(), holdHeadersForBody: true },
    });
    expect(host.configured).toBe(true);
    const c = new Clients(host);
    c.send("A");
    expect(c.arrived).toEqual(["A"]);
    // Kept StopIteration: the headers wait, the body still reaches the plugin, which buffers it.
    c.send("B", { bytes: 5 });
    expect(c.get("B").forwardedRequest).toBeUndefined();
    expect(c.get("B").requestBody("hello", true)).toBe("pause");
    expect(c.get("B").forwardedRequest).toBeUndefined();
    c.end("A");
    expect(c.arrived).toEqual(["A", "B"]);
    expect(c.get("B").forwardedRequest?.bodyText).toBe("hello");
    expect(c.get("B").forwardedRequest?.headers.get(H)).toBe(ADDR);
    c.end("B");
    expect(c.flowHeader("B")).toMatch(/^queued; band=standard; waited=\d+ms$/);
    expect(host.traps).toEqual([]);
  });
});

describe("flow control: hold mode picks a waiting request with its body", () => {
  const A = "10.0.0.1:8000";
  const B = "10.0.0.2:8000";
  /** Prefix affinity outweighs load: a prompt seen before goes back where it went. */
  function holdPrefixConfig(): Record<string, unknown> {
    const cfg = flowConfig({ maxInFlightPerEndpoint: 1 }, {
      endpoints: [{ address: A }, { address: B }],
      profile: { scorers: [{ type: "prefix-cache-scorer", weight: 5 }, { type: "in-flight-scorer", weight: 1 }], picker: { type: "max-score-picker" } },
    });
    return { ...cfg, holdHeadersForBody: true };
  }
  function prompt(seed: string): string {
    let s = "";
    for (let i = 0; i < 40; i++) s += `${seed} block ${i} `.padEnd(64, ".");
    return s;
  }
  /** Sends a chat request (headers, then its whole body) on worker 0; returns the body step's result. */
  function sendChat(c: Clients, host: ProxyWasmHost, name: string, text: string, chunks = 1): string {
    const body = new TextEncoder().encode(chat(text));
    const s = host.worker(0).newStream();
    c.streams.set(name, s);
    s.requestHeaders({ ":method": "POST", ":path": "/v1/chat/completions", ":authority": "llm", ":scheme": "http", "content-type": "application/json", "content-length": String(body.length) }, false);
    let r = "";
    const step = Math.ceil(body.length / chunks);
    for (let i = 0; i < chunks; i++) r = s.requestBody(body.slice(i * step, (i + 1) * step), i === chunks - 1);
    c.poll();
    return r;
  }
  const target = (c: Clients, n: string) => c.get(n).forwardedRequest?.headers.get(H);

  it("prefix affinity applies to a request resumed after it waited (its whole body buffered meanwhile)", async () => {
    const host = await ProxyWasmHost.create({ module: await pluginModule(), rootId: "wayroute", allowOnHeadersStopIteration: true, pluginConfig: holdPrefixConfig() });
    expect(host.configured).toBe(true);
    const c = new Clients(host);
    sendChat(c, host, "first", prompt("conversation P"));
    const home = target(c, "first")!;
    const other = home === A ? B : A;
    sendChat(c, host, "filler", prompt("conversation Q"));
    expect(target(c, "filler")).toBe(other); // in-flight breaks the tie between two unknown prompts
    // The pool is full (one per endpoint): the follow-up of P and a new prompt R wait, bodies in.
    expect(sendChat(c, host, "followUp", prompt("conversation P") + " and a follow-up")).toBe("pause");
    expect(sendChat(c, host, "fresh", prompt("conversation R"), 3)).toBe("pause");
    expect(c.arrived).toEqual(["first", "filler"]);
    // The filler ends: its endpoint is the idle one, yet the follow-up goes home, by its prompt.
    c.end("filler");
    expect(c.arrived).toEqual(["first", "filler", "followUp"]);
    expect(target(c, "followUp")).toBe(home);
    expect(c.get("followUp").forwardedRequest?.bodyText).toBe(chat(prompt("conversation P") + " and a follow-up"));
    // A prompt nobody has seen goes by load: the endpoint the follow-up did not take.
    c.end("first");
    expect(target(c, "fresh")).toBe(other);
    expect(c.get("fresh").forwardedRequest?.bodyText).toBe(chat(prompt("conversation R")));
    // One pick per request: none at the headers of the two that waited.
    expect(metric(host, "wayroute_picker_llm_picks_total")).toBe(4);
    for (const n of ["followUp", "fresh"]) c.end(n);
    expect(c.flowHeader("followUp")).toMatch(/^queued; band=standard; waited=\d+ms$/);
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });

  it("with bodyRouting reading the body too: the waiting request is still picked with its prompt", async () => {
    const host = await ProxyWasmHost.create({ module: await pluginModule(), rootId: "wayroute", allowOnHeadersStopIteration: true, pluginConfig: { ...holdPrefixConfig(), bodyRouting: {} } });
    expect(host.configured).toBe(true);
    const c = new Clients(host);
    sendChat(c, host, "first", prompt("conversation P"));
    const home = target(c, "first")!;
    sendChat(c, host, "filler", prompt("conversation Q"));
    expect(target(c, "filler")).not.toBe(home);
    sendChat(c, host, "followUp", prompt("conversation P") + " once more", 2);
    expect(c.arrived).toEqual(["first", "filler"]);
    c.end("filler");
    expect(target(c, "followUp")).toBe(home);
    expect(c.get("followUp").forwardedRequest?.bodyText).toBe(chat(prompt("conversation P") + " once more"));
    for (const n of ["first", "followUp"]) c.end(n);
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });

  it("a request resumed before its body is complete is picked when the body ends, with it", async () => {
    const host = await ProxyWasmHost.create({ module: await pluginModule(), rootId: "wayroute", allowOnHeadersStopIteration: true, pluginConfig: holdPrefixConfig() });
    const c = new Clients(host);
    sendChat(c, host, "first", prompt("conversation P"));
    const home = target(c, "first")!;
    sendChat(c, host, "filler", prompt("conversation Q"));
    const body = new TextEncoder().encode(chat(prompt("conversation P") + " again"));
    const s = host.worker(0).newStream();
    c.streams.set("late", s);
    s.requestHeaders({ ":method": "POST", ":path": "/v1/chat/completions", ":authority": "llm", ":scheme": "http", "content-type": "application/json" }, false);
    s.requestBody(body.slice(0, 100), false);
    expect(metric(host, "wayroute_flow_llm_standard_queue_length")).toBe(1);
    // Its turn comes with half a body: it is not sent on yet...
    c.end("filler");
    expect(s.forwardedRequest).toBeUndefined();
    expect(s.currentRequestHeaders.get(H)).toBeUndefined();
    // ...the rest arrives: picked with the whole prompt, then sent.
    s.requestBody(body.slice(100), true);
    c.poll();
    expect(target(c, "late")).toBe(home);
    expect(s.forwardedRequest?.bodyText).toBe(new TextDecoder().decode(body));
    c.end("first");
    c.end("late");
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });
});

describe("flow control: workers and reconfiguration", () => {
  it("two workers competing for the last slot: the pool is never over-dispatched; the other is resumed on its tick", async () => {
    const host = await flowHost(flowConfig(), 2);
    const c = new Clients(host);
    c.send("A", { worker: 0 });
    expect(c.send("B", { worker: 0 })).toBe("pause");
    expect(c.send("C", { worker: 1 })).toBe("pause");
    // Both workers tick while the slot is taken: nobody goes.
    await host.advance(30);
    expect(c.arrived).toEqual(["A"]);
    // A ends on worker 0: its on_log resumes B on worker 0, which takes the slot first.
    c.end("A");
    expect(c.arrived).toEqual(["A", "B"]);
    await host.advance(30);
    c.poll();
    expect(c.arrived).toEqual(["A", "B"]);
    // B ends: worker 0 has nobody waiting; worker 1 resumes C from its root tick.
    c.end("B");
    expect(c.arrived).toEqual(["A", "B"]);
    await host.advance(10);
    c.poll();
    expect(c.arrived).toEqual(["A", "B", "C"]);
    expect(c.get("C").worker).toBe(1);
    c.end("C");
    expect(c.flowHeader("C")).toMatch(/^queued; band=standard; waited=\d+ms$/);
    expect(dispatchedSlots(host)).toBe(0n);
    expect(host.traps).toEqual([]);
  });

  it("a tenant that reaches one worker gets the same share as one on both (fairness across workers through shared data)", async () => {
    const host = await flowHost(flowConfig({ maxInFlightPerEndpoint: 4, maxWaitMs: 100_000, bands: [{ name: "standard", minPriority: 0, maxPriority: 0, maxRequests: 500 }] }), 2);
    const c = new Clients(host);
    // Tenant a on worker 0 only (one HTTP/2 connection stays on one worker), b on both: all
    // backlogged. Per-worker round-robin alone would give a a quarter of the slots (1/3 of b's).
    for (let i = 0; i < 60; i++) {
      c.send(`a${i}`, { tenant: "a", worker: 0 });
      c.send(`b${i}`, { tenant: "b", worker: 1 });
      c.send(`B${i}`, { tenant: "b", worker: 0 });
    }
    const served = { a: 0, b: 0 };
    for (let round = 0; round < 100; round++) {
      const open = c.arrived.filter((n) => c.status(n) === 0);
      if (open.length) {
        c.end(open[0]!);
        served[open[0]!.startsWith("a") ? "a" : "b"]++;
      }
      await host.advance(5);
      c.poll();
      expect(c.inFlight()).toBeLessThanOrEqual(4);
    }
    expect(served.a + served.b).toBe(100);
    expect(Math.min(served.a, served.b) / Math.max(served.a, served.b)).toBeGreaterThanOrEqual(0.8);
    expect(host.traps).toEqual([]);
  });

  it("many streams on two workers never take more slots than there are", async () => {
    const host = await flowHost(flowConfig({ maxInFlightPerEndpoint: 2, bands: [{ name: "standard", minPriority: 0, maxPriority: 0, maxRequests: 100 }] }), 2);
    const c = new Clients(host);
    for (let i = 0; i < 20; i++) c.send(`R${i}`, { worker: i % 2, tenant: `t${i % 3}` });
    expect(c.arrived.length).toBe(2);
    for (let round = 0; round < 60 && c.arrived.length < 20; round++) {
      const open = c.arrived.filter((n) => c.status(n) === 0);
      if (open.length > 0 && round % 2 == 0) c.end(open[0]);
      await host.advance(5);
      c.poll();
      expect(c.inFlight()).toBeLessThanOrEqual(2);
    }
    expect(c.arrived.length).toBe(20);
    for (const n of c.arrived) if (c.status(n) === 0) c.end(n);
    expect(c.arrived.every((n) => c.status(n) === 200)).toBe(true);
    expect(dispatchedSlots(host)).toBe(0n);
  });

  it("reconfiguration while requests wait: every waiting request is served or expires, none is lost", async () => {
    const host = await flowHost(flowConfig({ maxWaitMs: 200 }));
    const c = new Clients(host);
    c.send("A");
    expect(c.send("B")).toBe("pause");
    expect(c.send("C")).toBe("pause");
    // Envoy calls proxy_on_configure again on the same root context: a new config without
    // pools, while B and C wait on the old one.
    const vm = host.worker(0).vm as unknown as { call(name: string, ...args: number[]): unknown; rootContextId: number; configuring: boolean };
    const next = JSON.stringify({ logLevel: "info" });
    (host as unknown as { core: { options: { pluginConfig: Uint8Array } } }).core.options.pluginConfig = new TextEncoder().encode(next);
    vm.configuring = true;
    expect(vm.call("proxy_on_configure", vm.rootContextId, vm.rootContextId, Buffer.byteLength(next))).toBe(1);
    vm.configuring = false;
    // A's end (a stream of the old config) resumes B.
    c.end("A");
    expect(c.arrived).toEqual(["A", "B"]);
    // C waits on the old stage; the root tick still drains it: it expires.
    await host.advance(250);
    expect(c.status("C")).toBe(429);
    expect(c.flowHeader("C")).toMatch(/^expired; band=standard/);
    c.end("B");
    // New requests follow the new config: no flow control.
    expect(c.send("D")).toBe("complete");
    expect(c.send("E")).toBe("complete");
  });

  it("reconfiguration that raises the limit: the waiting are served by the tick", async () => {
    const host = await flowHost(flowConfig());
    const c = new Clients(host);
    c.send("A");
    expect(c.send("B")).toBe("pause");
    const next = JSON.stringify(flowConfig({ maxInFlightPerEndpoint: 3 }));
    (host as unknown as { core: { options: { pluginConfig: Uint8Array } } }).core.options.pluginConfig = new TextEncoder().encode(next);
    const vm = host.worker(0).vm as unknown as { call(name: string, ...args: number[]): unknown; rootContextId: number; configuring: boolean };
    vm.configuring = true;
    expect(vm.call("proxy_on_configure", vm.rootContextId, vm.rootContextId, Buffer.byteLength(next))).toBe(1);
    vm.configuring = false;
    // The old config's waiting stream is judged by the pool's new limit on the next tick.
    await host.advance(10);
    c.poll();
    expect(c.arrived).toEqual(["A", "B"]);
    // The new stage counts in the same shared slots: C goes at once (3 slots), D waits.
    expect(c.send("C")).toBe("complete");
    expect(c.send("D")).toBe("pause");
    c.end("A");
    expect(c.arrived).toEqual(["A", "B", "C", "D"]);
    for (const n of ["B", "C", "D"]) c.end(n);
    expect(dispatchedSlots(host)).toBe(0n);
  });
});

describe("flow control: the saturation detector as dispatch rule", () => {
  it("queues while the pool is saturated and dispatches when a scrape shows room; shedSheddable still sheds at once", async () => {
    let waiting = 10;
    const host = await ProxyWasmHost.create({
      module: await pluginModule(),
      rootId: "wayroute",
      clusters: {
        pool: () => ({ status: 200, body: `vllm:num_requests_waiting{model_name="m"} ${waiting}.0\nvllm:kv_cache_usage_perc{model_name="m"} 0.1\n` }),
      },
      pluginConfig: flowConfig(
        { dispatch: "not-saturated", maxInFlightPerEndpoint: undefined, shedSheddable: true, maxWaitMs: 5000 },
        { scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 }, saturation: { metricsStalenessMs: 5000 } },
      ),
    });
    expect(host.configured).toBe(true);
    const c = new Clients(host);
    await host.advance(60);
    await host.advance(60);
    expect(c.send("B")).toBe("pause");
    expect(c.send("S", { objective: "batch" })).toBe("local-reply");
    expect(c.status("S")).toBe(429);
    waiting = 0;
    await host.advance(60);
    await host.advance(60);
    c.poll();
    expect(c.arrived).toEqual(["B"]);
    c.end("B");
    expect(c.flowHeader("B")).toMatch(/^queued; band=standard; waited=\d+ms$/);
  });
});

describe("flow control config", () => {
  it("the example is schema-valid and loads; the schema accepts the flowControl the tests use", async () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(path.join(repoRoot, "schemas/pools.schema.json"), "utf8")));
    const example = JSON.parse(readFileSync(path.join(repoRoot, "examples/configs/flow-control.json"), "utf8"));
    expect(validate(example.pools), JSON.stringify(validate.errors)).toBe(true);
    const host = await ProxyWasmHost.create({ module: await pluginModule(), pluginConfig: example });
    expect(host.configured).toBe(true);
    expect(validate((flowConfig() as { pools: unknown[] }).pools), JSON.stringify(validate.errors)).toBe(true);
    // What the schema can say is refused too (overlap and the tick bound are plugin-only).
    expect(validate((flowConfig({ maxWaitMs: 0 }) as { pools: unknown[] }).pools)).toBe(false);
    expect(validate((flowConfig({ bands: [{ name: "a", maxRequests: 0 }] }) as { pools: unknown[] }).pools)).toBe(false);
    expect(validate((flowConfig({ bands: [{ name: "a", maxInFlightShare: 0 }] }) as { pools: unknown[] }).pools)).toBe(false);
    expect(validate((flowConfig({ bands: [{ name: "a", maxInFlightShare: 1.2 }] }) as { pools: unknown[] }).pools)).toBe(false);
    expect(validate((flowConfig({ bands: [{ name: "a", maxInFlightShare: 0.5 }] }) as { pools: unknown[] }).pools)).toBe(true);
  });

  it("impossible configs are refused with the field named", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ maxWaitMs: 0 }, /\$\.pools\[0\]\.flowControl\.maxWaitMs: must be > 0/],
      [{ bands: [{ name: "a", minPriority: 0, maxPriority: 5 }, { name: "b", minPriority: 3, maxPriority: 9 }] }, /\$\.pools\[0\]\.flowControl\.bands\[1\]: priorities 3\.\.9 overlap band "a"/],
      [{ bands: [{ name: "a", maxRequests: 0 }] }, /\$\.pools\[0\]\.flowControl\.bands\[0\]\.maxRequests: must be between 1/],
      [{ bands: [{ name: "a", maxBytes: -1 }] }, /\$\.pools\[0\]\.flowControl\.bands\[0\]\.maxBytes: must be between 1/],
      [{ bands: [{ name: "a", maxInFlightShare: 0 }] }, /\$\.pools\[0\]\.flowControl\.bands\[0\]\.maxInFlightShare: must be > 0/],
      [{ bands: [{ name: "a", maxInFlightShare: 0.5 }], dispatch: "not-saturated", maxInFlightPerEndpoint: undefined }, /\$\.pools\[0\]\.flowControl\.maxInFlightPerEndpoint: required by band "a"'s maxInFlightShare/],
      // The default tick (20 ms) longer than the wait: refused naming tickMs (it used to trap the VM).
      [{ maxWaitMs: 10, tickMs: undefined }, /\$\.pools\[0\]\.flowControl\.tickMs: must be <= maxWaitMs \(10\): expiry is checked on the tick/],
    ];
    for (const [flow, error] of cases) {
      const host = await ProxyWasmHost.create({ module: await pluginModule(), pluginConfig: flowConfig(flow) });
      expect(host.configured).toBe(false);
      expect(host.logEntries().find((e) => e.message.startsWith("plugin configuration refused"))?.message).toMatch(error);
    }
  });
});

describe("flow control: random traffic (property)", () => {
  it("whatever the mix of arrivals, ends, disconnects and time: caps and slots hold, nothing traps, every stream ends answered", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("send" as const), worker: fc.integer({ min: 0, max: 1 }), objective: fc.constantFrom(undefined, "hi", "batch"), tenant: fc.constantFrom("t1", "t2", "t3"), bytes: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }) }),
      fc.record({ kind: fc.constant("end" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("leave" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("time" as const), ms: fc.integer({ min: 1, max: 80 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const cap = 3;
        const host = await flowHost(flowConfig({
          maxWaitMs: 150, maxInFlightPerEndpoint: 2, tickMs: 10,
          bands: BANDS.map((b) => ({ ...b, maxRequests: cap, maxBytes: 800 })),
        }), 2);
        const c = new Clients(host);
        let n = 0;
        const open = () => [...c.streams.entries()].filter(([, s]) => s.forwardedRequest && s.result().response.status === 0 && !s.result().reset).map(([k]) => k);
        const waiting = () => [...c.streams.entries()].filter(([, s]) => s.paused("request") && s.result().response.status === 0 && !s.result().reset).map(([k]) => k);
        for (const o of ops) {
          if (o.kind === "send") {
            const opts: { objective?: string; tenant?: string; worker?: number; bytes?: number } = { worker: o.worker, tenant: o.tenant };
            if (o.objective) opts.objective = o.objective;
            if (o.bytes !== undefined) opts.bytes = o.bytes;
            const name = `S${n++}`;
            c.send(name, opts);
            // The client sends its announced body at once (Envoy holds it while the stream waits).
            if (o.bytes !== undefined) c.get(name).requestBody("x".repeat(o.bytes), true);
            c.poll();
          } else if (o.kind === "end") {
            const list = open();
            if (list.length) c.end(list[o.pick % list.length]!);
          } else if (o.kind === "leave") {
            const list = waiting();
            if (list.length) c.get(list[o.pick % list.length]!).reset("downstream_remote_disconnect");
          } else {
            await host.advance(o.ms);
            c.poll();
          }
          // The shared slots bound what is upstream; each worker's bands stay within their cap.
          expect(c.inFlight()).toBeLessThanOrEqual(2);
          for (const w of [0, 1]) {
            expect(waiting().filter((k) => c.get(k).worker === w).length).toBeLessThanOrEqual(cap * BANDS.length);
          }
          for (const band of ["critical", "standard", "sheddable"]) {
            expect(metric(host, `wayroute_flow_llm_${band}_queue_length`)).toBeLessThanOrEqual(cap * 2);
          }
        }
        // Drain: end whatever is upstream, let time pass beyond the wait limit, repeat.
        for (let round = 0; round < 20 && (open().length || waiting().length); round++) {
          for (const k of open()) c.end(k);
          await host.advance(20);
          c.poll();
        }
        expect(waiting()).toEqual([]);
        expect(open()).toEqual([]);
        // Every stream ended served (200), refused or expired (429/503), or by the client leaving.
        for (const [k, s] of c.streams) {
          const r = s.result();
          expect(r.reset !== undefined || [200, 429, 503].includes(r.response.status), `${k}: ${r.response.status}`).toBe(true);
        }
        expect(dispatchedSlots(host)).toBe(0n);
        for (const band of ["critical", "standard", "sheddable"]) expect(metric(host, `wayroute_flow_llm_${band}_queue_length`)).toBe(0);
        // The shared fairness tables are back to zero too: nothing waiting, nothing in flight.
        for (const band of ["critical", "standard", "sheddable"]) {
          const t = host.sharedData.get("", `wayroute.flow/wayroute/llm/fair/${band}`)!.value;
          expect(Buffer.from(t).every((b) => b === 0), band).toBe(true);
        }
        expect(host.traps).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
