// Plugin logging with the config's `logLevel` threshold. Checking `logEnabled` before building
// a message keeps debug lines free (no string concatenation) on the request path when off.

import { LogLevel, log } from "../../proxy-wasm/index";

let threshold: LogLevel = LogLevel.Info;

export function setLogThreshold(level: LogLevel): void {
  threshold = level;
}

// @ts-ignore: decorator
@inline
export function logEnabled(level: LogLevel): bool {
  return level >= threshold;
}

export function logAt(level: LogLevel, message: string): void {
  if (level >= threshold) log(level, message);
}

export function logDebug(message: string): void {
  logAt(LogLevel.Debug, message);
}

export function logInfo(message: string): void {
  logAt(LogLevel.Info, message);
}

export function logWarn(message: string): void {
  logAt(LogLevel.Warn, message);
}

export function logError(message: string): void {
  logAt(LogLevel.Error, message);
}

/** Config spellings of the levels, in LogLevel order (a field table's choices, config/fields.ts). */
export const LOG_LEVEL_NAMES = "trace debug info warn error critical";
