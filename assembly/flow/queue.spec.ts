import { FlowBand, FlowControlConfig } from "./config";
import { FlowEntry, FlowQueue, Offer } from "./queue";

function band(name: string, min: i32, max: i32, maxRequests: i32 = 100, maxBytes: i64 = 1 << 20): FlowBand {
  let b = new FlowBand();
  b.name = name;
  b.minPriority = min;
  b.maxPriority = max;
  b.maxRequests = maxRequests;
  b.maxBytes = maxBytes;
  return b;
}

/** Bands high (1..), standard (0), low (..-1); maxWait 1000 ms. */
function config(cap: i32 = 100, bytes: i64 = 1 << 20): FlowControlConfig {
  let c = new FlowControlConfig();
  c.bands = [band("high", 1, 1000, cap, bytes), band("standard", 0, 0, cap, bytes), band("low", -1000, -1, cap, bytes)];
  c.maxWaitMs = 1000;
  return c;
}

/** One offer: stream id, band, flow. */
class In {
  constructor(public id: u32, public band: i32, public flow: string) {}
}

class OrderCase {
  constructor(public name: string, public offers: In[], public want: u32[]) {}
}

const ORDER: OrderCase[] = [
  new OrderCase("FIFO within one flow", [new In(1, 1, "a"), new In(2, 1, "a"), new In(3, 1, "a")], [1, 2, 3]),
  new OrderCase("strict priority across bands", [new In(1, 2, "a"), new In(2, 1, "a"), new In(3, 0, "a"), new In(4, 2, "a")], [3, 2, 1, 4]),
  new OrderCase("round-robin across flows", [new In(1, 1, "a"), new In(2, 1, "a"), new In(3, 1, "a"), new In(4, 1, "b"), new In(5, 1, "c")], [1, 4, 5, 2, 3]),
  new OrderCase("priority, then fairness, then FIFO", [
    new In(1, 1, "a"), new In(2, 1, "a"), new In(3, 1, "b"), new In(4, 0, "z"), new In(5, 2, "a"), new In(6, 0, "z"),
  ], [4, 6, 1, 3, 2, 5]),
  new OrderCase("a burst of one flow does not starve another", [
    new In(1, 1, "burst"), new In(2, 1, "burst"), new In(3, 1, "burst"), new In(4, 1, "burst"), new In(5, 1, "quiet"),
  ], [1, 5, 2, 3, 4]),
];

function drain(q: FlowQueue): u32[] {
  let out: u32[] = [];
  while (q.length > 0) {
    let p = q.peek()!;
    let e = q.pop()!;
    expect(e.id).toBe(p.id);
    out.push(e.id);
  }
  return out;
}

function same(a: u32[], b: u32[]): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

function show(a: u32[]): string {
  let s = "";
  for (let i = 0; i < a.length; i++) s += (i > 0 ? "," : "") + a[i].toString();
  return s;
}

