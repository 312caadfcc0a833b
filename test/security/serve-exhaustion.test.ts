/**
 * Findings 6, 8, 9 and 13 against the local proxy (`wayroute serve`): a client that never reads a
 * huge response, with and without a plugin; a plugin buffering a body past Envoy's buffer limit;
 * shutdown (--duration, SIGTERM) in the middle of such a transfer; steering headers naming
 * foreign addresses or Object.prototype members; a DNS-rebinding Host; a 20 KB header.
 */
import { spawn } from "node:child_process";
import wabtInit from "wabt";
import { createServer, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { ProxyServer } from "../../src/serve/index.js";
import { createWasmFilters } from "../../src/serve/wasm-filter.js";
import { rawExchange, send } from "../serve/helpers.js";
import { streamZeros } from "./helpers.js";

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An upstream that streams up to `limit` zero bytes per request, honouring back-pressure, and counts what it sent. */
async function hugeUpstream(limit: number) {
  const sent: Promise<number>[] = [];
  const server: Server = createServer((req, res: ServerResponse) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/octet-stream" });
    sent.push(streamZeros(res, limit));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, sent };
}

/** A client that sends one request and then never reads: its socket is paused. */
function stalledClient(proxy: string): Promise<Socket> {
  const [host, port] = proxy.split(":");
  return new Promise((resolve) => {
    const sock = connect(Number(port), host!, () => {
      sock.write("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      sock.once("data", () => {
        sock.pause(); // the first bytes arrived: from now on, read nothing
        resolve(sock);
      });
    });
    cleanups.push(() => void sock.destroy());
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes the upstream managed to send after `ms`: bounded by socket buffers when back-pressure works. */
async function sentAfter(up: { sent: Promise<number>[] }, ms: number, stop: () => Promise<void>): Promise<number> {
  await sleep(ms);
  await stop();
  return (await Promise.all(up.sent)).reduce((a, b) => a + b, 0);
}

/**
 * A minimal proxy-wasm module in WAT: request headers answer `reqHeaders`, response headers
 * `respHeaders`, and response body chunks are buffered (StopIterationAndBuffer) until end of stream.
 */
async function bufferingModule(reqHeaders: 0 | 1, respHeaders: 0 | 1): Promise<Uint8Array> {
  const wat = `(module
    (memory (export "memory") 2)
    (global $top (mut i32) (i32.const 1024))
    (func (export "malloc") (param $n i32) (result i32) (local $p i32)
      (local.set $p (global.get $top))
      (global.set $top (i32.add (global.get $top) (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
      (local.get $p))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const ${reqHeaders}))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const ${respHeaders}))
    (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32)
      (if (result i32) (local.get 2) (then (i32.const 0)) (else (i32.const 1))))
    (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
    (func (export "proxy_on_log") (param i32))
    (func (export "proxy_on_delete") (param i32)))`;
  const wabt = await wabtInit();
  const parsed = wabt.parseWat("buffering.wat", wat);
  try {
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

const LIMIT = 256 << 20;
const BOUND = 48 << 20;

describe("serve keeps back-pressure end to end (finding 6)", () => {
  it("without a plugin, a client that never reads holds the upstream back", async () => {
    const up = await hugeUpstream(LIMIT);
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [up.address], lb: "round-robin" } });
    await p.start();
    cleanups.push(() => p.stop());
    await stalledClient(p.address);
    expect(await sentAfter(up, 1500, () => p.stop())).toBeLessThan(BOUND);
  });

  it("with a plugin, the same holds", async () => {
    const up = await hugeUpstream(LIMIT);
    const filters = await createWasmFilters({ wasm: "build/passthrough.wasm" }, { workers: 1 });
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [up.address], lb: "round-robin" } }, filters);
    await p.start();
    cleanups.push(() => p.stop());
    await stalledClient(p.address);
    expect(await sentAfter(up, 1500, () => p.stop())).toBeLessThan(BOUND);
  });

  it("a streamed body leaves no copy in the harness stream; a kept one is joined whole", async () => {
    const host = await ProxyWasmHost.create({ module: "build/passthrough.wasm" });
    cleanups.push(() => host.close());
    const chunk = new Uint8Array(16 << 10).fill(7);
    const streamed = host.workers[0]!.newStream();
    streamed.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "x"]], true);
    streamed.responseHeaders([[":status", "200"]]);
    let passed = 0;
    for (let i = 0; i < 2000; i++) {
      streamed.responseBody(chunk, i === 1999);
      passed += streamed.takeForwarded("response").reduce((n, c) => n + c.length, 0);
    }
    expect(passed).toBe(2000 * chunk.length);
    expect(streamed.responseBodySize()).toBe(2000 * chunk.length);
    // Nothing taken is held: the final response holds only the last chunk, still untaken when it completed.
    expect(streamed.finalResponse!.body.length).toBe(chunk.length);
    // Without a streaming consumer the harness reports the whole body, in order.
    const kept = host.workers[0]!.newStream();
    kept.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "x"]], true);
    kept.responseHeaders([[":status", "200"]]);
    for (let i = 0; i < 2000; i++) kept.responseBody(new Uint8Array(16).fill(i & 0xff), i === 1999);
    const body = kept.finalResponse!.body;
    expect(body.length).toBe(2000 * 16);
    expect(body[16 * 1234]).toBe(1234 & 0xff);
  });

  it("a body the plugin buffers past the buffer limit gets 413, as Envoy answers (per_connection_buffer_limit_bytes)", async () => {
    let reached = 0;
    const server = createServer((req, res) => {
      reached++;
      req.resume();
      res.end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
    const upstream = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // body-reader buffers the request body (StopIterationAndBuffer) until end of stream.
    const filters = await createWasmFilters({ wasm: "build/body-reader.wasm" }, { workers: 1, bufferLimitBytes: 256 << 10 });
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [upstream], lb: "round-robin" } }, filters);
    await p.start();
    cleanups.push(() => p.stop());
    const small = await send(p.address, { body: "x".repeat(100 << 10) });
    expect(small.status).toBe(200);
    const big = await send(p.address, { body: "x".repeat(1 << 20) });
    expect(big.status).toBe(413);
    expect(big.body).toBe("Payload Too Large");
    expect(reached).toBe(1);
  });

  it("a response body the plugin buffers past the limit: 500 while headers are held, a reset once they went out", async () => {
    const chunk = new Uint8Array(300);
    const request = [[":method", "GET"], [":path", "/"], [":authority", "x"]] as [string, string][];
    // Headers continued: they already went downstream, so Envoy can only reset the stream.
    const sent = await ProxyWasmHost.create({ module: await bufferingModule(0, 0) });
    cleanups.push(() => sent.close());
    const a = sent.workers[0]!.newStream({ bufferLimitBytes: 1000 });
    a.requestHeaders(request, true);
    a.responseHeaders([[":status", "200"]]);
    for (let i = 0; i < 5; i++) a.responseBody(chunk, false);
    expect(a.resetReason).toBe("response_payload_too_large");
    // Headers held (allow_on_headers_stop_iteration): nothing went out yet, so Envoy answers 500.
    const held = await ProxyWasmHost.create({ module: await bufferingModule(0, 1), allowOnHeadersStopIteration: true });
    cleanups.push(() => held.close());
    const b = held.workers[0]!.newStream({ bufferLimitBytes: 1000 });
    b.requestHeaders(request, true);
    b.responseHeaders([[":status", "200"]]);
    for (let i = 0; i < 5 && !b.finalResponse; i++) b.responseBody(chunk, false);
    expect(b.finalResponse?.status).toBe(500);
    expect(b.localReply?.details).toBe("response_payload_too_large");
    // Under the limit, the buffered body goes on whole.
    const c = sent.workers[0]!.newStream({ bufferLimitBytes: 1000 });
    c.requestHeaders(request, true);
    c.responseHeaders([[":status", "200"]]);
    c.responseBody(chunk, false);
    c.responseBody(chunk, true);
    expect(c.finalResponse?.body.length).toBe(600);
  });

  it("data held behind stopped request headers stops the reading (watermark) instead of growing", async () => {
    const up = await hugeUpstream(1);
    const filters = await createWasmFilters({ wasm: await bufferingModule(1, 0) }, { workers: 1, bufferLimitBytes: 64 << 10, resumeTimeoutMs: 1500 });
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [up.address], lb: "round-robin" }, maxRequestBodyBytes: 256 << 20 }, filters);
    await p.start();
    cleanups.push(() => p.stop());
    const [host, port] = p.address.split(":");
    const body = 96 << 20;
    const result = await new Promise<{ written: number; reply: string }>((resolve) => {
      const sock = connect(Number(port), host!, () => {
        sock.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body}\r\n\r\n`);
        const block = Buffer.alloc(64 << 10);
        let written = 0;
        let reply = "";
        sock.on("data", (d) => {
          reply += String(d);
          if (reply.includes("\r\n\r\n")) {
            sock.destroy();
            resolve({ written, reply });
          }
        });
        const pump = () => {
          while (written < body && !sock.destroyed) {
            written += block.length;
            if (!sock.write(block)) return void sock.once("drain", pump);
          }
        };
        pump();
      });
      sock.on("error", () => undefined);
      cleanups.push(() => void sock.destroy());
    });
    expect(result.reply).toMatch(/^HTTP\/1\.1 504 /);
    expect(result.written).toBeLessThan(BOUND);
  });

  for (const how of ["--duration", "SIGTERM"] as const) {
    it(`serve stops on ${how} in the middle of a transfer to a client that never reads`, async () => {
      const up = await hugeUpstream(LIMIT);
      const args = ["--import", "tsx", "src/cli.ts", "serve", "--upstream", up.address, "--port", "0", "--plugin", "build/passthrough.wasm", "--duration", how === "--duration" ? "2" : "600"];
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      cleanups.push(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")));
      const address = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d) => {
          out += String(d);
          const m = /listening on http:\/\/(127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`serve exited early (${code})`)));
      });
      await stalledClient(address);
      await sleep(300);
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      if (how === "SIGTERM") child.kill("SIGTERM");
      const code = await Promise.race([exited, sleep(15_000).then(() => "still running" as const)]);
      expect(code).toBe(0);
      expect((await Promise.all(up.sent)).reduce((a, b) => a + b, 0)).toBeLessThan(BOUND);
    }, 30_000);
  }
});

describe("serve chooses only configured upstreams and checks Host (findings 8, 9)", () => {
  async function twoUpstreams() {
    const hits: Record<string, number> = { mine: 0, foreign: 0 };
    const make = async (name: string) => {
      const s = createServer((req, res) => {
        hits[name]!++;
        req.resume();
        res.end(name);
      });
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
      cleanups.push(() => new Promise((r) => (s.closeAllConnections(), s.close(r))));
      return `127.0.0.1:${(s.address() as AddressInfo).port}`;
    };
    return { mine: await make("mine"), foreign: await make("foreign"), hits };
  }

  it("without a plugin, a client's endpoint header may name only configured upstreams", async () => {
    const u = await twoUpstreams();
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [u.mine], lb: "round-robin" } });
    await p.start();
    cleanups.push(() => p.stop());
    const bad = await send(p.address, { headers: { "x-gateway-destination-endpoint": u.foreign } });
    expect(bad.status).toBe(503);
    expect(bad.body).toMatch(/not a configured upstream/);
    const mixed = await send(p.address, { headers: { "x-gateway-destination-endpoint": `${u.mine},${u.foreign}` } });
    expect(mixed.status).toBe(503);
    expect(u.hits.foreign).toBe(0);
    const ok = await send(p.address, { headers: { "x-gateway-destination-endpoint": u.mine } });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe("mine");
  });

  it("a Host that is not this machine (DNS rebinding) gets 421; loopback names and allowedHosts pass", async () => {
    const u = await twoUpstreams();
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [u.mine], lb: "round-robin" }, allowedHosts: ["models.example"] });
    await p.start();
    cleanups.push(() => p.stop());
    const port = p.address.split(":")[1];
    const rebound = await send(p.address, { headers: { host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(u.hits.mine).toBe(0);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "models.example"]) {
      expect((await send(p.address, { headers: { host } })).status, host).toBe(200);
    }
  });

  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])("route header value %j gives 503, not 500", async (value) => {
    const u = await twoUpstreams();
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [u.mine], lb: "round-robin" }, routes: { header: "x-backend", backends: { a: [u.mine] } } });
    await p.start();
    cleanups.push(() => p.stop());
    const r = await send(p.address, { headers: { "x-backend": value } });
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/no backend named/);
    expect((await send(p.address, { headers: { "x-backend": "a" } })).status).toBe(200);
  });
});

describe("oversized request headers (finding 13)", () => {
  it("a 20 KB request header gets 431, and the proxy keeps serving", async () => {
    const p = new ProxyServer({ workers: 1, defaultCluster: { name: "d", endpoints: [], lb: "round-robin" } });
    await p.start();
    cleanups.push(() => p.stop());
    const out = await rawExchange(p.address, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    const malformed = await rawExchange(p.address, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
  });
});
