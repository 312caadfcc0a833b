// Plugin registry: type name → config parser. Adding a filter, scorer or picker is one file
// under filters/, scorers/ or pickers/ plus one line here.
import { ConfigReader, ConfigNode } from "../config/reader";
import { Filter, Scorer, Picker } from "./plugin";
import { HEALTH_FILTER, parseHealthFilter } from "./filters/health";
import { SATURATION_FILTER, parseSaturationFilter } from "./filters/saturation";
import { LOW_QUEUE_FILTER, parseLowQueueFilter } from "./filters/low-queue";
import { LORA_AFFINITY_FILTER, parseLoraAffinityFilter } from "./filters/lora-affinity";
import { LOCALITY_FILTER, parseLocalityFilter } from "./filters/locality";
import { QUEUE_SCORER, parseQueueScorer } from "./scorers/queue";
import { KV_CACHE_SCORER, parseKvCacheScorer } from "./scorers/kv-cache";
import { PREFIX_CACHE_SCORER, parsePrefixCacheScorer } from "./scorers/prefix-cache";
import { LORA_AFFINITY_SCORER, parseLoraAffinityScorer } from "./scorers/lora-affinity";
import { IN_FLIGHT_SCORER, parseInFlightScorer } from "./scorers/in-flight";
import { SESSION_AFFINITY_SCORER, parseSessionAffinityScorer } from "./scorers/session-affinity";
import { MAX_SCORE_PICKER, parseMaxScorePicker } from "./pickers/max-score";
import { WEIGHTED_RANDOM_PICKER, parseWeightedRandomPicker } from "./pickers/weighted-random";
import { POWER_OF_TWO_PICKER, parsePowerOfTwoPicker } from "./pickers/power-of-two";

export type FilterParser = (r: ConfigReader, params: ConfigNode | null) => Filter;
export type ScorerParser = (r: ConfigReader, params: ConfigNode | null) => Scorer;
export type PickerParser = (r: ConfigReader, params: ConfigNode | null) => Picker;

class Entry<T> {
  constructor(public name: string, public parse: T) {}
}

const FILTERS: Entry<FilterParser>[] = [
  new Entry<FilterParser>(HEALTH_FILTER, parseHealthFilter),
  new Entry<FilterParser>(SATURATION_FILTER, parseSaturationFilter),
  new Entry<FilterParser>(LOW_QUEUE_FILTER, parseLowQueueFilter),
  new Entry<FilterParser>(LORA_AFFINITY_FILTER, parseLoraAffinityFilter),
  new Entry<FilterParser>(LOCALITY_FILTER, parseLocalityFilter),
];

const SCORERS: Entry<ScorerParser>[] = [
  new Entry<ScorerParser>(QUEUE_SCORER, parseQueueScorer),
  new Entry<ScorerParser>(KV_CACHE_SCORER, parseKvCacheScorer),
  new Entry<ScorerParser>(PREFIX_CACHE_SCORER, parsePrefixCacheScorer),
  new Entry<ScorerParser>(LORA_AFFINITY_SCORER, parseLoraAffinityScorer),
  new Entry<ScorerParser>(IN_FLIGHT_SCORER, parseInFlightScorer),
  new Entry<ScorerParser>(SESSION_AFFINITY_SCORER, parseSessionAffinityScorer),
];

const PICKERS: Entry<PickerParser>[] = [
  new Entry<PickerParser>(MAX_SCORE_PICKER, parseMaxScorePicker),
  new Entry<PickerParser>(WEIGHTED_RANDOM_PICKER, parseWeightedRandomPicker),
  new Entry<PickerParser>(POWER_OF_TWO_PICKER, parsePowerOfTwoPicker),
];

function names<T>(list: Entry<T>[]): string[] {
  let out: string[] = [];
  for (let i = 0; i < list.length; i++) out.push(list[i].name);
  return out;
}

export function filterNames(): string[] {
  return names<FilterParser>(FILTERS);
}
export function scorerNames(): string[] {
  return names<ScorerParser>(SCORERS);
}
export function pickerNames(): string[] {
  return names<PickerParser>(PICKERS);
}

export function findFilter(name: string): FilterParser | null {
  for (let i = 0; i < FILTERS.length; i++) if (FILTERS[i].name == name) return FILTERS[i].parse;
  return null;
}
export function findScorer(name: string): ScorerParser | null {
  for (let i = 0; i < SCORERS.length; i++) if (SCORERS[i].name == name) return SCORERS[i].parse;
  return null;
}
export function findPicker(name: string): PickerParser | null {
  for (let i = 0; i < PICKERS.length; i++) if (PICKERS[i].name == name) return PICKERS[i].parse;
  return null;
}
