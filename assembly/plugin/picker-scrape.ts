// Off-request-path refresh of one pool, run on the root context's tick: exactly one worker VM
// holds a lease in shared data and scrapes every endpoint's /metrics with proxy_http_call (and
// fetches the endpoint feed); it publishes the results to shared data for every worker. When the
// holder stops renewing (its VM died), the lease lapses and the next worker to tick takes over.
import {
  BufferType, HeaderPair, LogLevel, MapType, Status, getBufferBytes, getHeader, getSharedDataBytes, httpCall,
  setSharedDataBytes,
} from "../../proxy-wasm/index";
import { Endpoint } from "../endpoints/endpoint";
import { EngineMetrics, metricNames, readEngineMetricsBytes } from "../metrics/engines";
import { RateWindow } from "../pools/rate-window";
import { filteredPath } from "../metrics/name-filter";
import { parseDecimal } from "../metrics/number";
import { SteeringMode } from "../pools/config";
import { parseEndpointFeed } from "../pools/feed";
import { Lease, decodeLease, encodeLease } from "../pools/state";
import { PoolRuntime } from "../pools/runtime";
import { PickerMetric, PickerMetrics } from "./picker-metrics";
import { PoolShared } from "./picker-shared";
import { logWarn, logDebug, logEnabled, logInfo } from "./log";
import { lastIndexOfChar } from "../util/last-index-of-char";
import { replaceFirst } from "../util/replace-first";

/** Largest endpoint-feed body read. */
const MAX_BODY: usize = 1 << 20;

/** Request headers of a GET of `path` from `authority` (scrapes and the endpoint feed). */
function getHeaders(path: string, authority: string, accept: string): HeaderPair[] {
  return [
    new HeaderPair(":method", "GET"),
    new HeaderPair(":path", path),
    new HeaderPair(":authority", authority),
    new HeaderPair("accept", accept),
  ];
}

export class PoolScraper {
  private lease: Lease = new Lease();
  /** The lease's shared-data key, encoded once (read on every tick). */
  private leaseKey: ArrayBuffer;
  /** http_call token → endpoint key (scrapes) or "" (feed). */
  private tokens: Map<u32, string> = new Map<u32, string>();
  private outstanding: i32 = 0;
  /** Reused for every page read (its adapter lists are handed to the endpoint, never reused). */
  private result: EngineMetrics = new EngineMetrics();
  // The sets below are Maps of the instantiation PoolRuntime's `byKey` already brings (values
  // unused): a Set<string> would add another hash table's code to the module (about 0.6 KB).
  /** Keys of endpoints with a scrape in flight (never two at once for one endpoint). */
  private pending: Map<string, i32> = new Map<string, i32>();
  /**
   * Keys of endpoints whose scrape in flight was sent with `?name[]=` filters (one scrape per
   * endpoint at a time, so the key names the call; keyed by key, not by token, it reuses the
   * string map's code).
   */
  private filteredKeys: Map<string, i32> = new Map<string, i32>();
  /** Endpoints whose server answered a filtered scrape with none of the wanted series. */
  private unfiltered: Map<string, i32> = new Map<string, i32>();
  private filteredPath: string = "";
  // Pacing: scrapes started since paceFromMs; the next endpoint in round-robin order.
  private paceFromMs: i64 = 0;
  private started: i64 = 0;
  private cursor: i32 = 0;
  private window: RateWindow;
  private effectiveFor: i32 = -1;
  private effectiveMs: i64 = 0;
  private baseStalenessMs: i64;
  /** Appended to the explanation header: the effective scrape interval and why. */
  explainSuffix: string = "";
  private lastFeedMs: i64 = -1_000_000_000;
  private feedToken: u32 = 0;
  holding: bool = false;

  constructor(
    public rt: PoolRuntime,
    public shared: PoolShared,
    public metrics: PickerMetrics,
    public vmToken: u32,
  ) {
    this.window = new RateWindow(<i32>rt.config.scrape.budgetPerSecond);
    this.leaseKey = shared.keyBytes("lease");
    this.baseStalenessMs = rt.config.saturation.metricsStalenessMs;
  }

  /** Takes or renews the lease; true when this VM is the scraper now. */
  private acquire(nowMs: i64): bool {
    let key = this.leaseKey;
    let cur = getSharedDataBytes(key);
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
    let st = setSharedDataBytes(key, encodeLease(l), cas);
    this.holding = st == Status.Ok;
    return this.holding;
  }

