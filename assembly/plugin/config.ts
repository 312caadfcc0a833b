// The whole plugin config: `logLevel`, `holdHeadersForBody`, `steering`, plus one key per
// registered section (sections.ts). The steering stage exists in every config, key or not,
// and runs first (stages/steering.ts).
// Parsing is all-or-nothing: the first problem refuses the config and is reported as
// `<JSON path>: <what is wrong>`; the root keeps its previous config in that case.

import { LogLevel } from "../../proxy-wasm/index";
import { parseJsonBytes } from "../json/parse";
import { ConfigReader } from "../config/reader";
import { BOOL, ENUM } from "../config/fields";
import { LOG_LEVEL_NAMES } from "./log";
import { SECTIONS } from "./sections";
import { Stage } from "./stage";
import { SteeringConfig, SteeringStage, readSteeringSection } from "./stages/steering";

export class PluginConfig {
  logLevel: LogLevel = LogLevel.Info;
  /**
   * The host keeps request headers writable while the plugin reads the body: Envoy 1.35+ with
   * `allow_on_headers_stop_iteration: true` on the Wasm filter's PluginConfig. Then a stage may
   * return StopIteration from request headers and still set request headers from a body
   * callback. Streams copy it (StreamState.holdHeadersForBody); stages read it there.
   */
  holdHeadersForBody: bool = false;
  /** Stages of the sections present in the config, in registry order. */
  stages: Stage[] = [];

  /** The stage built from top-level key `section`, or null when that section is absent. */
  stage(section: string): Stage | null {
    for (let i = 0, n = this.stages.length; i < n; i++) {
      const stage = unchecked(this.stages[i]);
      if (stage.section == section) return stage;
    }
    return null;
  }
}

/** Either a config or the reason it was refused. */
export class ConfigOutcome {
  constructor(
    public config: PluginConfig | null,
    /** `<JSON path>: <message>`; "" when config is set. */
    public error: string,
  ) {}
}

/** Top-level keys accepted: logLevel, holdHeadersForBody, steering and every registered section. */
function allowedKeys(): string[] {
  const keys = ["logLevel", "holdHeadersForBody", "steering"];
  for (let i = 0; i < SECTIONS.length; i++) keys.push(unchecked(SECTIONS[i]).key);
  return keys;
}

function isBlank(bytes: ArrayBuffer): bool {
  const base = changetype<usize>(bytes);
  for (let i = 0, n = bytes.byteLength; i < n; i++) {
    const c = load<u8>(base + <usize>i);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return false;
  }
  return true;
}

/**
 * Parses the PLUGIN_CONFIGURATION bytes. An empty (or blank) configuration means `{}`: Istio
 * sends none when a WasmPlugin has no pluginConfig.
 */
export function parsePluginConfig(bytes: ArrayBuffer): ConfigOutcome {
  const config = new PluginConfig();
  if (isBlank(bytes)) {
    addSteeringStage(config, new SteeringConfig());
    return new ConfigOutcome(config, "");
  }

  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return new ConfigOutcome(null, "$: invalid JSON: " + parsed.error);

  const r = new ConfigReader();
  const root = r.root(parsed.value!);
  if (!r.requireObject(root) || !r.rejectUnknownKeys(root, allowedKeys())) {
    return new ConfigOutcome(null, r.error);
  }
  // Top-level fields (config/fields.ts): keys in the order they are read, one row per key.
  const KEYS = "logLevel holdHeadersForBody";
  const FIELDS = memory.data<f64>([
    ENUM, offsetof<PluginConfig>("logLevel"), 0, 0, // LOG_LEVEL_NAMES
    BOOL, offsetof<PluginConfig>("holdHeadersForBody"), 0, 0,
  ]);
  r.readFields(root, config, KEYS, FIELDS, 0, LOG_LEVEL_NAMES);
  const steeringNode = root.child("steering");
  const steering = steeringNode != null ? readSteeringSection(r, steeringNode) : new SteeringConfig();

  for (let i = 0; i < SECTIONS.length && r.ok; i++) {
    const section = unchecked(SECTIONS[i]);
    const node = root.child(section.key);
    if (node == null) continue;
    const stage = section.parse(r, node);
    if (stage != null && r.ok) {
      stage.index = config.stages.length;
      config.stages.push(stage);
    }
  }
  if (!r.ok || steering == null) return new ConfigOutcome(null, r.error);
  addSteeringStage(config, steering);
  return new ConfigOutcome(config, "");
}

/** Puts the steering stage first (it strips client headers before any stage reads them). */
function addSteeringStage(config: PluginConfig, cfg: SteeringConfig): void {
  const stage = new SteeringStage(cfg);
  stage.collect(config.stages);
  config.stages.unshift(stage);
  for (let i = 0, n = config.stages.length; i < n; i++) unchecked(config.stages[i]).index = i;
}
