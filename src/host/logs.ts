/**
 * Captured plugin logs: `proxy_log`, WASI stdout/stderr (Envoy logs fd 1 at info and fd 2 at
 * error, trailing newline removed) and the host's own reports (traps, refused configuration).
 */
import { LOG_LEVELS, WasmResult, type LogLevelName } from "./abi.js";
import type { GuestMemory } from "./memory.js";

/** Where a log line came from. */
export type LogSource = "plugin" | "stdout" | "stderr" | "host";

export interface LogEntry {
  level: LogLevelName;
  message: string;
  source: LogSource;
  /** Worker index of the VM that logged. */
  worker: number;
  /** vm_id of the plugin. */
  vmId: string;
  /** Plugin root id (`pluginName` / root_id). */
  rootId: string;
  /** The effective context id when the line was logged (0: the VM context during start). */
  contextId: number;
  /** Id of the HTTP stream whose callback was running, if any. */
  streamId?: number;
  /** Virtual time in milliseconds since the epoch. */
  timeMs: number;
}

export function levelNumber(level: LogLevelName): number {
  return LOG_LEVELS.indexOf(level);
}

/** `"info: message"`: the format the peer READMEs quote. */
export function formatLog(e: Pick<LogEntry, "level" | "message">): string {
  return `${e.level}: ${e.message}`;
}

/** Collects log entries of every VM of a host. */
export class LogSink {
  readonly entries: LogEntry[] = [];
  /** Lines below this level are dropped, like Envoy's logger threshold. */
  threshold: LogLevelName;
  /** Optional live echo, e.g. to print while debugging a test. */
  echo?: (e: LogEntry) => void;
  /** At most this many entries are kept (oldest dropped first), for long-running hosts. */
  maxEntries: number;
  /** Entries dropped because of `maxEntries`. */
  dropped = 0;

  constructor(threshold: LogLevelName = "info", maxEntries = Number.POSITIVE_INFINITY) {
    this.threshold = threshold;
    this.maxEntries = maxEntries;
  }

  /** Whether a line at `level` would be kept (the plugin-visible log level threshold). */
  enabled(level: LogLevelName): boolean {
    return levelNumber(level) >= levelNumber(this.threshold);
  }

  /** Adds an entry; returns false when the threshold dropped it. */
  push(e: LogEntry): boolean {
    if (e.source !== "host" && !this.enabled(e.level)) return false;
    this.entries.push(e);
    if (this.entries.length > this.maxEntries) {
      const excess = this.entries.length - this.maxEntries;
      this.entries.splice(0, excess);
      this.dropped += excess;
    }
    this.echo?.(e);
    return true;
  }

  /** Messages (optionally of one level), in order. */
  messages(level?: LogLevelName): string[] {
    return this.entries.filter((e) => level === undefined || e.level === level).map((e) => e.message);
  }

  /** `"level: message"` lines, in order. */
  lines(): string[] {
    return this.entries.map(formatLog);
  }

  clear(): void {
    this.entries.length = 0;
  }
}

/** `proxy_log` and `proxy_get_log_level`. */
/** What the log imports need from the VM that links them. */
export interface LogVm {
  readonly mem: GuestMemory;
  readonly core: { readonly logs: LogSink };
  log(level: LogLevelName, message: string, source: LogSource): void;
}

export function logImports(vm: LogVm): Record<string, (...args: number[]) => number> {
  return {
    proxy_log(level, ptr, size) {
      if (level >>> 0 >= LOG_LEVELS.length) return WasmResult.BadArgument;
      const message = vm.mem.readString(ptr, size);
      if (message === null) return WasmResult.InvalidMemoryAccess;
      vm.log(LOG_LEVELS[level]!, message, "plugin");
      return WasmResult.Ok;
    },
    proxy_get_log_level(ptr) {
      const level = levelNumber(vm.core.logs.threshold);
      return vm.mem.setU32(ptr, level) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}
