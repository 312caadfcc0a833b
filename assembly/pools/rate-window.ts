// Sliding one-second window of event times: admits at most `limit` events in any 1000 ms. The
// scrape budget of a pool (scrapes per second) is held with it, so pacing jitter (ticks, a
// lease handover, an immediate unfiltered retry) can never exceed the budget.

export class RateWindow {
  private times: StaticArray<i64>;
  /** Index of the oldest recorded time. */
  private head: i32 = 0;
  private count: i32 = 0;

  constructor(public limit: i32) {
    this.times = new StaticArray<i64>(limit > 0 ? limit : 1);
  }

  /** Records an event at `nowMs` if fewer than `limit` happened in the last 1000 ms. */
  admit(nowMs: i64): bool {
    let cap = this.times.length;
    if (this.count < cap) {
      unchecked((this.times[(this.head + this.count) % cap] = nowMs));
      this.count++;
      return true;
    }
    if (nowMs - unchecked(this.times[this.head]) < 1000) return false;
    unchecked((this.times[this.head] = nowMs));
    this.head = (this.head + 1) % cap;
    return true;
  }

  /** Forgets the event admit() just recorded (it did not happen after all). */
  undo(): void {
    let cap = this.times.length;
    if (this.count < cap) {
      if (this.count > 0) this.count--;
      return;
    }
    // Full ring: the last admit overwrote the oldest slot and moved head past it; step back
    // and make that slot "long ago" so it admits again.
    this.head = (this.head + cap - 1) % cap;
    unchecked((this.times[this.head] = i64.MIN_VALUE / 2));
  }
}
