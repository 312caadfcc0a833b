/** Bad pointers, lengths and enum values return Envoy's status codes; allocation rules. */
import { describe, expect, it } from "vitest";
import { BufferType, MapType, WasmResult } from "../../src/index.js";
import { testHost } from "./helpers/test-module.js";

const OOB = 0x7fff_fff0;

describe("out-of-range arguments never throw into the caller", () => {
  it("returns InvalidMemoryAccess / BadArgument like proxy-wasm-cpp-host", async () => {
    const r: Record<string, number> = {};
    const { host } = await testHost({
      proxy_on_request_headers: (g) => {
        const out = g.slot(8);
        const [k, kl] = g.put("k");
        r.logBadPtr = g.call("proxy_log", 2, OOB, 10);
        r.logBadLevel = g.call("proxy_log", 6, k, kl);
        r.getValueBadKey = g.call("proxy_get_header_map_value", MapType.RequestHeaders, OOB, 4, out, out + 4);
        r.getValueBadType = g.call("proxy_get_header_map_value", 99, k, kl, out, out + 4);
        r.addBadValue = g.call("proxy_add_header_map_value", MapType.RequestHeaders, k, kl, OOB, 1);
        r.pairsBadOut = g.call("proxy_get_header_map_pairs", MapType.RequestHeaders, OOB, OOB);
        r.bufferBadType = g.call("proxy_get_buffer_bytes", 9, 0, 10, out, out + 4);
        r.setBufferBadData = g.call("proxy_set_buffer_bytes", BufferType.HttpRequestBody, 0, 0, OOB, 8);
        r.propertyBadPath = g.call("proxy_get_property", OOB, 3, out, out + 4);
        r.sharedBadKey = g.call("proxy_set_shared_data", OOB, 3, k, kl, 0);
        r.sharedBadCasPtr = (g.call("proxy_set_shared_data", k, kl, k, kl, 0), g.call("proxy_get_shared_data", k, kl, out, out + 4, OOB));
        r.timeBadPtr = g.call("proxy_get_current_time_nanoseconds", OOB);
        r.continueBadType = g.call("proxy_continue_stream", 7);
        r.closeBadType = g.call("proxy_close_stream", 4);
        r.localReplyBadBody = g.call("proxy_send_local_response", 200, 0, 0, OOB, 5, 0, 0, -1);
        r.effectiveUnknown = g.call("proxy_set_effective_context", 999);
        r.metricBadType = g.call("proxy_define_metric", 3, k, kl, out);
        r.httpCallBadToken = g.call("proxy_http_call", k, kl, 0, 0, 0, 0, 0, 0, 1000, OOB);
        r.foreignBadName = g.call("proxy_call_foreign_function", OOB, 4, 0, 0, out, out + 4);
        r.queueBadName = g.call("proxy_register_shared_queue", OOB, 2, out);
        r.logLevelBadPtr = g.call("proxy_get_log_level", OOB);
        return 0;
      },
    });
    const res = await host.request({ headers: { a: "b" } });
    expect(r).toEqual({
      logBadPtr: WasmResult.InvalidMemoryAccess,
      logBadLevel: WasmResult.BadArgument,
      getValueBadKey: WasmResult.InvalidMemoryAccess,
      getValueBadType: WasmResult.BadArgument,
      addBadValue: WasmResult.InvalidMemoryAccess,
      pairsBadOut: WasmResult.InvalidMemoryAccess,
      bufferBadType: WasmResult.BadArgument,
      setBufferBadData: WasmResult.InvalidMemoryAccess,
      propertyBadPath: WasmResult.InvalidMemoryAccess,
      sharedBadKey: WasmResult.InvalidMemoryAccess,
      sharedBadCasPtr: WasmResult.InvalidMemoryAccess,
      timeBadPtr: WasmResult.InvalidMemoryAccess,
      continueBadType: WasmResult.BadArgument,
      closeBadType: WasmResult.BadArgument,
      localReplyBadBody: WasmResult.InvalidMemoryAccess,
      effectiveUnknown: WasmResult.BadArgument,
      metricBadType: WasmResult.BadArgument,
      httpCallBadToken: WasmResult.InvalidMemoryAccess,
      foreignBadName: WasmResult.InvalidMemoryAccess,
      queueBadName: WasmResult.InvalidMemoryAccess,
      logLevelBadPtr: WasmResult.InvalidMemoryAccess,
    });
    expect(host.traps).toEqual([]);
    expect(res.response.status).toBe(200);
  });
});

describe("allocation", () => {
  it("never asks the guest for 0 bytes: empty results are ptr 0 / len 0", async () => {
    const r: Record<string, unknown> = {};
    const { host, guest } = await testHost(
      {
        proxy_on_request_headers: (g) => {
          const out = g.slot(8);
          const [k, kl] = g.put("empty");
          g.call("proxy_set_shared_data", k, kl, 0, 0, 0);
          const cas = g.slot(4);
          r.shared = [g.call("proxy_get_shared_data", k, kl, out, out + 4, cas), g.u32(out), g.u32(out + 4)];
          const [h, hl] = g.put("x-empty");
          r.header = [g.call("proxy_get_header_map_value", MapType.RequestHeaders, h, hl, out, out + 4), g.u32(out), g.u32(out + 4)];
          const before = g.slot(8);
          r.body = [g.call("proxy_get_buffer_bytes", BufferType.HttpRequestBody, 0, 100, before, before + 4), g.u32(before), g.u32(before + 4)];
          r.vmConfig = g.call("proxy_get_buffer_bytes", BufferType.VmConfiguration, 0, 100, out, out + 4);
          return 0;
        },
      },
      {},
      { allocator: "both" },
    );
    await host.request({ headers: { "x-empty": "" } });
    expect(r.shared).toEqual([WasmResult.Ok, 0, 0]);
    expect(r.header).toEqual([WasmResult.Ok, 0, 0]);
    expect(r.body).toEqual([WasmResult.Ok, 0, 0]);
    expect(r.vmConfig).toBe(WasmResult.Ok);
    expect(guest().global("zero_allocs")).toBe(0);
    expect(guest().global("allocs") + guest().global("pom_allocs")).toBe(0);
  });

  it("uses malloc when exported, proxy_on_memory_allocate otherwise", async () => {
    const hook = {
      proxy_on_request_headers: (g: import("./helpers/test-module.js").Guest) => {
        const out = g.slot(8);
        g.call("proxy_get_header_map_pairs", MapType.RequestHeaders, out, out + 4);
        return 0;
      },
    };
    const onlyAllocate = await testHost(hook, {}, { allocator: "proxy_on_memory_allocate" });
    await onlyAllocate.host.request({ headers: { a: "b" } });
    expect(onlyAllocate.guest().global("pom_allocs")).toBe(1);
    const both = await testHost(hook, {}, { allocator: "both" });
    await both.host.request({ headers: { a: "b" } });
    expect(both.guest().global("allocs")).toBe(1);
    expect(both.guest().global("pom_allocs")).toBe(0);
  });
});
