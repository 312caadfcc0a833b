// Off-request-path refresh of one pool, run on the root context's tick: exactly one worker VM
// holds a lease in shared data and scrapes every endpoint's /metrics with proxy_http_call (and
// fetches the endpoint feed); it publishes the results to shared data for every worker. When the
// holder stops renewing (its VM died), the lease lapses and the next worker to tick takes over.
import {
  BufferType, HeaderPair, LogLevel, MapType, Status, getBufferBytes, getHeaderMapPairs, getSharedData, httpCall,
  setSharedData,
} from "../../proxy-wasm/index";
import { Endpoint } from "../endpoints/endpoint";
import { readEngineMetricsBytes } from "../metrics/engines";
import { SteeringMode } from "../pools/config";
import { parseEndpointFeed } from "../pools/feed";
import { Lease, decodeLease, encodeLease } from "../pools/state";
import { PoolRuntime } from "../pools/runtime";
import { PickerMetrics } from "./picker-metrics";
import { PoolShared } from "./picker-shared";
import { logWarn, logDebug, logEnabled } from "./log";

/** Largest endpoint-feed body read. */
const MAX_BODY: usize = 1 << 20;

export class PoolScraper {
  private lease: Lease = new Lease();
  /** http_call token → endpoint key (scrapes) or "" (feed). */
  private tokens: Map<u32, string> = new Map<u32, string>();
  private outstanding: i32 = 0;
  private lastFeedMs: i64 = -1_000_000_000;
  private feedToken: u32 = 0;
  holding: bool = false;

  constructor(
    public rt: PoolRuntime,
    public shared: PoolShared,
    public metrics: PickerMetrics,
    public vmToken: u32,
  ) {}

  /** Takes or renews the lease; true when this VM is the scraper now. */
  private acquire(nowMs: i64): bool {
    let key = this.shared.key("lease");
    let cur = getSharedData(key);
    let l = this.lease;
    let cas: u32 = 0;
    if (cur != null) {
      cas = cur.cas;
      if (!decodeLease(cur.value, l)) {
        l.holder = 0;
        l.expiresAtMs = 0;
        l.lastRoundMs = 0;
      }
      if (l.holder != this.vmToken && l.expiresAtMs > nowMs) {
        this.holding = false;
        return false;
      }
    } else {
      l.lastRoundMs = 0;
    }
    // logEnabled first: the message is built only when debug lines are kept.
    if (l.holder != this.vmToken && logEnabled(LogLevel.Debug)) {
      logDebug("pool " + this.rt.config.name + ": worker " + this.vmToken.toString() + " takes the scrape lease");
    }
    l.holder = this.vmToken;
    l.expiresAtMs = nowMs + this.rt.config.scrape.leaseMs;
    let st = setSharedData(key, encodeLease(l), cas);
    this.holding = st == Status.Ok;
    return this.holding;
  }

  private writeRound(nowMs: i64): void {
    this.lease.lastRoundMs = nowMs;
    setSharedData(this.shared.key("lease"), encodeLease(this.lease), 0);
  }

  onTick(nowMs: i64): void {
    let cfg = this.rt.config;
    let needScrape = cfg.scrape.enabled;
    let needFeed = cfg.feed != null;
    if (!needScrape && !needFeed) return;
    if (!this.acquire(nowMs)) return;
    if (needScrape && this.outstanding == 0 && nowMs - this.lease.lastRoundMs >= cfg.scrape.intervalMs) {
      this.writeRound(nowMs);
      this.startRound();
    }
    let feed = cfg.feed;
    if (feed != null && this.feedToken == 0 && nowMs - this.lastFeedMs >= feed.intervalMs) {
      this.lastFeedMs = nowMs;
      let headers: HeaderPair[] = [
        new HeaderPair(":method", "GET"),
        new HeaderPair(":path", feed.path),
        new HeaderPair(":authority", feed.authority.length > 0 ? feed.authority : feed.cluster),
        new HeaderPair("accept", "application/json"),
      ];
      let t = httpCall(feed.cluster, headers, new ArrayBuffer(0), [], <u32>feed.timeoutMs);
      if (t == 0) {
        this.metrics.inc(this.metrics.feedErrors);
      } else {
        this.feedToken = t;
      }
    }
  }

  private clusterFor(e: Endpoint): string {
    let s = this.rt.config.scrape;
    if (e.metricsCluster.length > 0) return e.metricsCluster;
    if (s.clusterTemplate.length > 0) {
      let ip = e.address;
      let port = "";
      let colon = e.address.lastIndexOf(":");
      if (colon > 0) {
        ip = e.address.substring(0, colon);
        port = e.address.substring(colon + 1);
        if (ip.startsWith("[")) ip = ip.substring(1, ip.length - 1);
      }
      return s.clusterTemplate.replace("{backend}", e.backend).replace("{address}", e.address).replace("{ip}", ip).replace("{port}", port);
    }
    return s.cluster;
  }

