/**
 * Conformance: the 15 proxy-wasm-go-sdk example plugins (ABI 0.2.0, Go wasip1 reactors) behave in
 * the harness as their README (peer-plugins/go-sdk/README.md) describes.
 *
 * Where that README reports the Java host's order `on_done` then `on_log`, we follow Envoy
 * (context.cc: the access log runs `onLog` before `onDestroy` runs `onDone` and `onDelete`).
 */
import { deflateSync, inflateSync } from "node:zlib";
import { expect, it } from "vitest";
import { MAIN_THREAD, ProxyWasmHost, SharedState, type ProxyWasmHostOptions } from "../../src/index.js";
import { describeCorpus } from "./helpers/corpus.js";
import { corpusModule } from "./helpers/modules.js";

async function host(file: string, options: Partial<ProxyWasmHostOptions> = {}): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create({ module: await corpusModule(`go-sdk/${file}`), logLevel: "trace", ...options });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** FNV-1a 32-bit, the hash http_auth_random uses to decide. */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

describeCorpus("go-sdk peer plugins", () => {
  it("dispatch_call_on_tick: one call per 100 ms tick, answers logged per root context", async () => {
    const h = await host("dispatch_call_on_tick.wasm", { clusters: { web_service: "manual" } });
    expect(h.configured).toBe(true);
    expect(h.logs.messages()).toContain("set tick period milliseconds: 100");
    await h.advance(1000);
    // Both the main thread's VM and the worker's tick: 10 calls each, each VM with its own tokens.
    expect(h.httpCalls).toHaveLength(20);
    for (const call of h.httpCalls) {
      expect(call.cluster).toBe("web_service");
      expect(call.request.timeoutMs).toBe(5000);
      expect(call.request.method).toBe("GET");
      expect(call.request.authority).toBe("some_authority");
      expect(call.request.headers.get("accept")).toBe("*/*");
      expect(["/ok", "/fail"]).toContain(call.request.path);
    }
    expect(h.httpCalls.map((c) => c.token)).toEqual(Array.from({ length: 10 }, (_, i) => [4 * (i + 1), 4 * (i + 1)]).flat());
    for (const call of h.httpCalls) call.respond({ headers: { "x-answer": "yes" } });
    for (const vm of [MAIN_THREAD, 0]) {
      const called = h.logEntries(vm).filter((e) => e.level === "info" && e.message.startsWith("called ")).map((e) => e.message);
      expect(called).toEqual(Array.from({ length: 10 }, (_, i) => `called ${i + 1} for contextID=1`));
    }
    expect(h.logs.messages()).toContain("response header for the dispatched call: x-answer: yes");
  });

  it("dispatch_call_on_tick: an HTTP stream traps the VM (no http context type); FAIL_CLOSE answers 503 from then on", async () => {
    const h = await host("dispatch_call_on_tick.wasm", { clusters: { web_service: "manual" } });
    const res = await h.request({ headers: { a: "b" } });
    expect(res.response.status).toBe(503);
    expect(res.localReply?.source).toBe("fail-closed");
    expect(res.upstreamCalled).toBe(false);
    expect(h.traps[0]?.callback).toBe("proxy_on_context_create");
    expect(h.traps[0]?.message).toContain("unreachable");
    expect(h.stderr).toContain("panic: invalid context id on proxy_on_context_create");
    const again = await h.request({ headers: { a: "b" } });
    expect(again.response.status).toBe(503);
    // The dead worker VM gets no more ticks; the main thread's VM (never given a stream) still calls.
    await h.advance(1000);
    expect(h.httpCalls).toHaveLength(10);
  });

  it("foreign_call_on_tick: calls `compress` every 1 ms tick (identity override, and Envoy's zlib built-in)", async () => {
    const h = await host("foreign_call_on_tick.wasm", { foreignFunctions: { compress: (a) => a } });
    expect(h.logs.messages()).toContain("set tick period milliseconds: 1");
    await h.advance(2);
    expect(h.logs.messages("info")).toContain("foreign function (compress) called: 1, result: 68656c6c6f20776f726c6421");
    expect(h.logs.messages("info")).toContain("foreign function (compress) called: 2, result: 68656c6c6f20776f726c6421");
    // Two ticks on the main thread's VM and two on the worker's.
    expect(h.foreignCalls.map((c) => c.name)).toEqual(["compress", "compress", "compress", "compress"]);

    const z = await host("foreign_call_on_tick.wasm");
    await z.advance(1);
    const line = z.logs.messages("info").find((m) => m.startsWith("foreign function (compress) called: 1"))!;
    const out = Buffer.from(line.split("result: ")[1]!, "hex");
    expect(inflateSync(out).toString()).toBe("hello world!");
    expect(hex(out)).toBe(hex(deflateSync("hello world!")));
  });

  it("foreign_call_on_tick: an unknown foreign function is NotFound", async () => {
    const h = await host("foreign_call_on_tick.wasm");
    h.core.foreign.delete("compress");
    await h.advance(1);
    expect(h.logs.messages("critical")).toContain("foreign function (compress) failed: error status returned by host: not found");
    expect(h.logs.messages("info")).toContain("foreign function (compress) called: 1, result: ");
  });

  const granted = '{"uuid": "7b10a67a-1c67-4199-835b-cbefcd4a63d4"}';
  const forbidden = '{"uuid": "aaaaaaaa-1c67-4199-835b-cbefcd4a63d4"}';

  it("http_auth_random: pauses, calls httpbin with the request headers, grants on an even FNV hash", async () => {
    const h = await host("http_auth_random.wasm", { clusters: { httpbin: { body: granted } } });
    const res = await h.request({ headers: { key: "value" } });
    expect(h.httpCalls).toHaveLength(1);
    expect(h.httpCalls[0]!.request.headers.get("key")).toBe("value");
    expect(h.httpCalls[0]!.request.timeoutMs).toBe(50000);
    expect(res.logs.map((l) => l.message)).toEqual(expect.arrayContaining(["request header: key: value", "http call dispatched to httpbin", "access granted"]));
    expect(res.upstreamCalled).toBe(true);
    expect(res.response.status).toBe(200);
  });

  it("http_auth_random: an odd FNV hash sends 403 with powered-by", async () => {
    const h = await host("http_auth_random.wasm", { clusters: { httpbin: async () => ({ body: forbidden }) } });
    const res = await h.request({ headers: { key: "value" } });
    expect(res.upstreamCalled).toBe(false);
    expect(res.request).toBeNull();
    expect(res.response.status).toBe(403);
    expect(res.response.bodyText).toBe("access forbidden");
    expect(res.response.headers.get("powered-by")).toBe("proxy-wasm-go-sdk!!");
    expect(h.logs.messages()).toContain("access forbidden");
  });

  it("http_auth_random: an empty call body reads as NotFound and the request resumes", async () => {
    const h = await host("http_auth_random.wasm", { clusters: { httpbin: {} } });
    const res = await h.request({ headers: { key: "value" } });
    expect(h.logs.messages()).toContain("response header from httpbin: :status: 200");
    expect(h.logs.messages("critical")).toContain("failed to get response body: error status returned by host: not found");
    expect(res.upstreamCalled).toBe(true);
  });

  it("http_auth_random: a reset delivers zero headers; the plugin reads that as an error and never resumes", async () => {
    const h = await host("http_auth_random.wasm", { clusters: { httpbin: () => "reset" } });
    let upstream = false;
    void h.request({ headers: { key: "value" }, upstream: () => ((upstream = true), {}) });
    await h.settle();
    expect(h.httpCalls[0]!.state).toBe("failed");
    expect(h.httpCalls[0]!.delivered).toBeNull();
    expect(h.logs.messages().filter((m) => m.startsWith("response header from httpbin"))).toEqual([]);
    expect(h.logs.messages("critical")).toContain("failed to get response body: error status returned by host: not found");
    expect(upstream).toBe(false);
  });

  it("http_auth_random: a timeout (virtual clock) delivers Envoy's 504 local reply", async () => {
    const h = await host("http_auth_random.wasm", { clusters: { httpbin: "manual" } });
    const pending = h.request({ headers: { key: "value" } });
    await h.advance(50000);
    const res = await pending;
    expect(h.httpCalls[0]!.state).toBe("timed-out");
    expect(h.logs.messages()).toContain("response header from httpbin: :status: 504");
    expect(h.httpCalls[0]!.delivered?.headers.get("content-type")).toBe("text/plain");
    const even = fnv1a32("upstream request timeout") % 2 === 0;
    expect(res.response.status).toBe(even ? 200 : 403);
    expect(h.logs.messages()).toContain(even ? "access granted" : "access forbidden");
  });

  it("http_auth_random: an unknown cluster is BadArgument and the request continues", async () => {
    const h = await host("http_auth_random.wasm");
    const res = await h.request({ headers: { key: "value" } });
    expect(h.logs.messages("critical")).toContain("dipatch httpcall failed: error status returned by host: bad argument");
    expect(res.upstreamCalled).toBe(true);
  });

  it("http_body: set-body mode replaces/appends/prepends the request body and removes content-length", async () => {
    const h = await host("http_body.wasm");
    expect(h.logs.messages("critical")).toContain("error reading plugin configuration: error status returned by host: not found");
    const expected: Record<string, string> = {
      replace: "[this is replaced body]",
      append: "[original body][this is appended body]",
      prepend: "[this is prepended body][original body]",
    };
    for (const [op, body] of Object.entries(expected)) {
      const res = await h.request({ headers: { "content-length": "15", "buffer-operation": op }, body: "[original body]" });
      expect(res.request?.bodyText).toBe(body);
      expect(res.request?.headers.has("content-length")).toBe(false);
      expect(res.request?.headers.get("buffer-operation")).toBe(op);
      expect(res.logs.map((l) => l.message)).toContain("original request body: [original body]");
    }
  });

  it("http_body: body chunks are buffered while the plugin pauses; the callback sees the total size", async () => {
    const h = await host("http_body.wasm");
    const res = await h.request({ headers: { "content-length": "15", "buffer-operation": "append" }, body: ["[original", " body]"] });
    expect(res.request?.bodyText).toBe("[original body][this is appended body]");
  });

  it("http_body: missing content-length gives 400", async () => {
    const h = await host("http_body.wasm");
    const res = await h.request({ headers: {} });
    expect(res.response.status).toBe(400);
    expect(res.response.bodyText).toBe("content must be provided");
    expect(res.upstreamCalled).toBe(false);
  });

  it("http_body: response mode changes the response body; removing an absent header is OK", async () => {
    const h = await host("http_body.wasm");
    const res = await h.request({
      headers: { "content-length": "1", "buffer-replace-at": "response", "buffer-operation": "prepend" },
      body: "x",
      upstream: { headers: { "content-length": "15" }, body: "[original body]" },
    });
    expect(res.request?.bodyText).toBe("x");
    expect(res.response.bodyText).toBe("[this is prepended body][original body]");
    expect(res.response.headers.has("content-length")).toBe(false);
    expect(h.logs.messages()).toContain("original response body: [original body]");
    const noLength = await h.request({ headers: { "content-length": "1", "buffer-replace-at": "response" }, body: "x", upstream: { body: "[b]" } });
    expect(noLength.response.bodyText).toBe("[this is replaced body]");
    expect(h.traps).toEqual([]);
  });

  it("http_body: echo mode replies with all buffered frames", async () => {
    const h = await host("http_body.wasm", { pluginConfig: "echo" });
    const res = await h.request({ headers: {}, body: ["frame1...", "frame2...", "frame3...", ""] });
    expect(res.response.status).toBe(200);
    expect(res.response.bodyText).toBe("frame1...frame2...frame3...");
    expect(res.upstreamCalled).toBe(false);
  });

  it("http_headers: replace adds the absent header; response headers are added; on_log logs '<id> finished'", async () => {
    const h = await host("http_headers.wasm", { pluginConfig: { header: "x-wasm-header", value: "x-value" } });
    expect(h.configured).toBe(true);
    const res = await h.request({
      headers: [
        ["key1", "value1"],
        ["key2", "value2"],
      ],
      upstream: { headers: [["key1", "value1"], ["key2", "value2"]] },
    });
    expect(res.request?.headers.get("test")).toBe("best");
    expect(res.response.headers.toPairs().slice(1)).toEqual([
      ["key1", "value1"],
      ["key2", "value2"],
      ["x-proxy-wasm-go-sdk-example", "http_headers"],
      ["x-proxy-wasm-counter", "1"],
      ["x-wasm-header", "x-value"],
    ]);
    const msgs = h.logs.messages();
    expect(msgs).toEqual(
      expect.arrayContaining([
        "loading plugin config",
        "header from config: x-wasm-header = x-value",
        "request header --> key1: value1",
        "request header --> test: best",
        "adding header: x-wasm-header=x-value",
        "response header <-- x-proxy-wasm-counter: 1",
        `${res.streamId} finished`,
      ]),
    );
    const second = await h.request({ headers: { a: "b" } });
    expect(second.response.headers.get("x-proxy-wasm-counter")).toBe("2");
  });

  it("http_headers: an invalid config makes proxy_on_configure return 0", async () => {
    const h = await host("http_headers.wasm", { pluginConfig: "{}" });
    expect(h.configured).toBe(false);
    expect(h.logs.messages("critical")).toContain(
      'invalid configuration format; expected {"header": "<header name>", "value": "<header value>"}',
    );
  });

  it("http_routing: the first config byte decides canary routing", async () => {
    const canary = await host("http_routing.wasm", { pluginConfig: new Uint8Array([2]) });
    const res = await canary.request({ headers: { ":authority": "my-host.com" } });
    expect(res.request?.headers.get(":authority")).toBe("my-host.com-canary");
    expect(canary.logs.messages("info")).toContain("value: 2\n");
    const stable = await host("http_routing.wasm", { pluginConfig: new Uint8Array([1]) });
    const res2 = await stable.request({ headers: { ":authority": "my-host.com" } });
    expect(res2.request?.headers.get(":authority")).toBe("my-host.com");
  });

  it("json_validation: content type, JSON validity and required keys", async () => {
    const h = await host("json_validation.wasm", { pluginConfig: { requiredKeys: ["my_key"] } });
    const html = await h.request({ headers: { "content-type": "text/html" }, body: "{}" });
    expect(html.response.status).toBe(403);
    expect(html.response.bodyText).toBe("content-type must be provided");
    const ok = await h.request({ headers: { "content-type": "application/json" }, body: ['{"my_key":', '"x"}'] });
    expect(ok.upstreamCalled).toBe(true);
    expect(ok.request?.bodyText).toBe('{"my_key":"x"}');
    const bad = await h.request({ headers: { "content-type": "application/json" }, body: "invalid_payload" });
    expect(bad.response.status).toBe(403);
    expect(bad.response.bodyText).toBe("invalid payload");
    expect(h.logs.messages("error")).toContain('body is not a valid json: "invalid_payload"');
    const missing = await h.request({ headers: { "content-type": "application/json" }, body: '{"unknown_key":"unknown_value"}' });
    expect(missing.response.status).toBe(403);
    expect(h.logs.messages("error")).toContain('required key (my_key) is missing: {"unknown_key":"unknown_value"}');
  });

  it("json_validation: invalid JSON config is refused by proxy_on_configure", async () => {
    const h = await host("json_validation.wasm", { pluginConfig: "nope" });
    expect(h.configured).toBe(false);
    expect(h.logs.messages("critical")).toContain('error parsing plugin configuration: the plugin configuration is not a valid json: "nope"');
  });

  it("metrics: a counter per header value, shared by the VMs of all workers", async () => {
    const h = await host("metrics.wasm", { workers: 2 });
    for (let i = 0; i < 3; i++) await h.request({ headers: { "my-custom-header": "foo" } });
    const m = h.metrics.get("custom_header_value_counts_value=foo_reporter=wasmgosdk");
    expect(m?.type).toBe("counter");
    expect(m?.value).toBe(3);
    expect(m?.statName).toBe("wasmcustom.custom_header_value_counts_value=foo_reporter=wasmgosdk");
  });

  it("multiple_dispatches: 10 calls on response headers, the response resumes after the last answer", async () => {
    const h = await host("multiple_dispatches.wasm", { clusters: { httpbin: { status: 200 } } });
    const res = await h.request({ headers: { a: "b" } });
    expect(h.httpCalls).toHaveLength(10);
    expect(h.httpCalls[0]!.request.authority).toBe("");
    expect(res.response.headers.get("total-dispatched")).toBe("10");
    const msgs = h.logs.messages("info");
    expect(msgs).toContain("pending dispatched requests: 9");
    expect(msgs).toContain("pending dispatched requests: 1");
    expect(msgs).toContain("response resumed after processed 10 dispatched request");
  });

  it("postpone_requests: requests wait for the 1 s tick, which resumes them through the effective context", async () => {
    const h = await host("postpone_requests.wasm");
    let upstreamSeen = 0;
    const first = h.request({ headers: { a: "1" }, upstream: () => (upstreamSeen++, { status: 204 }) });
    const second = h.request({ headers: { a: "2" }, upstream: () => (upstreamSeen++, { status: 204 }) });
    await h.settle();
    expect(upstreamSeen).toBe(0);
    expect(h.logs.messages()).toEqual(["postpone request with contextID=2", "postpone request with contextID=3"]);
    await h.advance(999);
    expect(upstreamSeen).toBe(0);
    await h.advance(1);
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.response.status).toBe(204);
    expect(r2.response.status).toBe(204);
    expect(h.logs.messages()).toEqual([
      "postpone request with contextID=2",
      "postpone request with contextID=3",
      "resume request with contextID=2",
      "resume request with contextID=3",
    ]);
  });

  it("properties: route metadata 'auth' picks the header that must be present", async () => {
    const h = await host("properties.wasm");
    const none = await h.request({ headers: { a: "b" } });
    expect(none.logs.map((l) => l.message)).toEqual(["no auth header for route", `${none.streamId} finished`]);
    const routeMetadata = { route_metadata: { filter_metadata: { "envoy.filters.http.wasm": { auth: "cookie" } } } };
    const ok = await h.request({ headers: { cookie: "value" }, properties: routeMetadata });
    expect(ok.upstreamCalled).toBe(true);
    expect(ok.logs.map((l) => l.message)).toEqual(['auth header is "cookie"', `${ok.streamId} finished`]);
    const denied = await h.request({ headers: {}, properties: routeMetadata });
    expect(denied.response.status).toBe(401);
    expect(denied.response.body.length).toBe(0);
    expect(denied.localReply?.grpcStatus).toBe(16);
  });

  it("shared_data: CAS loop increments a u64 shared by all workers", async () => {
    const h = await host("shared_data.wasm", { workers: 2 });
    for (let i = 0; i < 3; i++) await h.request({ headers: { a: "b" } });
    expect(h.logs.messages("info")).toEqual(["shared value: 1", "shared value: 2", "shared value: 3"]);
    expect(hex(h.sharedData.get("", "shared_data_key")!.value)).toBe("0300000000000000");
  });

  it("shared_queue: sender enqueues to the receivers' queues (vm_id 'receiver'); queue-ready reaches the registering root", async () => {
    const shared = new SharedState();
    const reqReceiver = await host("shared_queue-receiver.wasm", { vmId: "receiver", pluginConfig: "http_request_headers", shared });
    const respReceiver = await host("shared_queue-receiver.wasm", { vmId: "receiver", pluginConfig: "http_response_headers", shared });
    const sender = await host("shared_queue-sender.wasm", { vmId: "sender", pluginConfig: "http", shared });
    // Every configured VM (canary, main thread, worker) registers the queue and gets the same id.
    expect(reqReceiver.logs.messages()).toEqual(Array(3).fill('queue "http_request_headers" registered as queueID=1 by contextID=1'));
    expect(respReceiver.logs.messages()).toEqual(Array(3).fill('queue "http_response_headers" registered as queueID=2 by contextID=1'));
    expect(sender.logs.messages()).toContain("contextID=1 is configured for http");
    const res = await sender.request({ headers: { hello: "world" }, upstream: { headers: { server: "test" } } });
    expect(res.logs.map((l) => l.message)).toContain('enqueued data: {"key": "hello","value": "world"}');
    expect(res.logs.map((l) => l.message)).toContain(`(contextID=${res.streamId}) enqueued data: {"key": "server","value": "test"}`);
    await sender.settle();
    expect(reqReceiver.logs.messages()).toContain(
      '(contextID=1) dequeued data from http_request_headers(queueID=1): {"key": "hello","value": "world"}',
    );
    expect(respReceiver.logs.messages()).toContain(
      '(contextID=1) dequeued data from http_response_headers(queueID=2): {"key": "server","value": "test"}',
    );
    expect(shared.queues.size("receiver", "http_request_headers")).toBe(0);
  });

  it("shared_queue-receiver: an empty plugin config panics in proxy_on_configure", async () => {
    const h = await host("shared_queue-receiver.wasm", { vmId: "receiver" });
    expect(h.configured).toBe(false);
    expect(h.traps[0]?.callback).toBe("proxy_on_configure");
    expect(h.stderr).toContain("failed to get plugin config");
  });

  it("vm_plugin_configuration: logs the VM and plugin configurations", async () => {
    // Each configured VM logs: the canary, the main thread's VM and the worker's.
    const h = await host("vm_plugin_configuration.wasm", { vmConfig: "vm_config", pluginConfig: "plugin_config" });
    const configured = ["vm config: vm_config", "plugin config: plugin_config"];
    expect(h.logs.messages()).toEqual([...configured, ...configured, ...configured]);
    const empty = await host("vm_plugin_configuration.wasm");
    const unset = [
      "error reading vm configuration: error status returned by host: not found",
      "vm config: ",
      "error reading plugin configuration: error status returned by host: not found",
      "plugin config: ",
    ];
    expect(empty.logs.messages()).toEqual([...unset, ...unset, ...unset]);
  });
});
