/**
 * Metrics with Envoy's semantics (`Context::defineMetric/incrementMetric/recordMetric/getMetric`).
 * Stats are process-wide in Envoy, so every VM (worker) of a host shares one store; each VM hands
 * out its own ids: counters 4, 8, ...; gauges 5, 9, ...; histograms 6, 10, ... (type = id & 3).
 *
 * - increment: counter needs offset > 0 (else BadArgument); gauge adds or subtracts;
 *   histogram is BadArgument.
 * - record: counter adds; gauge sets; histogram records a sample.
 * - get: counter and gauge values; histogram is BadArgument.
 * - unknown id of a known type: NotFound.
 * Envoy names the stat `wasmcustom.<name>`; the harness keys metrics by the plugin's name and
 * reports the Envoy stat name in `statName`.
 */
import { METRIC_TYPE_NAMES, MetricType, WasmResult, type MetricTypeName } from "./abi.js";
import type { GuestMemory } from "./memory.js";

export interface Metric {
  name: string;
  /** The name Envoy exposes on /stats (custom stat namespace prefix). */
  statName: string;
  type: MetricTypeName;
  /** Counter or gauge value; for histograms the number of samples. */
  value: number;
  /** Histogram samples, in order. */
  samples: number[];
}

export class MetricsStore {
  private readonly metrics = new Map<string, Metric>();

  private key(type: MetricTypeName, name: string): string {
    return `${type}\u0000${name}`;
  }

  define(type: MetricTypeName, name: string): Metric {
    const k = this.key(type, name);
    let m = this.metrics.get(k);
    if (!m) {
      m = { name, statName: `wasmcustom.${name}`, type, value: 0, samples: [] };
      this.metrics.set(k, m);
    }
    return m;
  }

  /** The metric called `name` (any type, counters first), or undefined. */
  get(name: string, type?: MetricTypeName): Metric | undefined {
    for (const t of type ? [type] : METRIC_TYPE_NAMES) {
      const m = this.metrics.get(this.key(t, name));
      if (m) return m;
    }
    return undefined;
  }

  /** Value of a counter or gauge, or undefined. */
  value(name: string): number | undefined {
    return this.get(name)?.value;
  }

  all(): Metric[] {
    return [...this.metrics.values()];
  }
}

/** Per-VM metric id allocation. */
export class MetricIds {
  private readonly next = [0, 1, 2];
  readonly byId = new Map<number, Metric>();

  allocate(type: number, metric: Metric): number {
    this.next[type]! += 4;
    const id = this.next[type]!;
    this.byId.set(id, metric);
    return id;
  }
}

/** What the metric imports need from the VM that links them. */
export interface MetricVm {
  readonly mem: GuestMemory;
  readonly metricIds: MetricIds;
  readonly core: { readonly metrics: MetricsStore };
}

export function metricImports(vm: MetricVm): Record<string, (...args: never[]) => number> {
  const mem = vm.mem;
  const lookup = (id: number) => vm.metricIds.byId.get(id >>> 0);
  return {
    proxy_define_metric(type: number, np: number, ns: number, idPtr: number) {
      const name = mem.readString(np, ns);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      if (type >>> 0 > MetricType.Histogram) return WasmResult.BadArgument;
      const metric = vm.core.metrics.define(METRIC_TYPE_NAMES[type]!, name);
      const id = vm.metricIds.allocate(type, metric);
      return mem.setU32(idPtr, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_increment_metric(id: number, offset: bigint) {
      const type = (id >>> 0) & 3;
      const m = lookup(id);
      const delta = Number(BigInt.asIntN(64, BigInt(offset)));
      if (type === MetricType.Counter) {
        if (!m) return WasmResult.NotFound;
        if (delta <= 0) return WasmResult.BadArgument;
        m.value += delta;
        return WasmResult.Ok;
      }
      if (type === MetricType.Gauge) {
        if (!m) return WasmResult.NotFound;
        m.value += delta;
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    },
    proxy_record_metric(id: number, value: bigint) {
      const type = (id >>> 0) & 3;
      const m = lookup(id);
      if (!m || type > MetricType.Histogram) return WasmResult.NotFound;
      const v = Number(BigInt.asUintN(64, BigInt(value)));
      if (type === MetricType.Counter) m.value += v;
      else if (type === MetricType.Gauge) m.value = v;
      else {
        m.samples.push(v);
        m.value = m.samples.length;
      }
      return WasmResult.Ok;
    },
    proxy_get_metric(id: number, resultPtr: number) {
      const type = (id >>> 0) & 3;
      if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
      const m = lookup(id);
      if (!m) return WasmResult.NotFound;
      return mem.setU64(resultPtr, BigInt(Math.trunc(m.value))) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}
