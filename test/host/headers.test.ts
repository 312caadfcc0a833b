/** Header maps: encoding round trips, Envoy map semantics, and the header host functions. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeaderMap, MapType, WasmResult, decodePairs, encodePairs } from "../../src/index.js";
import { testHost } from "./helpers/test-module.js";

describe("pairs encoding", () => {
  it("encodes count, sizes, then NUL-terminated keys and values", () => {
    const bytes = encodePairs([
      ["a", "bc"],
      ["", "d"],
    ]);
    expect([...bytes]).toEqual([2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 97, 0, 98, 99, 0, 0, 100, 0]);
  });

  it("round-trips any list of pairs", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string())), (pairs) => {
        expect(decodePairs(encodePairs(pairs))).toEqual(pairs);
      }),
    );
  });

  it("decodes malformed input as an empty list (like proxy-wasm-cpp-host toPairs)", () => {
    expect(decodePairs(new Uint8Array([1, 0]))).toEqual([]);
    expect(decodePairs(new Uint8Array([5, 0, 0, 0, 1, 0, 0, 0]))).toEqual([]);
    const truncated = encodePairs([["key", "value"]]).slice(0, -3);
    expect(decodePairs(truncated)).toEqual([]);
  });
});

describe("HeaderMap", () => {
  it("lower-cases keys, keeps repeats, returns the first value", () => {
    const m = new HeaderMap([
      ["X-A", "1"],
      ["x-a", "2"],
    ]);
    expect(m.get("x-A")).toBe("1");
    expect(m.getAll("x-a")).toEqual(["1", "2"]);
    expect(m.size).toBe(2);
  });

  it("set replaces every entry (and adds when absent); remove of an absent key is fine", () => {
    const m = new HeaderMap({ a: ["1", "2"], b: "3" });
    m.set("a", "9");
    m.set("c", "4");
    m.remove("zzz");
    expect(m.toPairs()).toEqual([
      ["b", "3"],
      ["a", "9"],
      ["c", "4"],
    ]);
  });

  it("keeps pseudo-headers before regular ones", () => {
    const m = new HeaderMap({ a: "1" });
    m.add(":path", "/");
    expect(m.toPairs()[0]).toEqual([":path", "/"]);
  });
});

describe("header host functions", () => {
  it("get/add/replace/remove/set pairs/size with Envoy's statuses", async () => {
    const seen: Record<string, unknown> = {};
    const { host } = await testHost({
      proxy_on_request_headers: (g) => {
        const out = g.slot(8);
        const [k, kl] = g.put("X-Multi");
        seen.first = [g.call("proxy_get_header_map_value", MapType.RequestHeaders, k, kl, out, out + 4), g.text(out, out + 4)];
        const [m, ml] = g.put("missing");
        seen.missing = g.call("proxy_get_header_map_value", MapType.RequestHeaders, m, ml, out, out + 4);
        const [v, vl] = g.put("new");
        seen.replaceAbsent = g.call("proxy_replace_header_map_value", MapType.RequestHeaders, m, ml, v, vl);
        const [r, rl] = g.put("nothing-here");
        seen.removeAbsent = g.call("proxy_remove_header_map_value", MapType.RequestHeaders, r, rl);
        const [a, al] = g.put("X-Added");
        seen.add = g.call("proxy_add_header_map_value", MapType.RequestHeaders, a, al, v, vl);
        seen.badType = g.call("proxy_get_header_map_value", 8, k, kl, out, out + 4);
        seen.respHeadersNow = g.call("proxy_add_header_map_value", MapType.ResponseHeaders, a, al, v, vl);
        seen.callHeadersNow = g.call("proxy_get_header_map_value", MapType.HttpCallResponseHeaders, k, kl, out, out + 4);
        const size = g.slot(4);
        seen.size = [g.call("proxy_get_header_map_size", MapType.RequestHeaders, size), g.u32(size)];
        seen.pairs = g.call("proxy_get_header_map_pairs", MapType.RequestHeaders, out, out + 4);
        seen.decoded = decodePairs(g.result(out, out + 4));
        return 0;
      },
      proxy_on_request_body: (g) => {
        // After headers continued, Envoy no longer holds the request header map.
        const out = g.slot(8);
        const [k, kl] = g.put("x-multi");
        seen.afterContinue = g.call("proxy_get_header_map_value", MapType.RequestHeaders, k, kl, out, out + 4);
        seen.pairsAfter = [g.call("proxy_get_header_map_pairs", MapType.RequestHeaders, out, out + 4), g.u32(out), g.u32(out + 4)];
        return 0;
      },
      proxy_on_response_headers: (g) => {
        const [p, pl] = g.put(encodePairs([[":status", "201"], ["X-Set", "1"]]));
        seen.setPairs = g.call("proxy_set_header_map_pairs", MapType.ResponseHeaders, p, pl);
        return 0;
      },
    });
    const res = await host.request({
      headers: [
        ["x-multi", "one"],
        ["x-multi", "two"],
      ],
      body: "b",
    });
    expect(seen.first).toEqual([WasmResult.Ok, "one"]);
    expect(seen.missing).toBe(WasmResult.NotFound);
    expect(seen.replaceAbsent).toBe(WasmResult.Ok);
    expect(seen.removeAbsent).toBe(WasmResult.Ok);
    expect(seen.add).toBe(WasmResult.Ok);
    expect(seen.badType).toBe(WasmResult.BadArgument);
    expect(seen.respHeadersNow).toBe(WasmResult.BadArgument);
    expect(seen.callHeadersNow).toBe(WasmResult.BadArgument);
    expect(seen.afterContinue).toBe(WasmResult.BadArgument);
    expect(seen.pairsAfter).toEqual([WasmResult.Ok, 0, 0]);
    expect(seen.setPairs).toBe(WasmResult.Ok);
    expect((seen.decoded as Array<[string, string]>).slice(-2)).toEqual([
      ["missing", "new"],
      ["x-added", "new"],
    ]);
    expect(res.request?.headers.getAll("x-multi")).toEqual(["one", "two"]);
    expect(res.request?.headers.get("missing")).toBe("new");
    expect(res.response.status).toBe(201);
    expect(res.response.headers.get("x-set")).toBe("1");
    expect(res.response.headers.size).toBe(2);
  });
});
