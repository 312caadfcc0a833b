/** Virtual clock: ticks per root context, ordering across VMs, clocks follow it. */
import { describe, expect, it } from "vitest";
import { SharedState } from "../../src/index.js";
import { testHost } from "./helpers/test-module.js";

describe("ticks", () => {
  it("fire in time order across VMs and two hosts, and the clocks follow virtual time", async () => {
    const start = Date.UTC(2026, 0, 1);
    const fired: string[] = [];
    const shared = new SharedState();
    const mk = (name: string, period: number, workers: number) =>
      testHost(
        {
          proxy_on_vm_start: (g) => {
            g.call("proxy_set_tick_period_milliseconds", period);
            return 1;
          },
          proxy_on_tick: (g, root) => {
            const out = g.slot(8);
            g.call("proxy_get_current_time_nanoseconds", out);
            fired.push(`${name}:${root}@${Number(g.u64(out) / 1_000_000n) - start}`);
          },
        },
        { workers, shared, now: start },
      );
    const a = await mk("a", 300, 2);
    const b = await mk("b", 200, 1);
    // Hosts have separate clocks; drive them in lock step like one Envoy process would.
    await a.host.advance(650);
    await b.host.advance(650);
    // Each host ticks on its main thread's VM and on each worker's VM (the canary never ticks).
    expect(fired).toEqual(["a:1@300", "a:1@300", "a:1@300", "a:1@600", "a:1@600", "a:1@600", "b:1@200", "b:1@200", "b:1@400", "b:1@400", "b:1@600", "b:1@600"]);
    expect(a.host.now).toBe(start + 650);
  });

  it("a period change re-arms the timer; 0 stops it", async () => {
    let ticks = 0;
    const { host } = await testHost(
      {
        proxy_on_vm_start: (g) => (g.call("proxy_set_tick_period_milliseconds", 100), 1),
        proxy_on_tick: (g) => {
          ticks++;
          if (ticks === 2) g.call("proxy_set_tick_period_milliseconds", 1000);
          if (ticks === 3) g.call("proxy_set_tick_period_milliseconds", 0);
        },
      },
      // About one VM's timer: the main thread's VM would tick on the same counter.
      { mainThread: false },
    );
    await host.advance(250);
    expect(ticks).toBe(2);
    await host.advance(949); // the re-armed tick is due at 200 + 1000
    expect(ticks).toBe(2);
    await host.advance(1);
    expect(ticks).toBe(3);
    await host.advance(10_000);
    expect(ticks).toBe(3);
  });

  it("WASI clock_time_get follows the virtual clock (realtime and monotonic)", async () => {
    const extra = ['(import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))', '(export "wasi_clock" (func $clock))'];
    const { host, guest } = await testHost({}, { now: 1_000 }, { imports: ["proxy_log"], extraImportLines: extra });
    const g = guest();
    const clock = (id: number) => {
      const out = g.slot(8);
      const st = (host.worker(0).vm.instance!.exports["wasi_clock"] as (a: number, b: bigint, c: number) => number)(id, 0n, out);
      return [st, g.u64(out)];
    };
    expect(clock(0)).toEqual([0, 1_000_000_000n]);
    const [, mono1] = clock(1);
    await host.advance(1500);
    expect(clock(0)).toEqual([0, 2_500_000_000n]);
    expect(clock(1)[1]! - mono1!).toBe(1_500_000_000n);
    expect(clock(2)[0]).toBe(58);
  });
});