  private startRound(): void {
    let cfg = this.rt.config;
    let eps = this.rt.endpoints;
    for (let i = 0; i < eps.length; i++) {
      let e = eps[i];
      let cluster = this.clusterFor(e);
      if (cluster.length == 0) continue;
      let headers: HeaderPair[] = [
        new HeaderPair(":method", "GET"),
        new HeaderPair(":path", cfg.scrape.path),
        new HeaderPair(":authority", cfg.scrape.authority.length > 0 ? cfg.scrape.authority : (e.address.length > 0 ? e.address : e.backend)),
        new HeaderPair("accept", "text/plain"),
      ];
      // One shared cluster (endpoint mode): the destination header selects the endpoint.
      if (e.metricsCluster.length == 0 && cfg.scrape.clusterTemplate.length == 0 && cfg.mode == SteeringMode.Endpoint) {
        headers.push(new HeaderPair(cfg.steeringHeader, e.address));
      }
      let t = httpCall(cluster, headers, new ArrayBuffer(0), [], <u32>cfg.scrape.timeoutMs);
      if (t == 0) {
        this.metrics.inc(this.metrics.scrapeErrors);
        continue;
      }
      this.tokens.set(t, e.key);
      this.outstanding++;
    }
  }

  /** Handles a call response if the token is ours. */
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, nowMs: i64): bool {
    if (token != 0 && token == this.feedToken) {
      this.feedToken = 0;
      this.onFeed(headerCount, bodySize);
      return true;
    }
    if (!this.tokens.has(token)) return false;
    let key = this.tokens.get(token);
    this.tokens.delete(token);
    this.outstanding--;
    let e = this.rt.find(key);
    if (e >= 0) this.onScrape(e, headerCount, bodySize, nowMs);
    return true;
  }

  private status(headerCount: u32): i32 {
    if (headerCount == 0) return 0;
    let pairs = getHeaderMapPairs(MapType.HttpCallResponseHeaders);
    for (let i = 0; i < pairs.length; i++) {
      if (pairs[i].key == ":status") {
        let v = parseInt(pairs[i].value);
        // Range-check before the float→int conversion (no trapping on a hostile ":status").
        return v >= 100 && v <= 999 ? <i32>v : 0;
      }
    }
    return 0;
  }

  private onScrape(e: i32, headerCount: u32, bodySize: usize, nowMs: i64): void {
    let st = this.status(headerCount);
    let ep = this.rt.endpoints[e];
    if (st != 200) {
      // A failed scrape (error status, timeout, reset) keeps the previous values: they age
      // into staleness.
      this.metrics.inc(this.metrics.scrapeErrors);
      if (this.rt.config.scrape.countFailuresAsUnhealthy && st == 0) {
        if (this.shared.updateHealth(e, true, nowMs)) this.metrics.inc(this.metrics.ejections);
      }
      return;
    }
    if (bodySize > <usize>this.rt.config.scrape.maxBodyBytes) {
      // Cut at the read cap: never published in part.
      this.metrics.inc(this.metrics.scrapeTruncated);
      return;
    }
    // An empty 200 is a valid sample that reports nothing: every value becomes unknown.
    let body = bodySize > 0 ? getBufferBytes(BufferType.HttpCallResponseBody, 0, bodySize) : null;
    if (bodySize > 0 && (body == null || <usize>body.byteLength != bodySize)) {
      this.metrics.inc(this.metrics.scrapeErrors);
      return;
    }
    let m = body != null
      ? readEngineMetricsBytes(changetype<usize>(body), body.byteLength, ep.engine)
      : readEngineMetricsBytes(0, 0, ep.engine);
    if (m.malformed > 0 || m.cutLine) this.metrics.inc(this.metrics.malformed);
    ep.waiting = m.waiting;
    ep.running = m.running;
    ep.kvUsage = m.kvUsage;
    // LoRA state follows the latest sample: no lora series means no adapters, max unknown.
    ep.activeLoras = m.activeLoras;
    ep.waitingLoras = m.waitingLoras;
    ep.maxLora = m.maxLora;
    ep.metricsAtMs = nowMs;
    this.shared.publishEndpoint(e);
  }

  private onFeed(headerCount: u32, bodySize: usize): void {
    let st = this.status(headerCount);
    let body = st == 200 && bodySize > 0 ? getBufferBytes(BufferType.HttpCallResponseBody, 0, bodySize < MAX_BODY ? bodySize : MAX_BODY) : null;
    if (body == null) {
      this.metrics.inc(this.metrics.feedErrors);
      return;
    }
    let text = String.UTF8.decode(body);
    let res = parseEndpointFeed(text, this.rt.config.mode);
    if (!res.ok) {
      this.metrics.inc(this.metrics.feedErrors);
      this.metrics.inc(this.metrics.malformed);
      logWarn("pool " + this.rt.config.name + ": endpoint feed refused: " + res.error);
      return;
    }
    if (res.skipped > 0) {
      this.metrics.inc(this.metrics.malformed);
      logWarn("pool " + this.rt.config.name + ": endpoint feed: skipped " + res.skipped.toString() + " entries, first: " + res.firstSkip);
    }
    this.shared.publishFeed(text);
  }
}
