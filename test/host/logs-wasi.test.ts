/** Logs (levels, threshold, stdout/stderr) and the WASI subset Envoy links. */
import { describe, expect, it } from "vitest";
import { WasmResult } from "../../src/index.js";
import { testHost } from "./helpers/test-module.js";

const WASI = [
  '(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))',
  '(import "wasi_unstable" "fd_write" (func $fd_write_u (param i32 i32 i32 i32) (result i32)))',
  '(import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))',
  '(import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))',
  '(import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))',
  '(import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))',
  '(import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))',
  '(import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))',
  '(import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))',
  '(import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))',
  '(export "fd_write" (func $fd_write))',
  '(export "fd_write_u" (func $fd_write_u))',
  '(export "fd_read" (func $fd_read))',
  '(export "fd_fdstat_get" (func $fd_fdstat_get))',
  '(export "fd_prestat_get" (func $fd_prestat_get))',
  '(export "environ_sizes_get" (func $environ_sizes_get))',
  '(export "args_sizes_get" (func $args_sizes_get))',
  '(export "random_get" (func $random_get))',
  '(export "proc_exit" (func $proc_exit))',
  '(export "sched_yield" (func $sched_yield))',
];

describe("logs", () => {
  it("captures levels with context ids; drops lines below the threshold; reports the level", async () => {
    const levels: number[] = [];
    const { host } = await testHost(
      {
        proxy_on_request_headers: (g) => {
          for (let level = 0; level <= 5; level++) {
            const [p, l] = g.put(`line ${level}`);
            g.call("proxy_log", level, p, l);
          }
          const out = g.slot(4);
          g.call("proxy_get_log_level", out);
          levels.push(g.u32(out));
          return 0;
        },
      },
      { logLevel: "warn" },
    );
    const res = await host.request();
    expect(levels).toEqual([3]);
    expect(host.logs.lines()).toEqual(["warn: line 3", "error: line 4", "critical: line 5"]);
    expect(res.logs.map((l) => [l.level, l.contextId, l.streamId, l.worker])).toEqual([
      ["warn", 2, 2, 0],
      ["error", 2, 2, 0],
      ["critical", 2, 2, 0],
    ]);
  });
});

describe("log retention", () => {
  it("keeps the newest maxLogEntries entries and counts the dropped ones", async () => {
    const { host } = await testHost(
      {
        proxy_on_request_headers: (g) => {
          for (let i = 0; i < 5; i++) {
            const [p, l] = g.put(`n${i}`);
            g.call("proxy_log", 2, p, l);
          }
          return 0;
        },
      },
      { maxLogEntries: 3 },
    );
    const res = await host.request();
    expect(host.logs.messages()).toEqual(["n2", "n3", "n4"]);
    expect(host.logs.dropped).toBe(2);
    expect(res.logs).toHaveLength(5);
  });
});

describe("WASI", () => {
  it("fd_write goes to the logs (fd 1 info, fd 2 error) and to stdout/stderr; other fds are EBADF", async () => {
    const { host, guest } = await testHost({}, { logLevel: "trace" }, { imports: ["proxy_log"], extraImportLines: WASI });
    const g = guest();
    const ex = host.worker(0).vm.instance!.exports as Record<string, (...a: number[]) => number>;
    const write = (fn: string, fd: number, text: string) => {
      const [p, l] = g.put(text);
      const iov = g.slot(8);
      new DataView((ex["memory"] as unknown as WebAssembly.Memory).buffer).setUint32(iov, p, true);
      new DataView((ex["memory"] as unknown as WebAssembly.Memory).buffer).setUint32(iov + 4, l, true);
      const n = g.slot(4);
      return [ex[fn]!(fd, iov, 1, n), g.u32(n)];
    };
    expect(write("fd_write", 1, "hello\n")).toEqual([0, 6]);
    expect(write("fd_write_u", 2, "oops")).toEqual([0, 4]);
    expect(write("fd_write", 3, "x")).toEqual([8, 0]);
    expect(host.stdout).toBe("hello\n");
    expect(host.stderr).toBe("oops");
    expect(host.logs.entries.map((e) => [e.level, e.message, e.source])).toEqual([
      ["info", "hello", "stdout"],
      ["error", "oops", "stderr"],
    ]);
    const out = g.slot(24);
    expect(ex["fd_read"]!(0, out, 1, out)).toBe(52);
    expect(ex["fd_fdstat_get"]!(1, out)).toBe(0);
    expect(ex["fd_fdstat_get"]!(0, out)).toBe(8);
    expect(ex["fd_prestat_get"]!(3, out)).toBe(8);
    expect([ex["environ_sizes_get"]!(out, out + 4), g.u32(out), g.u32(out + 4)]).toEqual([0, 0, 0]);
    expect([ex["args_sizes_get"]!(out, out + 4), g.u32(out), g.u32(out + 4)]).toEqual([0, 0, 0]);
    expect(ex["sched_yield"]!()).toBe(0);
  });

  it("random_get uses the configured source; proc_exit ends the VM like a trap", async () => {
    const { host, guest } = await testHost(
      { proxy_on_tick: () => -99 },
      { random: (b) => b.fill(0xab) },
      { imports: ["proxy_log"], extraImportLines: WASI },
    );
    const g = guest();
    const ex = host.worker(0).vm.instance!.exports as Record<string, (...a: number[]) => number>;
    const out = g.slot(8);
    expect(ex["random_get"]!(out, 4)).toBe(0);
    expect([...g.read(out, 4)]).toEqual([0xab, 0xab, 0xab, 0xab]);
    expect(ex["random_get"]!(0x7ffffff0, 4)).toBe(21);
    expect(() => ex["proc_exit"]!(3)).toThrow(/proc_exit\(3\)/);
    expect(WasmResult.Ok).toBe(0);
  });
});
