/**
 * The WASI subset Envoy links (proxy-wasm-cpp-host), under both `wasi_snapshot_preview1` and
 * `wasi_unstable`: fd_write (fd 1 -> info log, fd 2 -> error log, trailing newline dropped; both
 * also captured as stdout/stderr), fd_read (ENOSYS), fd_seek/fd_close (no-op success, as Envoy),
 * fd_fdstat_get (stdout/stderr only), fd_fdstat_set_flags (ENOSYS), fd_prestat_get (EBADF: no
 * preopened directories), fd_prestat_dir_name (ENOSYS), environ_* and args_* (empty),
 * clock_time_get (realtime and monotonic follow the virtual clock; others ENOTSUP), random_get,
 * proc_exit, sched_yield and poll_oneoff. Anything else is a link error, as in Envoy.
 */
import { randomFillSync } from "node:crypto";
import { fromUtf8, type GuestMemory } from "./memory.js";
import type { VirtualClock } from "./timers.js";

export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

const ESUCCESS = 0;
const EBADF = 8;
const EFAULT = 21;
const ENOSYS = 52;
const ENOTSUP = 58;

/** Thrown by `proc_exit`; the VM treats it as the module stopping (a trap), except a clean exit during `_start`. */
export class ProcExit extends Error {
  constructor(readonly exitCode: number) {
    super(`proc_exit(${exitCode})`);
  }
}

/** What the WASI imports need from the VM that links them. */
export interface WasiVm {
  readonly mem: GuestMemory;
  readonly core: { readonly clock: VirtualClock; readonly random?: (buf: Uint8Array) => void };
  writeStdio(which: "stdout" | "stderr", raw: string): void;
}

export function wasiImports(vm: WasiVm): Record<string, (...args: never[]) => number | void> {
  const mem = vm.mem;
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
      if (fd !== 1 && fd !== 2) return EBADF;
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const base = mem.getU32(iovs + i * 8);
        const len = mem.getU32(iovs + i * 8 + 4);
        if (base === null || len === null) return EFAULT;
        if (len === 0) continue;
        const chunk = mem.read(base, len);
        if (chunk === null) return EFAULT;
        parts.push(chunk);
        total += len;
      }
      if (total > 0) {
        const joined = new Uint8Array(total);
        let off = 0;
        for (const p of parts) {
          joined.set(p, off);
          off += p.length;
        }
        vm.writeStdio(fd === 1 ? "stdout" : "stderr", fromUtf8(joined));
      }
      return mem.setU32(nwrittenPtr, total) ? ESUCCESS : EFAULT;
    },
    fd_read(): number {
      return ENOSYS;
    },
    fd_seek(): number {
      return ESUCCESS;
    },
    fd_close(): number {
      return ESUCCESS;
    },
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd !== 1 && fd !== 2) return EBADF;
      const stat = new Uint8Array(24);
      new DataView(stat.buffer).setBigUint64(8, 64n, true); // fs_rights_base = FD_WRITE
      return mem.write(statPtr, stat) ? ESUCCESS : EFAULT;
    },
    fd_fdstat_set_flags(): number {
      return ENOSYS;
    },
    fd_prestat_get(): number {
      return EBADF;
    },
    fd_prestat_dir_name(): number {
      return ENOSYS;
    },
    environ_get(): number {
      return ESUCCESS;
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      return mem.setU32(countPtr, 0) && mem.setU32(sizePtr, 0) ? ESUCCESS : EFAULT;
    },
    args_get(): number {
      return ESUCCESS;
    },
    args_sizes_get(countPtr: number, sizePtr: number): number {
      return mem.setU32(countPtr, 0) && mem.setU32(sizePtr, 0) ? ESUCCESS : EFAULT;
    },
    clock_time_get(clockId: number, _precision: bigint, resultPtr: number): number {
      let t: bigint;
      if (clockId === 0) t = vm.core.clock.nowNs();
      else if (clockId === 1) t = vm.core.clock.monotonicNs();
      else return ENOTSUP;
      return mem.setU64(resultPtr, t) ? ESUCCESS : EFAULT;
    },
    random_get(bufPtr: number, bufLen: number): number {
      const bytes = new Uint8Array(bufLen >>> 0);
      if (vm.core.random) vm.core.random(bytes);
      else randomFillSync(bytes);
      return mem.write(bufPtr, bytes) ? ESUCCESS : EFAULT;
    },
    proc_exit(code: number): void {
      throw new ProcExit(code);
    },
    sched_yield(): number {
      return ESUCCESS;
    },
    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): number {
      // Every subscription completes at once (clock subscriptions do not wait for the virtual clock).
      for (let i = 0; i < nsubs; i++) {
        const sub = mem.read(inPtr + i * 48, 48);
        if (sub === null) return EFAULT;
        const event = new Uint8Array(32);
        event.set(sub.subarray(0, 8), 0); // userdata
        event[10] = sub[8]!; // type (after u16 errno)
        if (!mem.write(outPtr + i * 32, event)) return EFAULT;
      }
      return mem.setU32(neventsPtr, nsubs) ? ESUCCESS : EFAULT;
    },
  };
}
