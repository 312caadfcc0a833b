// ORCA `endpoint-load-metrics` response header (cncf/xds orca-spec; Envoy's orca_parser):
//   TEXT cpu_utilization:0.7,mem_utilization:0.9,named_metrics.foo:123   (Envoy: ':' no spaces)
//   TEXT cpu_utilization=0.3, named_metrics.kv_cache_usage_perc=0.4      (spec / vLLM: '=' and ", ")
//   JSON {"cpu_utilization": 0.3, "named_metrics": {"foo": 1}}           (proto3 JSON, camelCase too)
// A value without a TEXT/JSON/BIN prefix is read as TEXT (some servers omit it). BIN (base64
// protobuf) is not decoded and reported as unsupported. Like Envoy: duplicate keys, unknown keys,
// empty or quoted values, NaN/infinity and an empty named-metric name reject the whole header.
import { parseJson } from "../json/parse";
import { JsonValue } from "../json/value";
import { parseStrictNumber } from "../metrics/number";
import { isSpace } from "~lib/util/string";

export class OrcaReport {
  ok: bool = false;
  error: string = "";
  cpuUtilization: f64 = NaN;
  memUtilization: f64 = NaN;
  applicationUtilization: f64 = NaN;
  rpsFractional: f64 = NaN;
  eps: f64 = NaN;
  namedKeys: string[] = [];
  namedValues: f64[] = [];

  /** Value of named metric `key`, NaN when absent. */
  named(key: string): f64 {
    let i = this.namedKeys.indexOf(key);
    return i < 0 ? NaN : this.namedValues[i];
  }

  fail(message: string): OrcaReport {
    this.ok = false;
    this.error = message;
    return this;
  }
}

/** Bound on header size we look at; ORCA headers are small, anything bigger is abuse. */
export const MAX_ORCA_HEADER: i32 = 8192;

export function parseOrcaHeader(value: string): OrcaReport {
  let r = new OrcaReport();
  if (value.length > MAX_ORCA_HEADER) return r.fail("header longer than " + MAX_ORCA_HEADER.toString());
  let v = value.trim();
  if (v.length == 0) return r.fail("empty header");
  if (v.startsWith("JSON ")) return parseJsonForm(v.substring(5), r);
  if (v.startsWith("BIN ")) return r.fail("BIN (protobuf) form is not supported");
  if (v.startsWith("TEXT ")) return parseTextForm(v.substring(5), r);
  return parseTextForm(v, r);
}

function isKnown(key: string): bool {
  return key == "cpu_utilization" || key == "mem_utilization" || key == "application_utilization" ||
    key == "rps_fractional" || key == "eps";
}

function setField(r: OrcaReport, key: string, x: f64): void {
  if (key == "cpu_utilization") r.cpuUtilization = x;
  else if (key == "mem_utilization") r.memUtilization = x;
  else if (key == "application_utilization") r.applicationUtilization = x;
  else if (key == "rps_fractional") r.rpsFractional = x;
  else if (key == "eps") r.eps = x;
}

// @ts-ignore: decorator
@inline function spaceAt(text: string, i: i32): bool {
  return isSpace(<u32>load<u16>(changetype<usize>(text) + (<usize>i << 1)));
}

/**
 * Entries between commas, in place over the text (no split, no copy per entry; every report
 * on every response is parsed): an entry, its key and its value are trimmed as String#trim does.
 */
function parseTextForm(text: string, r: OrcaReport): OrcaReport {
  let seen: string[] = [];
  let n = text.length;
  let start = 0;
  while (start <= n) {
    let end = text.indexOf(",", start);
    if (end < 0) end = n;
    let a = start;
    let b = end;
    start = end + 1;
    while (b > a && spaceAt(text, b - 1)) b--;
    while (a < b && spaceAt(text, a)) a++;
    if (a == b) continue; // Envoy's comma-delimited split skips empty tokens
    let sep = -1;
    for (let i = a; i < b; i++) {
      let c = load<u16>(changetype<usize>(text) + (<usize>i << 1));
      if (c == 58 /* : */ || c == 61 /* = */) { sep = i; break; }
    }
    if (sep < 0) return r.fail("entry '" + text.substring(a, b) + "' is not key:value or key=value");
    let keyEnd = sep;
    while (keyEnd > a && spaceAt(text, keyEnd - 1)) keyEnd--;
    let v = sep + 1;
    while (v < b && spaceAt(text, v)) v++;
    if (keyEnd == a) return r.fail("empty metric name");
    let key = text.substring(a, keyEnd);
    if (v == b) return r.fail("empty value for " + key);
    if (seen.includes(key)) return r.fail("duplicate metric " + key);
    seen.push(key);
    let x = parseStrictNumber(text, v, b);
    if (!isFinite(x)) return r.fail("value of " + key + " is not a finite number");
    if (key.startsWith("named_metrics.")) {
      let name = key.substring(14);
      if (name.length == 0) return r.fail("named metric key is empty");
      r.namedKeys.push(name);
      r.namedValues.push(x);
    } else if (isKnown(key)) {
      setField(r, key, x);
    } else {
      return r.fail("unsupported metric name " + key);
    }
  }
  r.ok = true;
  return r;
}

/** proto3 JSON accepts both the field name and its lowerCamelCase form. */
function canonicalJsonKey(key: string): string {
  if (key == "cpuUtilization") return "cpu_utilization";
  if (key == "memUtilization") return "mem_utilization";
  if (key == "applicationUtilization") return "application_utilization";
  if (key == "rpsFractional") return "rps_fractional";
  if (key == "namedMetrics") return "named_metrics";
  if (key == "requestCost") return "request_cost";
  return key;
}

function parseJsonForm(text: string, r: OrcaReport): OrcaReport {
  let parsed = parseJson(text);
  if (!parsed.ok) return r.fail("invalid JSON: " + parsed.error);
  let root = parsed.value!;
  if (!root.isObject()) return r.fail("JSON form must be an object");
  let seen: string[] = [];
  for (let i = 0; i < root.length; i++) {
    let key = canonicalJsonKey(root.keyAt(i));
    let val = root.valueAt(i)!;
    if (seen.includes(key)) return r.fail("duplicate field " + key);
    seen.push(key);
    if (isKnown(key)) {
      if (!val.isNumber()) return r.fail(key + " must be a number");
      setField(r, key, val.asNumber());
    } else if (key == "named_metrics" || key == "request_cost" || key == "utilization") {
      if (!val.isObject()) return r.fail(key + " must be an object");
      if (!readNumberMap(val, key == "named_metrics" ? r : null)) return r.fail(key + " values must be numbers");
    } else {
      return r.fail("unknown field " + key);
    }
  }
  r.ok = true;
  return r;
}

function readNumberMap(obj: JsonValue, into: OrcaReport | null): bool {
  for (let i = 0; i < obj.length; i++) {
    let v = obj.valueAt(i)!;
    if (!v.isNumber()) return false;
    if (into != null) {
      into.namedKeys.push(obj.keyAt(i));
      into.namedValues.push(v.asNumber());
    }
  }
  return true;
}