  /**
   * The interval each endpoint is scraped at: the configured one, stretched so the pool stays
   * within its scrape budget (endpoints / budgetPerSecond). Saturation's staleness bound is
   * stretched by the same factor, so a large pool does not look stale by construction.
   * Recomputed when the endpoint count changes.
   */
  effectiveIntervalMs(): i64 {
    let n = this.rt.endpoints.length;
    if (n == this.effectiveFor) return this.effectiveMs;
    let s = this.rt.config.scrape;
    let byBudget = (<i64>n * 1000 + s.budgetPerSecond - 1) / s.budgetPerSecond;
    let eff = byBudget > s.intervalMs ? byBudget : s.intervalMs;
    this.effectiveFor = n;
    this.effectiveMs = eff;
    let base = this.baseStalenessMs;
    let stretched = base * eff / s.intervalMs;
    this.rt.config.saturation.metricsStalenessMs = stretched > base ? stretched : base;
    // Between scrapes spaced out by the budget, in-flight counts carry the queue signal.
    this.rt.ctx.carryInFlight = eff > s.intervalMs;
    this.explainSuffix = " | scrape every " + eff.toString() + " ms (" + n.toString() + " endpoints, budget " + s.budgetPerSecond.toString() + "/s)";
    this.metrics.set(PickerMetric.ScrapeIntervalMs, <u64>eff);
    return eff;
  }

  /**
   * The tick period this pool's refresh needs on this VM. The lease holder: the configured
   * interval, or when the budget stretches the effective interval, a quarter of that (each tick
   * starts about a quarter of the pool's scrapes, so fewer ticks carry the same scrape rate and
   * a scrape starts at most a quarter interval late), at most four configured intervals apart,
   * and within half the lease (renewal) and the feed interval. Any other VM: half the lease, to
   * take it over soon after its holder stops renewing; its requests read the shared state.
   */
  tickMs(): i64 {
    let cfg = this.rt.config;
    let feed = cfg.feed;
    if (!cfg.scrape.enabled && feed == null) return 0;
    let ms = cfg.scrape.leaseMs / 2; // leaseMs >= 100
    if (!this.holding) return ms;
    if (cfg.scrape.enabled) {
      let base = cfg.scrape.intervalMs;
      ms = min(ms, min(max(this.effectiveIntervalMs() / 4, base), 4 * base));
    }
    return feed != null ? min(ms, feed.intervalMs) : ms;
  }

  onTick(nowMs: i64): void {
    let cfg = this.rt.config;
    let needScrape = cfg.scrape.enabled;
    let needFeed = cfg.feed != null;
    if (!needScrape && !needFeed) return;
    let held = this.holding;
    if (!this.acquire(nowMs)) return;
    if (needScrape) {
      if (!held) {
        // Pacing starts afresh with the lease: no burst to "catch up" a previous holder's rounds.
        this.paceFromMs = nowMs;
        this.started = 0;
      }
      this.startDue(nowMs);
    }
    let feed = cfg.feed;
    if (feed != null && this.feedToken == 0 && nowMs - this.lastFeedMs >= feed.intervalMs) {
      this.lastFeedMs = nowMs;
      let headers = getHeaders(feed.path, feed.authority.length > 0 ? feed.authority : feed.cluster, "application/json");
      let t = httpCall(feed.cluster, headers, new ArrayBuffer(0), [], <u32>feed.timeoutMs);
      if (t == 0) {
        this.metrics.inc(PickerMetric.FeedErrors);
      } else {
        this.feedToken = t;
      }
    }
  }

  /**
   * Starts the scrapes that are due: one per endpoint per effective interval, spread evenly
   * over it (round robin), never more than budgetPerSecond in any one-second window.
   */
  private startDue(nowMs: i64): void {
    let eps = this.rt.endpoints;
    let n = eps.length;
    if (n == 0) return;
    let eff = this.effectiveIntervalMs();
    let due = (nowMs - this.paceFromMs) * <i64>n / eff + 1;
    if (due - this.started > <i64>n) this.started = due - <i64>n; // at most one round behind
    let tries = 0;
    while (this.started < due && tries < n) {
      if (!this.window.admit(nowMs)) return;
      tries++;
      if (this.cursor >= n) this.cursor = 0;
      let i = this.cursor++;
      this.started++;
      let key = eps[i].key;
      if (this.pending.has(key)) {
        this.window.undo();
        continue; // the previous scrape of this endpoint is still out
      }
      if (!this.scrape(i)) this.window.undo();
    }
  }

  private clusterFor(e: Endpoint): string {
    let s = this.rt.config.scrape;
    if (e.metricsCluster.length > 0) return e.metricsCluster;
    if (s.clusterTemplate.length > 0) {
      let ip = e.address;
      let port = "";
      let colon = lastIndexOfChar(e.address, 0x3a /* : */);
      if (colon > 0) {
        ip = e.address.substring(0, colon);
        port = e.address.substring(colon + 1);
        if (ip.startsWith("[")) ip = ip.substring(1, ip.length - 1);
      }
      let t = replaceFirst(s.clusterTemplate, "{backend}", e.backend);
      t = replaceFirst(t, "{address}", e.address);
      return replaceFirst(replaceFirst(t, "{ip}", ip), "{port}", port);
    }
    return s.cluster;
  }

  /** Path of a scrape of endpoint `key`: with `?name[]=` filters unless its server ignored them. */
  private pathFor(key: string): string {
    let s = this.rt.config.scrape;
    if (!s.nameFilter || this.unfiltered.has(key)) return s.path;
    if (this.filteredPath.length == 0) this.filteredPath = filteredPath(s.path, metricNames(s.engine));
    return this.filteredPath;
  }

