/** Shared data CAS semantics and shared queues across VMs. */
import { describe, expect, it } from "vitest";
import { SharedDataStore, SharedState, WasmResult } from "../../src/index.js";
import { testHost, type Guest } from "./helpers/test-module.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("SharedDataStore", () => {
  it("CAS starts at 1, grows globally across keys, cas 0 is unconditional, stale cas is CasMismatch", () => {
    const s = new SharedDataStore();
    expect(s.get("vm", "a")).toBeUndefined();
    expect(s.set("vm", "a", enc("1"), 12345)).toBe(WasmResult.Ok); // absent key: cas ignored
    expect(s.get("vm", "a")!.cas).toBe(1);
    expect(s.set("vm", "b", enc("x"))).toBe(WasmResult.Ok);
    expect(s.get("vm", "b")!.cas).toBe(2);
    expect(s.set("vm", "a", enc("2"), 1)).toBe(WasmResult.Ok);
    expect(s.get("vm", "a")!.cas).toBe(3);
    expect(s.set("vm", "a", enc("3"), 1)).toBe(WasmResult.CasMismatch);
    expect(s.getText("vm", "a")).toBe("2");
    expect(s.set("vm", "a", enc("4"), 0)).toBe(WasmResult.Ok);
    expect(s.getText("vm", "a")).toBe("4");
    expect(s.get("other-vm", "a")).toBeUndefined();
  });
});

function setShared(g: Guest, key: string, value: string, cas: number): number {
  const [k, kl] = g.put(key);
  const [v, vl] = g.put(value);
  return g.call("proxy_set_shared_data", k, kl, v, vl, cas);
}

function getShared(g: Guest, key: string): [number, string, number] {
  const [k, kl] = g.put(key);
  const out = g.slot(8);
  const cas = g.slot(4);
  const st = g.call("proxy_get_shared_data", k, kl, out, out + 4, cas);
  return [st, st === 0 ? g.text(out, out + 4) : "", g.u32(cas)];
}

describe("shared data host functions", () => {
  it("two workers share one store keyed by vm_id", async () => {
    const seen: unknown[] = [];
    const { host } = await testHost(
      {
        proxy_on_request_headers: (g) => {
          const [st, value, cas] = getShared(g, "k");
          seen.push([st, value, cas]);
          seen.push(setShared(g, "k", value + "x", st === WasmResult.NotFound ? 0 : cas));
          seen.push(setShared(g, "k", "stale", 99)); // a cas that was never handed out
          return 0;
        },
      },
      { workers: 2, vmId: "v" },
    );
    await host.request({ worker: 0 });
    await host.request({ worker: 1 });
    expect(seen).toEqual([[WasmResult.NotFound, "", 0], 0, WasmResult.CasMismatch, [0, "x", 1], 0, WasmResult.CasMismatch]);
    expect(host.sharedData.getText("v", "k")).toBe("xx");
  });
});

describe("shared queues", () => {
  it("keyed by (vm_id, name); enqueue from another VM notifies the registering root context once per item", async () => {
    const shared = new SharedState();
    const dequeued: string[] = [];
    let token = 0;
    const receiver = await testHost(
      {
        proxy_on_vm_start: (g) => {
          const [n, nl] = g.put("q");
          const out = g.slot(4);
          expect(g.call("proxy_register_shared_queue", n, nl, out)).toBe(0);
          token = g.u32(out);
          return 1;
        },
        proxy_on_queue_ready: (g, root, t) => {
          const out = g.slot(8);
          const st = g.call("proxy_dequeue_shared_queue", t, out, out + 4);
          dequeued.push(`${root}:${t}:${st}:${st === 0 ? g.text(out, out + 4) : ""}`);
        },
      },
      { vmId: "receiver", shared },
    );
    const statuses: number[] = [];
    const sender = await testHost(
      {
        proxy_on_request_headers: (g) => {
          const [v, vl] = g.put("receiver");
          const [n, nl] = g.put("q");
          const out = g.slot(4);
          statuses.push(g.call("proxy_resolve_shared_queue", v, vl, n, nl, out));
          const t = g.u32(out);
          const [d1, d1l] = g.put("one");
          const [d2, d2l] = g.put("two");
          statuses.push(g.call("proxy_enqueue_shared_queue", t, d1, d1l), g.call("proxy_enqueue_shared_queue", t, d2, d2l));
          const [wrong, wl] = g.put("sender");
          statuses.push(g.call("proxy_resolve_shared_queue", wrong, wl, n, nl, out));
          statuses.push(g.call("proxy_enqueue_shared_queue", 999, d1, d1l));
          const o2 = g.slot(8);
          statuses.push(g.call("proxy_dequeue_shared_queue", 999, o2, o2 + 4));
          return 0;
        },
      },
      { vmId: "sender", shared },
    );
    await sender.host.request();
    // Delivery is asynchronous: nothing yet inside the request.
    await sender.host.settle();
    expect(token).toBe(1);
    expect(statuses).toEqual([0, 0, 0, WasmResult.NotFound, WasmResult.NotFound, WasmResult.NotFound]);
    expect(dequeued).toEqual(["1:1:0:one", "1:1:0:two"]);
    expect(receiver.host.sharedQueues.size("receiver", "q")).toBe(0);
  });

  it("dequeue of an empty queue is Empty (7)", async () => {
    let st = -1;
    await testHost({
      proxy_on_vm_start: (g) => {
        const [n, nl] = g.put("q");
        const out = g.slot(8);
        g.call("proxy_register_shared_queue", n, nl, out);
        st = g.call("proxy_dequeue_shared_queue", g.u32(out), out, out + 4);
        return 1;
      },
    });
    expect(st).toBe(WasmResult.Empty);
  });
});

describe("onHostCall", () => {
  it("reports every host function the VM calls, by name, with its wall time", async () => {
    const reported: Array<[string, number]> = [];
    const { host } = await testHost(
      {
        proxy_on_request_headers: (g) => {
          setShared(g, "k", "v", 0);
          getShared(g, "k");
          return 0;
        },
      },
      { onHostCall: (name, ms) => reported.push([name, ms]) },
    );
    reported.length = 0;
    await host.request();
    const names = reported.map(([n]) => n);
    expect(names.filter((n) => n === "proxy_set_shared_data")).toHaveLength(1);
    expect(names.filter((n) => n === "proxy_get_shared_data")).toHaveLength(1);
    for (const [, ms] of reported) expect(ms).toBeGreaterThanOrEqual(0);
    expect(host.sharedData.getText("", "k")).toBe("v");
  });
});
