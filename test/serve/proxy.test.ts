import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProxyServer, PassThroughFilter, type FilterFactory, type HeaderPairs, type StreamFilter, type Verdict } from "../../src/serve/index.js";
import { closedPort, rawExchange, send, startUpstream, type Upstream } from "./helpers.js";

let a: Upstream;
let b: Upstream;
let proxies: ProxyServer[] = [];

beforeAll(async () => {
  a = await startUpstream("a");
  b = await startUpstream("b");
});
afterAll(async () => {
  await a.close();
  await b.close();
});
afterEach(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  proxies = [];
});

async function proxy(config: Partial<ConstructorParameters<typeof ProxyServer>[0]> = {}, filters?: FilterFactory): Promise<ProxyServer> {
  const p = new ProxyServer({ workers: 2, defaultCluster: { name: "default", endpoints: [a.address, b.address], lb: "round-robin" }, ...config }, filters);
  await p.start();
  proxies.push(p);
  return p;
}

/** A proxy whose default cluster also lists `extra` (a client's steering header may name only configured upstreams). */
function proxyWith(...extra: string[]): Promise<ProxyServer> {
  return proxy({ defaultCluster: { name: "default", endpoints: [a.address, b.address, ...extra], lb: "round-robin" } });
}

/** A filter factory whose streams are built by `make` (a stand-in for a plugin). */
function filters(make: () => StreamFilter): FilterFactory {
  return { workers: [{ createStream: make }, { createStream: make }], close: async () => undefined };
}

describe("serve: steering", () => {
  it("forwards to the endpoint named by x-gateway-destination-endpoint", async () => {
    const p = await proxy();
    for (const target of [b, a, b]) {
      const r = await send(p.address, { headers: { "x-gateway-destination-endpoint": target.address }, body: "{}" });
      expect(r.status).toBe(200);
      expect(r.headers["x-upstream"]).toBe(target.name);
    }
    expect(p.stats.steering.endpoint).toBe(3);
  });

  it("falls back to the next listed endpoint when the first refuses the connection", async () => {
    const dead = await closedPort();
    const p = await proxyWith(dead);
    const before = b.seen.length;
    const r = await send(p.address, { headers: { "x-gateway-destination-endpoint": `${dead},${b.address}` }, body: '{"x":1}' });
    expect(r.status).toBe(200);
    expect(r.headers["x-upstream"]).toBe("b");
    expect(b.seen.length).toBe(before + 1);
    expect(b.seen.at(-1)!.body).toBe('{"x":1}'); // the body was replayed to the fallback
    expect(p.stats.fallbacks).toBe(1);
  });

  it("answers 503 when every listed endpoint refuses, and 503 for a malformed endpoint list", async () => {
    const dead = await closedPort();
    const p = await proxyWith(dead);
    const r = await send(p.address, { headers: { "x-gateway-destination-endpoint": dead }, body: "{}" });
    expect(r.status).toBe(503);
    expect(r.body).toContain("connection failure");
    const bad = await send(p.address, { headers: { "x-gateway-destination-endpoint": "not-an-address" }, body: "{}" });
    expect(bad.status).toBe(503);
    expect(bad.body).toContain("not ip:port");
  });

  it("route mode: a header names a backend from the config", async () => {
    const p = await proxy({ routes: { header: "x-wayroute-backend", backends: { first: [a.address], second: [b.address] } } });
    expect((await send(p.address, { headers: { "x-wayroute-backend": "second" }, body: "{}" })).headers["x-upstream"]).toBe("b");
    expect((await send(p.address, { headers: { "x-wayroute-backend": "first" }, body: "{}" })).headers["x-upstream"]).toBe("a");
    expect((await send(p.address, { headers: { "x-wayroute-backend": "third" }, body: "{}" })).status).toBe(503);
    expect(p.stats.steering.route).toBe(2);
  });

  it("without a steering header, round-robins over the default cluster", async () => {
    const p = await proxy();
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push(String((await send(p.address, { body: "{}" })).headers["x-upstream"]));
    expect(names).toEqual(["a", "b", "a", "b"]);
    expect(p.stats.steering.default).toBe(4);
  });

  it("steers by headers the filter sets (as a plugin would)", async () => {
    class Steer extends PassThroughFilter {
      override async requestHeaders(headers: HeaderPairs): Promise<Verdict> {
        return { kind: "continue", headers: [...headers, ["x-gateway-destination-endpoint", b.address]] };
      }
    }
    const p = await proxy({}, filters(() => new Steer()));
    for (let i = 0; i < 3; i++) expect((await send(p.address, { body: "{}" })).headers["x-upstream"]).toBe("b");
  });
});

describe("serve: streaming", () => {
  it("streams SSE responses chunk by chunk (the client sees event 1 before the upstream sends event 2)", async () => {
    let sendSecond: (() => void) | undefined;
    const sse = await startUpstream("sse", (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"n":1}\n\n');
      sendSecond = () => res.end('data: {"n":2}\n\ndata: [DONE]\n\n');
    });
    try {
      const p = await proxyWith(sse.address);
      const r = await send(p.address, {
        headers: { "x-gateway-destination-endpoint": sse.address },
        body: '{"stream":true}',
        onChunk: (_c, reply) => {
          // Only once the first event reached the client does the upstream send the rest.
          if (reply.body.includes('{"n":1}') && !reply.body.includes('{"n":2}')) sendSecond?.();
        },
      });
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toBe("text/event-stream");
      expect(r.body).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
      expect(r.chunks.length).toBeGreaterThanOrEqual(2);
    } finally {
      await sse.close();
    }
  });

  it("streams a chunked request body to the upstream", async () => {
    const p = await proxy();
    const big = "x".repeat(200_000);
    const r = await send(p.address, { headers: { "x-gateway-destination-endpoint": a.address, "content-type": "text/plain" }, body: big });
    expect(r.status).toBe(200);
    expect(a.seen.at(-1)!.body.length).toBe(200_000);
  });
});

