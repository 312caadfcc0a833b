// The plugin's root context: owns the active config and the plugin-wide metrics, and creates
// one PluginStream per HTTP stream.

import {
  BufferType,
  EMPTY_BUFFER,
  HttpContext,
  MetricType,
  RootContext,
  Status,
  defineMetric,
  getBufferBytes,
  getCurrentTimeNanoseconds,
  lastHostStatus,
} from "../../proxy-wasm/index";
import { PluginConfig, parsePluginConfig } from "./config";
import { logError, logInfo, logWarn, setLogThreshold } from "./log";
import { PluginStream } from "./stream";
import { drainListedFlows } from "./picker-flow";
import { settleTick } from "./tick";

/** Counter of HTTP requests seen by the plugin (all streams, all outcomes). */
export const REQUESTS_METRIC = "wayroute_requests_total";

export class PluginRoot extends RootContext {
  /** Last config that passed validation; null until the first good one. */
  config: PluginConfig | null = null;
  requestsMetric: u32 = 0;
  metricsDefined: bool = false;

  onConfigure(configurationSize: usize): bool {
    this.defineMetrics();
    let bytes: ArrayBuffer | null = EMPTY_BUFFER;
    if (configurationSize > 0) {
      bytes = getBufferBytes(BufferType.PluginConfiguration, 0, configurationSize);
    }
    if (bytes == null) {
      logError("plugin configuration refused: $: configuration buffer unavailable (status " +
        lastHostStatus().toString() + ")");
      return false;
    }
    const outcome = parsePluginConfig(bytes);
    const config = outcome.config;
    if (config == null) {
      logError("plugin configuration refused: " + outcome.error);
      return false;
    }
    this.config = config;
    setLogThreshold(config.logLevel);
    const stages = config.stages;
    let names = "";
    for (let i = 0; i < stages.length; i++) {
      if (i > 0) names += ", ";
      names += unchecked(stages[i]).section;
    }
    for (let i = 0; i < stages.length; i++) unchecked(stages[i]).onActivate();
    logInfo("plugin configured: sections [" + names + "]");
    return true;
  }

  private defineMetrics(): void {
    if (this.metricsDefined) return;
    const id = defineMetric(MetricType.Counter, REQUESTS_METRIC);
    if (lastHostStatus() == Status.Ok) {
      this.requestsMetric = id;
      this.metricsDefined = true;
    } else {
      logWarn("could not define metric " + REQUESTS_METRIC + " (status " + lastHostStatus().toString() + ")");
    }
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new PluginStream(contextId, this);
  }

  onTick(): void {
    const config = this.config;
    if (config != null) {
      const stages = config.stages;
      for (let i = 0, n = stages.length; i < n; i++) unchecked(stages[i]).onTick();
    }
    // Streams waiting for pool capacity, also those of a config replaced since they paused.
    drainListedFlows(<i64>(getCurrentTimeNanoseconds() / 1_000_000), this.contextId);
    // The next tick comes when this tick's duties asked for it (tick.ts).
    settleTick();
  }

  onQueueReady(queueId: u32): void {
    const config = this.config;
    if (config == null) return;
    const stages = config.stages;
    for (let i = 0, n = stages.length; i < n; i++) unchecked(stages[i]).onQueueReady(queueId);
  }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void {
    const config = this.config;
    if (config == null) return;
    const stages = config.stages;
    for (let i = 0, n = stages.length; i < n; i++) {
      if (unchecked(stages[i]).onHttpCallResponse(token, headerCount, bodySize, trailerCount)) return;
    }
  }
}
