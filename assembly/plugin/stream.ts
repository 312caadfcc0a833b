// One HTTP stream: counts it, then runs the active config's stages in order for each callback.
// The stream keeps the config it started with, so a reconfigure never changes stages mid-stream.
//
// Combining stage results: every stage runs (unless one sent a local reply, which ends the
// chain); the callback returns Continue when all stages did, else the first non-Continue value.

import {
  FilterDataStatus,
  FilterHeadersStatus,
  HttpContext,
  LogLevel,
  incrementMetric,
} from "../../proxy-wasm/index";
import { PluginConfig } from "./config";
import { logDebug, logEnabled } from "./log";
import { Stage, StreamState } from "./stage";

// root.ts and this file import each other (root creates streams, streams read the root);
// AssemblyScript resolves the cycle at compile time.
import { PluginRoot } from "./root";

const NO_STAGES: Stage[] = [];

export class PluginStream extends HttpContext {
  private stages: Stage[];
  private state: StreamState;
  private root: PluginRoot;

  constructor(contextId: u32, root: PluginRoot) {
    super(contextId, root.contextId);
    this.root = root;
    const config: PluginConfig | null = root.config;
    const stages = config != null ? config.stages : NO_STAGES;
    this.stages = stages;
    this.state = new StreamState(contextId, stages.length, config != null && config.holdHeadersForBody);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = this.root;
    if (root.metricsDefined) incrementMetric(root.requestsMetric, 1);
    if (logEnabled(LogLevel.Debug)) {
      logDebug("stream " + this.contextId.toString() + ": request headers (" + headerCount.toString() + ")");
    }
    let result = FilterHeadersStatus.Continue;
    const stages = this.stages;
    const state = this.state;
    for (let i = 0, n = stages.length; i < n && !state.replied; i++) {
      const status = unchecked(stages[i]).onRequestHeaders(state, endOfStream);
      if (result == FilterHeadersStatus.Continue) result = status;
    }
    // Hold mode: StopIteration keeps the headers (writable) while the body comes. With end of
    // stream there is no body to release them, so that case is not "held" for the stages.
    state.requestHeadersHeld = state.holdHeadersForBody && !endOfStream && !state.replied &&
      result == FilterHeadersStatus.StopIteration;
    return result;
  }

  onRequestBody(bodySize: usize, endOfStream: bool): FilterDataStatus {
    let result = FilterDataStatus.Continue;
    const stages = this.stages;
    const state = this.state;
    for (let i = 0, n = stages.length; i < n && !state.replied; i++) {
      const status = unchecked(stages[i]).onRequestBody(state, bodySize, endOfStream);
      if (result == FilterDataStatus.Continue) result = status;
    }
    // A body Continue lets held request headers go upstream: from now on they are final.
    if (result == FilterDataStatus.Continue) state.requestHeadersHeld = false;
    return result;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    if (logEnabled(LogLevel.Debug)) {
      logDebug("stream " + this.contextId.toString() + ": response headers (" + headerCount.toString() + ")");
    }
    let result = FilterHeadersStatus.Continue;
    const stages = this.stages;
    const state = this.state;
    for (let i = 0, n = stages.length; i < n && !state.replied; i++) {
      const status = unchecked(stages[i]).onResponseHeaders(state, endOfStream);
      if (result == FilterHeadersStatus.Continue) result = status;
    }
    return result;
  }

  onResponseBody(bodySize: usize, endOfStream: bool): FilterDataStatus {
    let result = FilterDataStatus.Continue;
    const stages = this.stages;
    const state = this.state;
    for (let i = 0, n = stages.length; i < n && !state.replied; i++) {
      const status = unchecked(stages[i]).onResponseBody(state, bodySize, endOfStream);
      if (result == FilterDataStatus.Continue) result = status;
    }
    return result;
  }

  onLog(): void {
    const stages = this.stages;
    const state = this.state;
    for (let i = 0, n = stages.length; i < n; i++) unchecked(stages[i]).onLog(state);
  }

  onDelete(): void {
    const stages = this.stages;
    const state = this.state;
    for (let i = 0, n = stages.length; i < n; i++) unchecked(stages[i]).onDelete(state);
  }
}
