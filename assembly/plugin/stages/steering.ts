// Stage for the `steering` section, present in every config (with or without the key): removes
// client-sent steering headers from every request before any other stage runs, unless the
// caller is trusted.
//
// Why on every request: behind an ORIGINAL_DST cluster with `use_http_header`, or an
// override_host policy, `x-gateway-destination-endpoint` sends the proxy to any address the
// client names (SSRF); a route-mode backend header picks any backend; a model or objective
// header changes how the request is scheduled. None of that is the client's to choose, whatever
// section (if any) matched the request.
//
// What is removed (ClientHeaders, filled by every stage's declareClientHeaders):
//   steering: x-gateway-destination-endpoint, x-gateway-model-name, every pool's steering header
//             (route mode: its backend header), bodyRouting's model headers, and the default
//             names of those (x-wayroute-backend, x-gateway-base-model-name,
//             x-gateway-model-name-rewrite) even when no section uses them: HTTPRoutes or
//             another filter may still act on them;
//   priority: x-llm-d-inference-objective and its older name x-gateway-inference-objective,
//             x-wayroute-priority, the candidate subset hint x-gateway-destination-endpoint-subset,
//             every pool's objective and priority header.
// Who keeps them: a caller matching `steering.trustedCallers` (peer identity: property
// conditions of a rule match) keeps both kinds; a caller matching a pool's own
// `trustedCallers` keeps the priority kind (that pool then decides what it believes). The
// default trusts no one. Stages that run later (rules, headers, the picker) may set these
// headers themselves: they run after this one.
//
// Cost: one header read per name, names UTF-8 encoded once per config (no allocation per
// request unless a header is present); caller identity (property reads) only when one of them
// is present and trust is configured.

import {
  FilterHeadersStatus,
  MapType,
  MetricType,
  Status,
  defineMetric,
  getHeaderBytes,
  getPropertyString,
  incrementMetric,
  lastHostStatus,
  removeHeaderBytes,
} from "../../../proxy-wasm/index";
import { ConfigNode, ConfigReader } from "../../config/reader";
import { atMost, isObjectWith } from "../../config/checks";
import { RuleMatch } from "../../rewrite/rule";
import { propertySegments } from "../../rewrite/property-key";
import { PropertySource, propertiesMatch } from "../../rewrite/engine";
import { readPeerMatch } from "../../rewrite/rules-config";
import { ENDPOINT_HEADER, OBJECTIVE_HEADER, OLD_OBJECTIVE_HEADER, ROUTE_HEADER, SUBSET_HEADER } from "../../pools/config";
import { ClientHeaders, Stage, StreamState } from "../stage";

/** The GIE model header (the picker reads it; bodyRouting's default modelHeader). */
export const MODEL_NAME_HEADER = "x-gateway-model-name";
/** Defaults of bodyRouting's other model headers and of a pool's priority header. */
const BASE_MODEL_HEADER = "x-gateway-base-model-name";
const REWRITE_HEADER = "x-gateway-model-name-rewrite";
const PRIORITY_HEADER = "x-wayroute-priority";

function encodeAll(names: string[]): ArrayBuffer[] {
  const out = new Array<ArrayBuffer>();
  for (let i = 0; i < names.length; i++) out.push(String.UTF8.encode(unchecked(names[i])));
  return out;
}

/** Trusted callers a config may list; matching is linear, so keep it bounded. */
export const MAX_TRUSTED_CALLERS: i32 = 64;

/** The parsed `steering` section. */
export class SteeringConfig {
  /** A caller is trusted when any entry's property conditions all hold. Empty: no one. */
  trustedCallers: RuleMatch[] = [];
}

/**
 * `$.steering`: `{ "trustedCallers"?: [ { "properties": [ <rule property condition> ] } ] }`.
 * Schema: schemas/steering.schema.json. Null after reporting a problem through `r`.
 */
export function readSteeringSection(r: ConfigReader, node: ConfigNode): SteeringConfig | null {
  if (!isObjectWith(r, node, "trustedCallers")) return null;
  const cfg = new SteeringConfig();
  const callers = r.optArray(node, "trustedCallers");
  if (callers != null && atMost(r, callers, MAX_TRUSTED_CALLERS, "trusted callers")) {
    for (let i = 0; i < callers.length && r.ok; i++) {
      const m = readPeerMatch(r, callers.at(i)!);
      if (m != null) cfg.trustedCallers.push(m);
    }
  }
  return r.ok ? cfg : null;
}