describe("serve: plugin decisions", () => {
  it("sends the filter's local reply without calling an upstream", async () => {
    class Deny extends PassThroughFilter {
      override async requestHeaders(): Promise<Verdict> {
        return { kind: "local", status: 429, headers: [["x-reason", "shed"]], body: new TextEncoder().encode("too many requests") };
      }
    }
    const p = await proxy({}, filters(() => new Deny()));
    const before = a.seen.length + b.seen.length;
    const r = await send(p.address, { body: "{}" });
    expect(r.status).toBe(429);
    expect(r.headers["x-reason"]).toBe("shed");
    expect(r.body).toBe("too many requests");
    expect(a.seen.length + b.seen.length).toBe(before);
    expect(p.stats.localReplies).toBe(1);
  });

  it("passes response-path changes: headers added and body rewritten", async () => {
    class Rewrite extends PassThroughFilter {
      private held: Uint8Array[] = [];
      override async responseHeaders(headers: HeaderPairs): Promise<Verdict> {
        return { kind: "continue", headers: [...headers.filter(([k]) => k !== "content-length"), ["x-served-by", "filter"]] };
      }
      override async responseData(chunk: Uint8Array, eos: boolean): Promise<Verdict> {
        this.held.push(chunk);
        if (!eos) return { kind: "wait" };
        const text = Buffer.concat(this.held).toString("utf8").toUpperCase();
        return { kind: "continue", data: new TextEncoder().encode(text) };
      }
    }
    const p = await proxy({}, filters(() => new Rewrite()));
    const r = await send(p.address, { headers: { "x-gateway-destination-endpoint": a.address }, body: "hello" });
    expect(r.status).toBe(200);
    expect(r.headers["x-served-by"]).toBe("filter");
    expect(JSON.parse(r.body.toLowerCase())).toMatchObject({ upstream: "a", body: "hello" });
    expect(r.body).toContain('"UPSTREAM":"A"');
  });

  it("buffers the request body while the filter waits, then forwards its rewritten body", async () => {
    class BodyPick extends PassThroughFilter {
      private held: Uint8Array[] = [];
      private headers: HeaderPairs = [];
      override async requestHeaders(headers: HeaderPairs): Promise<Verdict> {
        this.headers = headers;
        return { kind: "wait" };
      }
      override async requestData(chunk: Uint8Array, eos: boolean): Promise<Verdict> {
        this.held.push(chunk);
        if (!eos) return { kind: "wait" };
        const body = JSON.parse(Buffer.concat(this.held).toString("utf8")) as { model: string };
        const target = body.model === "b" ? b.address : a.address;
        const out = new TextEncoder().encode(JSON.stringify({ ...body, model: "rewritten" }));
        return { kind: "continue", headers: [...this.headers.filter(([k]) => k !== "content-length"), ["x-gateway-destination-endpoint", target]], data: out };
      }
    }
    const p = await proxy({}, filters(() => new BodyPick()));
    const r = await send(p.address, { headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "b" }) });
    expect(r.status).toBe(200);
    expect(r.headers["x-upstream"]).toBe("b");
    expect(JSON.parse(b.seen.at(-1)!.body)).toEqual({ model: "rewritten" });
  });
});

describe("serve: bad input and failures", () => {
  it("answers malformed requests with 400 and keeps serving", async () => {
    const p = await proxy();
    const out = await rawExchange(p.address, "THIS IS NOT HTTP\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.1 400/);
    const out2 = await rawExchange(p.address, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    expect(out2).toMatch(/^HTTP\/1\.1 400/);
    const ok = await send(p.address, { headers: { "x-gateway-destination-endpoint": a.address }, body: "{}" });
    expect(ok.status).toBe(200);
    expect(p.stats.badRequests).toBeGreaterThanOrEqual(2);
  });

  it("gives the client a clean error when the upstream resets mid-stream, and keeps serving", async () => {
    const flaky = await startUpstream("flaky", (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"n":1}\n\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    try {
      const p = await proxyWith(flaky.address);
      const r = await send(p.address, { headers: { "x-gateway-destination-endpoint": flaky.address }, body: "{}" });
      expect(r.status).toBe(200);
      expect(r.body).toBe('data: {"n":1}\n\n');
      expect(r.error).toBeDefined(); // the stream is cut, not completed: the client knows it is incomplete
      const before = await send(p.address, { headers: { "x-gateway-destination-endpoint": a.address }, body: "{}" });
      expect(before.status).toBe(200);
      expect(p.stats.upstreamErrors).toBeGreaterThanOrEqual(1);
    } finally {
      await flaky.close();
    }
  });

  it("answers 502 when the upstream resets before sending headers", async () => {
    const rude = await startUpstream("rude", (req) => req.socket.destroy());
    try {
      const p = await proxyWith(rude.address);
      const r = await send(p.address, { headers: { "x-gateway-destination-endpoint": rude.address }, body: "{}" });
      expect(r.status).toBe(502);
    } finally {
      await rude.close();
    }
  });

  it("a filter that throws costs one request (500), not the proxy", async () => {
    class Broken extends PassThroughFilter {
      override async requestHeaders(): Promise<Verdict> {
        throw new Error("boom");
      }
    }
    const p = await proxy({}, filters(() => new Broken()));
    const r = await send(p.address, { body: "{}" });
    expect(r.status).toBe(500);
    const again = await send(p.address, { body: "{}" });
    expect(again.status).toBe(500);
  });
});