  /** Sends one scrape of endpoint i; false when the host refused the call. */
  private scrape(i: i32): bool {
    let cfg = this.rt.config;
    let e = this.rt.endpoints[i];
    let cluster = this.clusterFor(e);
    if (cluster.length == 0) return false;
    let path = this.pathFor(e.key);
    let headers = getHeaders(path, cfg.scrape.authority.length > 0 ? cfg.scrape.authority : (e.address.length > 0 ? e.address : e.backend), "text/plain");
    // One shared cluster (endpoint mode): the destination header selects the endpoint.
    if (e.metricsCluster.length == 0 && cfg.scrape.clusterTemplate.length == 0 && cfg.mode == SteeringMode.Endpoint) {
      headers.push(new HeaderPair(cfg.steeringHeader, e.address));
    }
    let t = httpCall(cluster, headers, new ArrayBuffer(0), [], <u32>cfg.scrape.timeoutMs);
    if (t == 0) {
      this.metrics.inc(PickerMetric.ScrapeErrors);
      return false;
    }
    this.tokens.set(t, e.key);
    if (path.length != cfg.scrape.path.length) this.filteredKeys.set(e.key, 0);
    this.pending.set(e.key, 0);
    this.outstanding++;
    return true;
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
    let filtered = this.filteredKeys.has(key);
    if (filtered) this.filteredKeys.delete(key);
    this.pending.delete(key);
    this.outstanding--;
    let e = this.rt.find(key);
    if (e >= 0) this.onScrape(e, headerCount, bodySize, nowMs, filtered);
    return true;
  }

  private status(headerCount: u32): i32 {
    if (headerCount == 0) return 0;
    // The first ":status" value (one host call, not the whole header map).
    let s = getHeader(MapType.HttpCallResponseHeaders, ":status");
    if (s == null) return 0;
    // Exactly three digits, 100-999, else 0 (no trapping on a hostile ":status"; not parseInt,
    // which also takes signs, spaces and hex and brings its own parser into the module).
    // (Blanks trimmed leave at most two digits: below 100, so 0 as well.)
    if (s.length != 3) return 0;
    let v = <i32>parseDecimal(s, 3);
    return v >= 100 ? v : 0;
  }

  private onScrape(e: i32, headerCount: u32, bodySize: usize, nowMs: i64, filtered: bool): void {
    let st = this.status(headerCount);
    let ep = this.rt.endpoints[e];
    if (st != 200) {
      // A failed scrape (error status, timeout, reset) keeps the previous values: they age
      // into staleness.
      this.metrics.inc(PickerMetric.ScrapeErrors);
      if (this.rt.config.scrape.countFailuresAsUnhealthy && st == 0) {
        if (this.shared.updateHealth(e, true, nowMs)) this.metrics.inc(PickerMetric.Ejections);
      }
      return;
    }
    if (bodySize > <usize>this.rt.config.scrape.maxBodyBytes) {
      // Cut at the read cap: never published in part.
      this.metrics.inc(PickerMetric.ScrapeTruncated);
      return;
    }
    // An empty 200 is a valid sample that reports nothing: every value becomes unknown.
    let body = bodySize > 0 ? getBufferBytes(BufferType.HttpCallResponseBody, 0, bodySize) : null;
    if (bodySize > 0 && (body == null || <usize>body.byteLength != bodySize)) {
      this.metrics.inc(PickerMetric.ScrapeErrors);
      return;
    }
    let m = body != null
      ? readEngineMetricsBytes(changetype<usize>(body), body.byteLength, ep.engine, this.result)
      : readEngineMetricsBytes(0, 0, ep.engine, this.result);
    if (filtered && m.samples == 0) {
      // Asked for the wanted series by name and got none: the server did not honour the filter
      // properly (prometheus_client in multiprocess mode answers a filtered request with an
      // empty page). Not a sample: this endpoint is scraped unfiltered from now on, at once.
      this.unfiltered.set(ep.key, 0);
      this.metrics.inc(PickerMetric.ScrapeUnfiltered);
      logInfo("pool " + this.rt.config.name + ": endpoint " + ep.key + " ignores ?name[]= filters; scraping it unfiltered");
      if (this.window.admit(nowMs) && !this.scrape(e)) this.window.undo();
      return;
    }
    if (m.malformed > 0 || m.cutLine) this.metrics.inc(PickerMetric.Malformed);
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
      this.metrics.inc(PickerMetric.FeedErrors);
      return;
    }
    let text = String.UTF8.decode(body);
    let res = parseEndpointFeed(text, this.rt.config.mode);
    if (!res.ok) {
      this.metrics.inc(PickerMetric.FeedErrors);
      this.metrics.inc(PickerMetric.Malformed);
      logWarn("pool " + this.rt.config.name + ": endpoint feed refused: " + res.error);
      return;
    }
    if (res.skipped > 0) {
      this.metrics.inc(PickerMetric.Malformed);
      logWarn("pool " + this.rt.config.name + ": endpoint feed: skipped " + res.skipped.toString() + " entries, first: " + res.firstSkip);
    }
    this.shared.publishFeed(text);
  }
}
