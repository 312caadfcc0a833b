/**
 * The virtual clock. Nothing in the harness reads the wall clock: `proxy_get_current_time_nanoseconds`,
 * WASI clocks, tick timers and http-call timeouts all follow this clock, which moves only when a
 * test calls `advance(ms)`. Events due at the same instant fire in the order they were scheduled.
 */
import { WasmResult } from "./abi.js";
import type { GuestMemory } from "./memory.js";

export interface ClockEvent {
  readonly dueMs: number;
  readonly seq: number;
  readonly label: string;
  cancelled: boolean;
  fire(): void;
}

export class VirtualClock {
  private events: ClockEvent[] = [];
  private seq = 0;
  private readonly startMs: number;

  constructor(public nowMs: number) {
    this.startMs = nowMs;
  }

  /** Wall-clock time in nanoseconds since the epoch. */
  nowNs(): bigint {
    return BigInt(Math.round(this.nowMs * 1e6));
  }

  /** Monotonic time in nanoseconds (starts at 1 s so that it is never 0). */
  monotonicNs(): bigint {
    return BigInt(Math.round((this.nowMs - this.startMs) * 1e6)) + 1_000_000_000n;
  }

  schedule(dueMs: number, label: string, fire: () => void): ClockEvent {
    const ev: ClockEvent = { dueMs, seq: this.seq++, label, cancelled: false, fire };
    this.events.push(ev);
    return ev;
  }

  cancel(ev: ClockEvent | undefined): void {
    if (ev) ev.cancelled = true;
  }

  /** The next live event due at or before `limitMs`, removed from the queue. */
  private takeNext(limitMs: number): ClockEvent | undefined {
    this.events = this.events.filter((e) => !e.cancelled);
    let best: ClockEvent | undefined;
    for (const e of this.events) {
      if (e.dueMs > limitMs) continue;
      if (!best || e.dueMs < best.dueMs || (e.dueMs === best.dueMs && e.seq < best.seq)) best = e;
    }
    if (best) this.events = this.events.filter((e) => e !== best);
    return best;
  }

  /**
   * Moves time forward by `ms`, firing every due event in time order; `settle` runs after each
   * event so that asynchronous work it started (http-call answers, queue deliveries) completes
   * before the next event.
   */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const target = this.nowMs + ms;
    await settle();
    for (;;) {
      const ev = this.takeNext(target);
      if (!ev) break;
      this.nowMs = Math.max(this.nowMs, ev.dueMs);
      ev.fire();
      await settle();
    }
    this.nowMs = target;
  }

  /** Labels of pending events (for debugging). */
  pending(): Array<{ dueMs: number; label: string }> {
    return this.events.filter((e) => !e.cancelled).map((e) => ({ dueMs: e.dueMs, label: e.label }));
  }
}

/** `proxy_set_tick_period_milliseconds` and `proxy_get_current_time_nanoseconds`. */
/** What the timer imports need from the VM that links them. */
export interface TimerVm {
  readonly mem: GuestMemory;
  readonly core: { readonly clock: VirtualClock };
  activeRoot(): { readonly id: number };
  setTickPeriod(rootId: number, periodMs: number): void;
}

export function timerImports(vm: TimerVm): Record<string, (...args: number[]) => number> {
  return {
    proxy_set_tick_period_milliseconds(ms) {
      vm.setTickPeriod(vm.activeRoot().id, ms >>> 0);
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds(ptr) {
      return vm.mem.setU64(ptr, vm.core.clock.nowNs()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}
