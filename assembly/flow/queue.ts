// The flow-control queue of one worker: requests waiting at their headers for pool capacity.
// Order: strict priority across bands (band 0 first), round-robin across flows within a band,
// FIFO within a flow. Hard caps: a band never holds more than its maxRequests entries or
// maxBytes bytes, whatever the offer rate. Pure: ids are the host's stream context ids, times
// are passed in.
//
// Sizes are bounded by the caps (hundreds), so removal by id is a linear scan: no index to keep
// in step, and no allocation besides the entry itself.
import { FlowControlConfig } from "./config";
import { removeAt } from "../util/remove-at";

export class FlowEntry {
  constructor(
    /** The stream's context id. */
    public id: u32,
    public band: i32,
    public flow: string,
    /** Request bytes counted against the band's maxBytes (content-length; 0 when unknown). */
    public bytes: i64,
    public enqueuedMs: i64,
  ) {}
}

export enum Offer {
  Queued = 0,
  /** The band already holds maxRequests entries. */
  FullRequests = 1,
  /** The entry's bytes would take the band past maxBytes. */
  FullBytes = 2,
}

class Flow {
  items: FlowEntry[] = [];
  constructor(public key: string) {}
}

class Band {
  /** Flows with at least one entry, in round-robin order. */
  flows: Flow[] = [];
  /** Index in `flows` of the flow served next. */
  cursor: i32 = 0;
  count: i32 = 0;
  bytes: i64 = 0;
}

export class FlowQueue {
  private bands: Band[] = [];
  private total: i32 = 0;

  constructor(public config: FlowControlConfig) {
    for (let i = 0; i < config.bands.length; i++) this.bands.push(new Band());
  }

  get length(): i32 {
    return this.total;
  }

  bandLength(band: i32): i32 {
    return this.bands[band].count;
  }

  bandBytes(band: i32): i64 {
    return this.bands[band].bytes;
  }

  /** Whether an entry waits in `band` or a higher one: a newcomer of `band` must not overtake it. */
  waitingAtOrAbove(band: i32): bool {
    for (let i = 0; i <= band && i < this.bands.length; i++) if (this.bands[i].count > 0) return true;
    return false;
  }

  /** Queues a request unless that would take its band past a cap. */
  offer(id: u32, band: i32, flow: string, bytes: i64, nowMs: i64): Offer {
    let b = this.bands[band];
    let cfg = this.config.bands[band];
    if (b.count >= cfg.maxRequests) return Offer.FullRequests;
    if (bytes < 0) bytes = 0;
    if (b.bytes + bytes > cfg.maxBytes) return Offer.FullBytes;
    let f: Flow | null = null;
    for (let i = 0; i < b.flows.length; i++) {
      if (b.flows[i].key == flow) {
        f = b.flows[i];
        break;
      }
    }
    if (f == null) {
      f = new Flow(flow);
      // A new flow joins at the end of the round: flows already waiting go first.
      b.flows.push(f);
    }
    f.items.push(new FlowEntry(id, band, flow, bytes, nowMs));
    b.count++;
    b.bytes += bytes;
    this.total++;
    return Offer.Queued;
  }

  /** The highest band with an entry waiting; -1 when empty. */
  firstBand(): i32 {
    for (let i = 0; i < this.bands.length; i++) if (this.bands[i].count > 0) return i;
    return -1;
  }

  /** Flows with entries waiting in `band`. */
  flowCount(band: i32): i32 {
    return this.bands[band].flows.length;
  }

  /** Key of the flow `k` turns after the one whose turn it is in `band` (0: that one). */
  flowInTurn(band: i32, k: i32): string {
    let b = this.bands[band];
    return b.flows[(b.cursor + k) % b.flows.length].key;
  }

  /**
   * Takes the first entry of the flow `k` turns on in `band`; the round continues after that
   * flow (the flows it skipped keep their turn next time round).
   */
  popTurn(band: i32, k: i32): FlowEntry {
    let b = this.bands[band];
    let fi = (b.cursor + k) % b.flows.length;
    let f = b.flows[fi];
    let e = f.items.shift();
    this.took(b, e);
    if (f.items.length == 0) {
      removeAt(b.flows, fi);
      // The next flow slid into position fi.
      b.cursor = fi < b.flows.length ? fi : 0;
    } else {
      b.cursor = fi + 1 < b.flows.length ? fi + 1 : 0;
    }
    return e;
  }

  /** The entry dispatched next, without taking it; null when empty. */
  peek(): FlowEntry | null {
    for (let i = 0; i < this.bands.length; i++) {
      let b = this.bands[i];
      if (b.count == 0) continue;
      return b.flows[b.cursor].items[0];
    }
    return null;
  }

  /** Takes the entry dispatched next and moves its band's round on to the next flow. */
  pop(): FlowEntry | null {
    let band = this.firstBand();
    return band < 0 ? null : this.popTurn(band, 0);
  }

  /** Removes the entry of stream `id` (its client left); null when it is not queued. */
  remove(id: u32): FlowEntry | null {
    for (let i = 0; i < this.bands.length; i++) {
      let b = this.bands[i];
      for (let fi = 0; fi < b.flows.length; fi++) {
        let f = b.flows[fi];
        for (let k = 0; k < f.items.length; k++) {
          let e = f.items[k];
          if (e.id != id) continue;
          removeAt(f.items, k);
          this.took(b, e);
          if (f.items.length == 0) this.dropFlow(b, fi);
          return e;
        }
      }
    }
    return null;
  }

  /**
   * Takes every entry that has waited `maxWaitMs` or longer at `nowMs` into `out` (cleared
   * first); returns how many.
   */
  expire(nowMs: i64, out: FlowEntry[]): i32 {
    out.length = 0;
    let ttl = this.config.maxWaitMs;
    for (let i = 0; i < this.bands.length; i++) {
      let b = this.bands[i];
      if (b.count == 0) continue;
      for (let fi = b.flows.length - 1; fi >= 0; fi--) {
        let f = b.flows[fi];
        for (let k = f.items.length - 1; k >= 0; k--) {
          let e = f.items[k];
          if (nowMs - e.enqueuedMs < ttl) continue;
          removeAt(f.items, k);
          this.took(b, e);
          out.push(e);
        }
        if (f.items.length == 0) this.dropFlow(b, fi);
      }
    }
    // Oldest first, as they would have been served.
    out.sort((a: FlowEntry, b: FlowEntry): i32 => a.enqueuedMs < b.enqueuedMs ? -1 : a.enqueuedMs > b.enqueuedMs ? 1 : 0);
    return out.length;
  }

  private took(b: Band, e: FlowEntry): void {
    b.count--;
    b.bytes -= e.bytes;
    this.total--;
  }

  private dropFlow(b: Band, fi: i32): void {
    removeAt(b.flows, fi);
    if (fi < b.cursor) b.cursor--;
    if (b.cursor >= b.flows.length) b.cursor = 0;
  }
}
