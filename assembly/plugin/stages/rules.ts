// Stage for the `rules` section: runs the rule engine (assembly/rewrite) on request headers and
// applies its edits; rules that need the model run later, when the bodyRouting stage has read
// the body (it calls runBodyPhaseRules); response edits are rendered at request time and
// applied to the response headers.
//
// Body-phase request edits: by default the request headers are already upstream when the body
// is read, so those writes are refused (response edits still apply). In hold mode
// (`holdHeadersForBody`, see body-routing.ts) bodyRouting keeps the headers with StopIteration,
// so the body phase re-reads the live request headers (which now include the model headers
// and lack the stripped client ones), and its edits and clear_route_cache take effect.

import {
  FilterHeadersStatus,
  MapType,
  Status,
  addHeader,
  clearRouteCache,
  getHeaderMapPairs,
  getPropertyString,
  removeHeader,
  replaceHeader,
} from "../../../proxy-wasm/index";
import { ConfigNode, ConfigReader } from "../../config/reader";
import { HeaderList } from "../../rewrite/header-list";
import { Rule } from "../../rewrite/rule";
import { propertySegments } from "../../rewrite/property-key";
import { readRulesSection } from "../../rewrite/rules-config";
import { HeaderOp, HeaderOpKind, PropertySource, RuleOutcome, RulePhase, evaluateRules } from "../../rewrite/engine";
import { ConfigSection } from "../section";
import { Stage, StageSlot, StreamState } from "../stage";

/** Envoy properties by key (segments joined by NUL, see rewrite/property-key.ts), as strings. */
class HostPropertySource extends PropertySource {
  get(key: string): string | null {
    return getPropertyString(propertySegments(key));
  }
}

const hostProperties = new HostPropertySource();

/** Per-stream state: the working header view, ops already applied, response edits. */
export class RulesSlot extends StageSlot {
  constructor(public stage: RulesStage) {
    super();
  }
  headers: HeaderList = new HeaderList();
  /** Names of request headers the rules set or appended (body routing leaves them alone). */
  setNames: string[] = [];
  responseOps: HeaderOp[] = [];
  bodyPhaseDone: bool = false;
}

/** Applies header ops; false when the host refused one (e.g. request headers already sent). */
function applyOps(map: MapType, ops: HeaderOp[], slot: RulesSlot | null): bool {
  let ok = true;
  for (let i = 0, n = ops.length; i < n; i++) {
    const op = unchecked(ops[i]);
    let status = Status.Ok;
    if (op.kind == HeaderOpKind.Set) status = replaceHeader(map, op.name, op.value);
    else if (op.kind == HeaderOpKind.Append) status = addHeader(map, op.name, op.value);
    else status = removeHeader(map, op.name);
    if (status != Status.Ok) ok = false;
    if (slot != null && op.kind != HeaderOpKind.Remove && !slot.setNames.includes(op.name)) slot.setNames.push(op.name);
  }
  return ok;
}

/**
 * Applies a request outcome (headers, path, authority), keeps its response edits, and clears
 * the route cache when the request changed. In the body phase on stock Envoy the request
 * headers are no longer writable (see body-routing.ts): those writes fail, response edits
 * still apply. In hold mode they are writable and the route cache is cleared.
 */
function applyRequestOutcome(out: RuleOutcome, slot: RulesSlot): void {
  let ok = applyOps(MapType.HttpRequestHeaders, out.ops, slot);
  const path = out.path;
  if (path != null) ok = replaceHeader(MapType.HttpRequestHeaders, ":path", path) == Status.Ok && ok;
  const authority = out.authority;
  if (authority != null) ok = replaceHeader(MapType.HttpRequestHeaders, ":authority", authority) == Status.Ok && ok;
  for (let i = 0; i < out.responseOps.length; i++) slot.responseOps.push(unchecked(out.responseOps[i]));
  if (ok && out.routeChanged()) clearRouteCache();
}

const outcome = new RuleOutcome();

export class RulesStage extends Stage {
  hasBodyRules: bool = false;

  constructor(public rules: Rule[]) {
    super("rules");
    for (let i = 0; i < rules.length; i++) if (unchecked(rules[i]).needsBody) this.hasBodyRules = true;
  }

  onRequestHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    if (this.rules.length == 0) return FilterHeadersStatus.Continue;
    const slot = new RulesSlot(this);
    stream.slots[this.index] = slot;
    readRequestHeaders(slot.headers);
    outcome.reset();
    evaluateRules(this.rules, RulePhase.Headers, slot.headers, hostProperties, null, outcome);
    applyRequestOutcome(outcome, slot);
    if (!this.hasBodyRules) slot.bodyPhaseDone = true;
    return FilterHeadersStatus.Continue;
  }

  runBodyPhase(slot: RulesSlot, model: string | null, liveHeaders: bool = false): void {
    if (slot.bodyPhaseDone) return;
    slot.bodyPhaseDone = true;
    // Hold mode: the header map is still the host's to forward, and later stages changed it
    // (model headers set, client steering headers stripped): match on what goes upstream.
    if (liveHeaders) readRequestHeaders(slot.headers);
    outcome.reset();
    evaluateRules(this.rules, RulePhase.Body, slot.headers, hostProperties, model, outcome);
    applyRequestOutcome(outcome, slot);
  }

  onResponseHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    const slot = stream.slots[this.index];
    if (slot instanceof RulesSlot) applyOps(MapType.HttpResponseHeaders, (<RulesSlot>slot).responseOps, null);
    return FilterHeadersStatus.Continue;
  }
}

/** Replaces `view` with the request headers as the host holds them now. */
function readRequestHeaders(view: HeaderList): void {
  const pairs = getHeaderMapPairs(MapType.HttpRequestHeaders);
  view.clear();
  for (let i = 0, n = pairs.length; i < n; i++) view.add(unchecked(pairs[i]).key, unchecked(pairs[i]).value);
}

/** The rules stage's slot on this stream, or null when there is no `rules` section. */
export function rulesSlotOf(stream: StreamState): RulesSlot | null {
  const slots = stream.slots;
  for (let i = 0, n = slots.length; i < n; i++) {
    const s = slots[i];
    if (s instanceof RulesSlot) return <RulesSlot>s;
  }
  return null;
}

/**
 * Runs the rules that need the model (called by the bodyRouting stage once it knows the model,
 * or knows there is none). No-op without a `rules` section or when already run. In hold mode
 * the request headers are readable here (headers callback, or held for the body), so the
 * rules see them as they are now; otherwise the view kept from the headers callback is used.
 */
export function runBodyPhaseRules(stream: StreamState, model: string | null): void {
  const slot = rulesSlotOf(stream);
  if (slot == null || slot.bodyPhaseDone) return;
  slot.stage.runBodyPhase(slot, model, stream.holdHeadersForBody);
}

export class RulesSection extends ConfigSection {
  constructor() {
    super("rules");
  }

  parse(r: ConfigReader, node: ConfigNode): Stage | null {
    const rules = readRulesSection(r, node);
    if (rules == null) return null;
    return new RulesStage(rules);
  }
}
