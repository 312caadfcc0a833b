/** Property tree: Envoy's encodings and defaults, user properties, set/get. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WasmResult, decodePairs, encodeProperty, prop } from "../../src/index.js";
import { lookupMerged, lookupProperty, mergeProperties, type PropertyTree, type PropertyValue } from "../../src/host/properties.js";
import { testHost, type Guest } from "./helpers/test-module.js";

function get(g: Guest, ...path: string[]): [number, Uint8Array] {
  const [p, pl] = g.put(path.join("\0"));
  const out = g.slot(8);
  const st = g.call("proxy_get_property", p, pl, out, out + 4);
  return [st, st === 0 ? g.result(out, out + 4) : new Uint8Array(0)];
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const i64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getBigInt64(0, true);

describe("property encodings", () => {
  it("strings raw, integers int64 LE, doubles float64 LE, bools 1 byte, maps and lists as pairs", () => {
    expect(text(encodeProperty("abc")!)).toBe("abc");
    expect([...encodeProperty(258)!]).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
    expect([...encodeProperty(-1)!]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    expect(new DataView(encodeProperty(0.5)!.buffer).getFloat64(0, true)).toBe(0.5);
    expect(new DataView(encodeProperty(prop.double(2))!.buffer).getFloat64(0, true)).toBe(2);
    expect([...encodeProperty(true)!]).toEqual([1]);
    expect(decodePairs(encodeProperty({ a: "x", b: "y" })!)).toEqual([
      ["a", "x"],
      ["b", "y"],
    ]);
    expect(decodePairs(encodeProperty(["p", "q"])!)).toEqual([
      ["p", ""],
      ["q", ""],
    ]);
  });
});

describe("layered lookup", () => {
  it("lookupMerged(layers, path) equals lookupProperty(mergeProperties(...layers), path) on random trees", () => {
    const seg = fc.constantFrom("a", "b", "0");
    const leaf: fc.Arbitrary<PropertyValue> = fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.integer({ min: -5, max: 5 }),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(fc.string({ maxLength: 2 }), { maxLength: 2 }),
    );
    const { tree } = fc.letrec<{ tree: PropertyTree; value: PropertyValue }>((tie) => ({
      tree: fc.dictionary(seg, tie("value"), { maxKeys: 3 }),
      value: fc.oneof({ depthSize: "small" }, leaf, tie("tree"), tie("tree").map((t) => () => t), leaf.map((v) => () => v)),
    }));
    fc.assert(
      fc.property(fc.array(fc.option(tree, { nil: undefined }), { minLength: 1, maxLength: 3 }), fc.array(seg, { maxLength: 4 }), (layers, path) => {
        const want = lookupProperty(mergeProperties(...layers), path);
        const got = lookupMerged(layers, path);
        expect(encodeProperty(got as PropertyValue)).toEqual(encodeProperty(want as PropertyValue));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("proxy_get_property / proxy_set_property", () => {
  it("plugin identity, request attributes while headers are held, user and per-request properties", async () => {
    const r: Record<string, unknown> = {};
    const { host } = await testHost(
      {
        proxy_on_vm_start: (g) => {
          r.rootId = text(get(g, "plugin_root_id")[1]);
          r.name = text(get(g, "plugin_name")[1]);
          r.vmId = text(get(g, "plugin_vm_id")[1]);
          r.rootRequest = get(g, "request", "path")[0];
          return 1;
        },
        proxy_on_request_headers: (g) => {
          r.path = text(get(g, "request", "path")[1]);
          r.urlPath = text(get(g, "request", "url_path")[1]);
          r.query = text(get(g, "request", "query")[1]);
          r.method = text(get(g, "request", "method")[1]);
          r.host = text(get(g, "request", "host")[1]);
          r.header = text(get(g, "request", "headers", "x-h")[1]);
          r.time = i64(get(g, "request", "time")[1]);
          r.source = text(get(g, "source", "address")[1]);
          r.destPort = i64(get(g, "destination", "port")[1]);
          r.cluster = text(get(g, "xds", "cluster_name")[1]);
          r.custom = text(get(g, "metadata", "filter_metadata", "f", "k")[1]);
          r.perRequest = text(get(g, "route_metadata", "x")[1]);
          r.listItem = text(get(g, "list", "1")[1]);
          r.missing = get(g, "metadata", "nope")[0];
          r.upstreamBefore = get(g, "upstream", "address")[0];
          r.responseBefore = get(g, "response", "code")[0];
          const [k, kl] = g.put("my_state");
          const [v, vl] = g.put("val");
          r.set = g.call("proxy_set_property", k, kl, v, vl);
          r.getSet = text(get(g, "my_state")[1]);
          return 0;
        },
        proxy_on_request_body: (g) => {
          // Envoy no longer holds the request headers once they were continued.
          r.pathInBody = get(g, "request", "path")[0];
          r.timeInBody = get(g, "request", "time")[0];
          return 0;
        },
        proxy_on_response_headers: (g) => {
          r.code = i64(get(g, "response", "code")[1]);
          r.respHeader = text(get(g, "response", "headers", "x-r")[1]);
          r.upstream = text(get(g, "upstream", "address")[1]);
          return 0;
        },
        proxy_on_log: (g) => {
          r.logPath = text(get(g, "request", "path")[1]);
          r.logDuration = get(g, "request", "duration")[0];
        },
      },
      {
        rootId: "root-a",
        pluginName: "plugin-a",
        vmId: "vm-a",
        now: 5_000,
        upstreamAddress: "10.0.0.7:8000",
        properties: { metadata: { filter_metadata: { f: { k: "v" } } }, list: ["a", "b"] },
      },
    );
    const res = await host.request({
      headers: { ":path": "/p/q?x=1", ":method": "POST", ":authority": "svc.local", "x-h": "hv" },
      body: "b",
      properties: { route_metadata: { x: "per-request" } },
      upstream: { status: 201, headers: { "x-r": "rv" } },
    });
    expect(r).toEqual({
      rootId: "root-a",
      name: "plugin-a",
      vmId: "vm-a",
      rootRequest: WasmResult.NotFound,
      path: "/p/q?x=1",
      urlPath: "/p/q",
      query: "x=1",
      method: "POST",
      host: "svc.local",
      header: "hv",
      time: 5_000_000_000n,
      source: "127.0.0.1:40000",
      destPort: 10000n,
      cluster: "upstream",
      custom: "v",
      perRequest: "per-request",
      listItem: "b",
      missing: WasmResult.NotFound,
      upstreamBefore: WasmResult.NotFound,
      responseBefore: WasmResult.NotFound,
      set: WasmResult.Ok,
      getSet: "val",
      pathInBody: WasmResult.NotFound,
      timeInBody: WasmResult.Ok,
      code: 201n,
      respHeader: "rv",
      upstream: "10.0.0.7:8000",
      logPath: "/p/q?x=1",
      logDuration: WasmResult.Ok,
    });
    expect(res.response.status).toBe(201);
  });

  it("set_property outside a stream is NotFound (no stream info)", async () => {
    let st = -1;
    await testHost({
      proxy_on_vm_start: (g) => {
        const [k, kl] = g.put("x");
        st = g.call("proxy_set_property", k, kl, k, kl);
        return 1;
      },
    });
    expect(st).toBe(WasmResult.NotFound);
  });
});
