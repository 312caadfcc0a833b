/**
 * Shared queues, keyed by (vm_id, name) across every VM of every host sharing a
 * {@link SharedState}, like proxy-wasm-cpp-host `SharedQueue`. Registering an existing name
 * returns the same token and moves delivery to the new registrant. After an enqueue the
 * registering root context gets `proxy_on_queue_ready(root_id, token)`, asynchronously (Envoy
 * posts it to the registrant's worker).
 */
import { WasmResult, type WasmResultCode } from "./abi.js";
import type { GuestMemory } from "./memory.js";

/** Who receives queue-ready notifications. */
export interface QueueOwner {
  notifyQueueReady(token: number): void;
}

interface Queue {
  vmId: string;
  name: string;
  token: number;
  items: Uint8Array[];
  owner: QueueOwner;
}

export class SharedQueueRegistry {
  private readonly byKey = new Map<string, Queue>();
  private readonly byToken = new Map<number, Queue>();
  private nextToken = 1;

  register(vmId: string, name: string, owner: QueueOwner): number {
    const key = `${vmId}\u0000${name}`;
    const existing = this.byKey.get(key);
    if (existing) {
      existing.owner = owner;
      return existing.token;
    }
    const token = this.nextToken++;
    const q: Queue = { vmId, name, token, items: [], owner };
    this.byKey.set(key, q);
    this.byToken.set(token, q);
    return token;
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.byKey.get(`${vmId}\u0000${name}`)?.token;
  }

  enqueue(token: number, data: Uint8Array): WasmResultCode {
    const q = this.byToken.get(token);
    if (!q) return WasmResult.NotFound;
    q.items.push(data.slice());
    q.owner.notifyQueueReady(token);
    return WasmResult.Ok;
  }

  dequeue(token: number): { status: WasmResultCode; data?: Uint8Array } {
    const q = this.byToken.get(token);
    if (!q) return { status: WasmResult.NotFound };
    const data = q.items.shift();
    if (!data) return { status: WasmResult.Empty };
    return { status: WasmResult.Ok, data };
  }

  /** Test convenience: items currently queued under (vmId, name). */
  peek(vmId: string, name: string): Uint8Array[] {
    return [...(this.byKey.get(`${vmId}\u0000${name}`)?.items ?? [])];
  }

  size(vmId: string, name: string): number {
    return this.byKey.get(`${vmId}\u0000${name}`)?.items.length ?? 0;
  }
}

/** What the shared-queue imports need from the VM that links them. */
export interface SharedQueueVm {
  readonly mem: GuestMemory;
  readonly vmId: string;
  readonly core: { readonly shared: { readonly queues: SharedQueueRegistry } };
  activeRoot(): { readonly id: number };
  scheduleQueueReady(rootId: number, token: number): void;
}

export function sharedQueueImports(vm: SharedQueueVm): Record<string, (...args: number[]) => number> {
  const mem = vm.mem;
  const queues = () => vm.core.shared.queues;
  return {
    proxy_register_shared_queue(np, ns, tokenPtr) {
      const name = mem.readString(np, ns);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      const rootId = vm.activeRoot().id;
      const token = queues().register(vm.vmId, name, {
        notifyQueueReady: (t) => vm.scheduleQueueReady(rootId, t),
      });
      return mem.setU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vp, vs, np, ns, tokenPtr) {
      const vmId = mem.readString(vp, vs);
      const name = mem.readString(np, ns);
      if (vmId === null || name === null) return WasmResult.InvalidMemoryAccess;
      const token = queues().resolve(vmId, name);
      if (token === undefined) return WasmResult.NotFound;
      return mem.setU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token, dp, ds) {
      const data = mem.read(dp, ds);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      return queues().enqueue(token >>> 0, data);
    },
    proxy_dequeue_shared_queue(token, rp, rs) {
      const r = queues().dequeue(token >>> 0);
      if (r.status !== WasmResult.Ok) return r.status;
      return mem.copyOut(r.data!, rp, rs) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}
