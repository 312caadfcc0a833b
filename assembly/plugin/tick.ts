// The root context's tick period follows the work this VM has: fast on the VM holding a pool's
// scrape lease or with streams waiting in a flow queue, slow otherwise (a worker reads shared
// state on its request path; its tick only watches the lease and replays the journal). During a
// tick every duty says the period it needs (wantTickEvery); the root settles on the shortest.
//
// Envoy (wasm.cc Wasm::setTickPeriod) disables the timer and arms a new one `period` from now on
// every call, the same period included: setting it on every tick would push the next tick out.
// So the period is set only when it changes. 0 stops ticks.
import { setTickPeriodMilliseconds } from "../../proxy-wasm/index";

let periodMs: i64 = 0;
let wantedMs: i64 = 0;

function setPeriod(ms: i64): void {
  if (ms == periodMs) return;
  periodMs = ms;
  setTickPeriodMilliseconds(<u32>ms);
}

/** This tick's duties need a tick at least every `ms` (ignored when <= 0). */
export function wantTickEvery(ms: i64): void {
  if (ms > 0 && (wantedMs == 0 || ms < wantedMs)) wantedMs = ms;
}

/** End of a tick: the period becomes the shortest one wanted during it (0: none). */
export function settleTick(): void {
  setPeriod(wantedMs);
  wantedMs = 0;
}

/** Outside a tick (configure, a stream queued): ticks at least every `ms` from now on. */
export function tickAtLeastEvery(ms: i64): void {
  if (ms > 0 && (periodMs == 0 || ms < periodMs)) setPeriod(ms);
}
