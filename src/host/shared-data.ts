/**
 * Shared data: a key-value store keyed by (vm_id, key), shared by every VM (worker) with the
 * same vm_id, with compare-and-swap exactly as proxy-wasm-cpp-host `SharedData`:
 * the CAS counter is global and starts at 1; `cas == 0` writes unconditionally; a non-zero cas
 * that differs from the stored one is CasMismatch (8); a write to an absent key always succeeds.
 */
import { WasmResult, type WasmResultCode } from "./abi.js";
import { utf8, type GuestMemory } from "./memory.js";

export interface SharedValue {
  value: Uint8Array;
  cas: number;
}

export class SharedDataStore {
  private readonly data = new Map<string, Map<string, SharedValue>>();
  private nextCas = 1;

  private map(vmId: string): Map<string, SharedValue> {
    let m = this.data.get(vmId);
    if (!m) this.data.set(vmId, (m = new Map()));
    return m;
  }

  private takeCas(): number {
    const cas = this.nextCas;
    this.nextCas = (this.nextCas + 1) >>> 0 || 1;
    return cas;
  }

  get(vmId: string, key: string): SharedValue | undefined {
    return this.data.get(vmId)?.get(key);
  }

  /** `owned`: the caller hands `value` over (a copy made for this call); else it is copied. */
  set(vmId: string, key: string, value: Uint8Array, cas = 0, owned = false): WasmResultCode {
    const m = this.map(vmId);
    const current = m.get(key);
    if (current && cas !== 0 && cas !== current.cas) return WasmResult.CasMismatch;
    m.set(key, { value: owned ? value : value.slice(), cas: this.takeCas() });
    return WasmResult.Ok;
  }

  /** Test convenience: the value as UTF-8 text. */
  getText(vmId: string, key: string): string | undefined {
    const v = this.get(vmId, key);
    return v ? new TextDecoder().decode(v.value) : undefined;
  }

  /** Test convenience: seeds a value (unconditional write). */
  seed(vmId: string, key: string, value: string | Uint8Array): void {
    this.set(vmId, key, typeof value === "string" ? utf8(value) : value, 0);
  }

  keys(vmId: string): string[] {
    return [...(this.data.get(vmId)?.keys() ?? [])];
  }
}

/** What the shared-data imports need from the VM that links them. */
export interface SharedDataVm {
  readonly mem: GuestMemory;
  readonly vmId: string;
  readonly core: { readonly shared: { readonly data: SharedDataStore } };
}

export function sharedDataImports(vm: SharedDataVm): Record<string, (...args: number[]) => number> {
  const mem = vm.mem;
  return {
    proxy_get_shared_data(kp, ks, rp, rs, casPtr) {
      const key = mem.readString(kp, ks);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const entry = vm.core.shared.data.get(vm.vmId, key);
      if (!entry) return WasmResult.NotFound;
      if (!mem.copyOut(entry.value, rp, rs)) return WasmResult.InvalidMemoryAccess;
      return mem.setU32(casPtr, entry.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_shared_data(kp, ks, vp, vs, cas) {
      const key = mem.readString(kp, ks);
      const value = mem.read(vp, vs);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      return vm.core.shared.data.set(vm.vmId, key, value, cas >>> 0, true); // mem.read copied it
    },
  };
}