describe("flow queue", () => {
  it("dispatches by priority, then round-robin across flows, then FIFO", () => {
    for (let i = 0; i < ORDER.length; i++) {
      let t = ORDER[i];
      let q = new FlowQueue(config());
      for (let k = 0; k < t.offers.length; k++) {
        let o = t.offers[k];
        expect(q.offer(o.id, o.band, o.flow, 0, 0)).toBe(Offer.Queued, t.name);
      }
      let got = drain(q);
      expect(same(got, t.want)).toBe(true, t.name + ": got " + show(got));
      expect(q.peek()).toBeNull(t.name);
      expect(q.pop()).toBeNull(t.name);
    }
  });

  it("a flow that joins mid-round takes its turn before the round starts over", () => {
    let q = new FlowQueue(config());
    q.offer(1, 1, "a", 0, 0);
    q.offer(2, 1, "b", 0, 0);
    q.offer(3, 1, "a", 0, 0);
    expect(q.pop()!.id).toBe(1); // a; next: b
    q.offer(4, 1, "c", 0, 0);
    expect(same(drain(q), [2, 4, 3])).toBe(true);
  });

  it("never holds more than a band's request cap, whatever the rate", () => {
    let q = new FlowQueue(config(3));
    let queued = 0;
    for (let i: u32 = 1; i <= 50; i++) {
      let r = q.offer(i, 1, i % 2 == 0 ? "a" : "b", 0, 0);
      if (r == Offer.Queued) queued++;
      else expect(r).toBe(Offer.FullRequests);
      expect(q.bandLength(1)).toBeLessThanOrEqual(3);
      if (i % 7 == 0) q.pop();
    }
    expect(q.bandLength(1)).toBe(3);
    // Another band has its own cap.
    expect(q.offer(100, 0, "a", 0, 0)).toBe(Offer.Queued);
    expect(queued).toBe(3 + 7);
  });

  it("caps a band's bytes", () => {
    let q = new FlowQueue(config(100, 1000));
    expect(q.offer(1, 1, "a", 600, 0)).toBe(Offer.Queued);
    expect(q.offer(2, 1, "a", 401, 0)).toBe(Offer.FullBytes);
    expect(q.offer(3, 1, "a", 400, 0)).toBe(Offer.Queued);
    expect(q.bandBytes(1)).toBe(1000);
    q.pop();
    expect(q.bandBytes(1)).toBe(400);
    expect(q.offer(4, 1, "b", 600, 0)).toBe(Offer.Queued);
    // Negative sizes (a bogus content-length) count as 0.
    expect(q.offer(5, 1, "b", -5, 0)).toBe(Offer.Queued);
    expect(q.bandBytes(1)).toBe(1000);
  });

  it("expires entries that waited maxWaitMs, oldest first, and keeps the others in order", () => {
    let q = new FlowQueue(config());
    q.offer(1, 1, "a", 10, 0);
    q.offer(2, 1, "b", 10, 100);
    q.offer(3, 2, "a", 10, 50);
    q.offer(4, 1, "a", 10, 600);
    let out: FlowEntry[] = [];
    expect(q.expire(999, out)).toBe(0);
    expect(q.expire(1100, out)).toBe(3);
    expect(out[0].id).toBe(1);
    expect(out[1].id).toBe(3);
    expect(out[2].id).toBe(2);
    expect(q.length).toBe(1);
    expect(q.bandBytes(1)).toBe(10);
    expect(q.pop()!.id).toBe(4);
  });

  it("removes a stream whose client left, keeping the round intact", () => {
    let q = new FlowQueue(config());
    q.offer(1, 1, "a", 0, 0);
    q.offer(2, 1, "b", 0, 0);
    q.offer(3, 1, "c", 0, 0);
    q.offer(4, 1, "a", 0, 0);
    expect(q.pop()!.id).toBe(1); // next: b
    expect(q.remove(2)!.id).toBe(2);
    expect(q.remove(2)).toBeNull();
    expect(q.remove(99)).toBeNull();
    expect(same(drain(q), [3, 4])).toBe(true);
  });

  it("tells whether a newcomer would overtake a waiting request", () => {
    let q = new FlowQueue(config());
    expect(q.waitingAtOrAbove(2)).toBe(false);
    q.offer(1, 1, "a", 0, 0);
    expect(q.waitingAtOrAbove(0)).toBe(false);
    expect(q.waitingAtOrAbove(1)).toBe(true);
    expect(q.waitingAtOrAbove(2)).toBe(true);
  });

  it("takes a later flow's turn when asked (fairness across workers) and continues the round after it", () => {
    let q = new FlowQueue(config());
    q.offer(1, 1, "a", 0, 0);
    q.offer(2, 1, "b", 0, 0);
    q.offer(3, 1, "c", 0, 0);
    q.offer(4, 1, "b", 0, 0);
    q.offer(5, 2, "z", 0, 0);
    expect(q.firstBand()).toBe(1);
    expect(q.flowCount(1)).toBe(3);
    expect(q.flowInTurn(1, 0)).toBe("a");
    expect(q.flowInTurn(1, 1)).toBe("b");
    expect(q.flowInTurn(1, 4)).toBe("b");
    // b's turn taken out of order: the round goes on with c, then a (which kept its turn).
    expect(q.popTurn(1, 1).id).toBe(2);
    expect(q.flowInTurn(1, 0)).toBe("c");
    // c empties: the round goes on with the flow after it (a).
    expect(q.popTurn(1, 0).id).toBe(3);
    expect(same(drain(q), [1, 4, 5])).toBe(true);
    expect(q.firstBand()).toBe(-1);
  });
});
