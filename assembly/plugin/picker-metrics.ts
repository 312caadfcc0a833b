// Envoy metrics of the endpoint picker (proxy_define_metric), per pool. Per-endpoint pick
// counters are defined on first use and cached, so a feed that adds endpoints needs no restart.
import { MetricType, Status, defineMetric, incrementMetric, recordMetric, lastHostStatus } from "../../proxy-wasm/index";

/** `s` as a metric-name part: letters, digits, `_` and `-` kept, anything else `_`. */
export function metricName(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    let ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 45;
    out += ok ? String.fromCharCode(c) : "_";
  }
  return out;
}

export class PickerMetrics {
  private base: string;
  picks: u32 = 0;
  sheds: u32 = 0;
  unavailable: u32 = 0;
  failOpen: u32 = 0;
  scrapeErrors: u32 = 0;
  scrapeTruncated: u32 = 0;
  scrapeUnfiltered: u32 = 0;
  scrapeIntervalMs: u32 = 0;
  staleEndpoints: u32 = 0;
  ejections: u32 = 0;
  malformed: u32 = 0;
  feedErrors: u32 = 0;
  spoofedHeaders: u32 = 0;
  fallbackServed: u32 = 0;
  ok: bool = true;
  /** Metric id by endpoint key (i32 values: the endpoint index map's instance, no second one). */
  private perEndpoint: Map<string, i32> = new Map<string, i32>();

  constructor(pool: string) {
    this.base = "wayroute_picker_" + metricName(pool) + "_";
  }

  private def(type: MetricType, name: string): u32 {
    let id = defineMetric(type, this.base + name);
    if (lastHostStatus() != Status.Ok) this.ok = false;
    return id;
  }

  define(): void {
    this.picks = this.def(MetricType.Counter, "picks_total");
    this.sheds = this.def(MetricType.Counter, "shed_total");
    this.unavailable = this.def(MetricType.Counter, "unavailable_total");
    this.failOpen = this.def(MetricType.Counter, "fail_open_total");
    this.scrapeErrors = this.def(MetricType.Counter, "scrape_errors_total");
    this.scrapeTruncated = this.def(MetricType.Counter, "scrape_truncated_total");
    this.scrapeUnfiltered = this.def(MetricType.Counter, "scrape_filter_ignored_total");
    this.scrapeIntervalMs = this.def(MetricType.Gauge, "scrape_effective_interval_ms");
    this.staleEndpoints = this.def(MetricType.Gauge, "stale_endpoints");
    this.ejections = this.def(MetricType.Counter, "ejections_total");
    this.malformed = this.def(MetricType.Counter, "malformed_inputs_total");
    this.feedErrors = this.def(MetricType.Counter, "feed_errors_total");
    this.spoofedHeaders = this.def(MetricType.Counter, "spoofed_headers_removed_total");
    this.fallbackServed = this.def(MetricType.Counter, "fallback_served_total");
  }

  inc(id: u32): void {
    if (this.ok) incrementMetric(id, 1);
  }

  set(id: u32, v: u64): void {
    if (this.ok) recordMetric(id, v);
  }

  /** Counts a pick of endpoint `key`. */
  picked(key: string): void {
    if (!this.ok) return;
    incrementMetric(this.picks, 1);
    let id: u32 = 0;
    if (this.perEndpoint.has(key)) {
      id = <u32>this.perEndpoint.get(key);
    } else {
      id = defineMetric(MetricType.Counter, this.base + "endpoint_" + metricName(key) + "_picks_total");
      if (lastHostStatus() != Status.Ok) return;
      this.perEndpoint.set(key, <i32>id);
    }
    incrementMetric(id, 1);
  }
}