/** Envoy properties by key (segments joined by NUL), read on demand. */
class HostProperties extends PropertySource {
  get(key: string): string | null {
    return getPropertyString(propertySegments(key));
  }
}

const hostProperties = new HostProperties();

export class SteeringStage extends Stage {
  /** The names, UTF-8 encoded once for the host calls. */
  private steering: ArrayBuffer[] = [];
  private priority: ArrayBuffer[] = [];
  private removedMetric: u32 = 0;
  private metricsOk: bool = false;
  private headers: ClientHeaders = new ClientHeaders();

  constructor(public cfg: SteeringConfig) {
    super("steering");
  }

  /** Collects the header names of every stage of the config (call once, after parsing). */
  collect(stages: Stage[]): void {
    const h = this.headers;
    h.addSteering(ENDPOINT_HEADER);
    h.addSteering(ROUTE_HEADER);
    h.addSteering(MODEL_NAME_HEADER);
    h.addSteering(BASE_MODEL_HEADER);
    h.addSteering(REWRITE_HEADER);
    h.addPriority(OBJECTIVE_HEADER);
    h.addPriority(OLD_OBJECTIVE_HEADER);
    h.addPriority(PRIORITY_HEADER);
    h.addPriority(SUBSET_HEADER);
    for (let i = 0; i < stages.length; i++) unchecked(stages[i]).declareClientHeaders(h);
    this.steering = encodeAll(h.steering);
    this.priority = encodeAll(h.priority);
  }

  /** Counts removals; the counter is defined on the first one (no removal, no metric). */
  private countRemoved(n: i32): void {
    if (!this.metricsOk) {
      this.removedMetric = defineMetric(MetricType.Counter, "wayroute_steering_headers_removed_total");
      this.metricsOk = lastHostStatus() == Status.Ok;
      if (!this.metricsOk) return;
    }
    incrementMetric(this.removedMetric, <u64>n);
  }

  private trustedBySteering(): bool {
    const callers = this.cfg.trustedCallers;
    for (let i = 0, n = callers.length; i < n; i++) {
      if (propertiesMatch(unchecked(callers[i]), hostProperties)) return true;
    }
    return false;
  }

  private trustedForPriority(): bool {
    const rules = this.headers.priorityTrust;
    for (let i = 0, n = rules.length; i < n; i++) {
      const rule = unchecked(rules[i]);
      if (rule.matches(getPropertyString(rule.segments()))) return true;
    }
    return false;
  }

  /** Removes the names present on the request; returns how many were. */
  private strip(names: ArrayBuffer[]): i32 {
    let removed = 0;
    for (let i = 0, n = names.length; i < n; i++) {
      const name = unchecked(names[i]);
      if (getHeaderBytes(MapType.HttpRequestHeaders, name) == null) continue;
      removeHeaderBytes(MapType.HttpRequestHeaders, name);
      removed++;
    }
    return removed;
  }

  private anyPresent(names: ArrayBuffer[]): bool {
    for (let i = 0, n = names.length; i < n; i++) {
      if (getHeaderBytes(MapType.HttpRequestHeaders, unchecked(names[i])) != null) return true;
    }
    return false;
  }

  onRequestHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    // Trust is read only when it can matter: configured, and a listed header was sent.
    let trusted = false;
    if (this.cfg.trustedCallers.length > 0 && (this.anyPresent(this.steering) || this.anyPresent(this.priority))) {
      trusted = this.trustedBySteering();
    }
    stream.callerTrusted = trusted;
    if (trusted) return FilterHeadersStatus.Continue;
    let removed = this.strip(this.steering);
    if (this.headers.priorityTrust.length == 0) removed += this.strip(this.priority);
    else if (this.anyPresent(this.priority) && !this.trustedForPriority()) removed += this.strip(this.priority);
    stream.steeringRemoved = removed;
    if (removed > 0) this.countRemoved(removed);
    return FilterHeadersStatus.Continue;
  }
}
