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

/** The picker's metrics of one pool, by index into PickerMetrics' ids (names: METRIC_NAMES). */
export enum PickerMetric {
  Picks,
  Sheds,
  Unavailable,
  FailOpen,
  ScrapeErrors,
  ScrapeTruncated,
  ScrapeUnfiltered,
  /** Gauge. */
  ScrapeIntervalMs,
  /** Gauge. */
  StaleEndpoints,
  Ejections,
  Malformed,
  FeedErrors,
  SpoofedHeaders,
  FallbackServed,
}

/** Metric name suffixes in PickerMetric order, blank-separated. */
const METRIC_NAMES =
  "picks_total shed_total unavailable_total fail_open_total scrape_errors_total scrape_truncated_total " +
  "scrape_filter_ignored_total scrape_effective_interval_ms stale_endpoints ejections_total " +
  "malformed_inputs_total feed_errors_total spoofed_headers_removed_total fallback_served_total";

export class PickerMetrics {
  private base: string;
  /** Host metric id of each PickerMetric. */
  private ids: StaticArray<u32> = new StaticArray<u32>(PickerMetric.FallbackServed + 1);
  ok: bool = true;
  /** Metric id by endpoint key (i32 values: the endpoint index map's instance, no second one). */
  private perEndpoint: Map<string, i32> = new Map<string, i32>();

  constructor(pool: string) {
    this.base = "wayroute_picker_" + metricName(pool) + "_";
  }

  define(): void {
    let names = METRIC_NAMES.split(" ");
    for (let k = 0; k < names.length; k++) {
      let gauge = k == PickerMetric.ScrapeIntervalMs || k == PickerMetric.StaleEndpoints;
      let id = defineMetric(gauge ? MetricType.Gauge : MetricType.Counter, this.base + names[k]);
      if (lastHostStatus() != Status.Ok) this.ok = false;
      unchecked((this.ids[k] = id));
    }
  }

  inc(m: PickerMetric): void {
    if (this.ok) incrementMetric(unchecked(this.ids[m]), 1);
  }

  set(m: PickerMetric, v: u64): void {
    if (this.ok) recordMetric(unchecked(this.ids[m]), v);
  }

  /** Counts a pick of endpoint `key`. */
  picked(key: string): void {
    if (!this.ok) return;
    incrementMetric(unchecked(this.ids[PickerMetric.Picks]), 1);
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
