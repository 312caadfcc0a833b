/**
 * The rule engine: evaluates the ordered `rules` against one request and returns the edits.
 *
 * API summary
 * - `PropertySource`: abstract `get(path: string): string | null`; the plugin entry implements
 *   it with proxy_get_property (dotted path → segments), tests with a map.
 * - `evaluateRules(rules, phase, headers, props, model, out: RuleOutcome)`:
 *   `phase` is `RulePhase.Headers` (rules that do not need the body) or `RulePhase.Body`
 *   (rules that match on `models` or render `{{model}}`; the caller passes the model after
 *   body routing, or null). `headers` is the request header list INCLUDING `:method`,
 *   `:path`, `:authority`; it is updated as actions apply, so each rule sees the request as
 *   the rules before it left it.
 * - `RuleOutcome`: `ops: HeaderOp[]` (request header operations in order: Set = replace all
 *   values, Append = add a value, Remove), `path`/`authority` (new values or null),
 *   `responseOps` (already rendered; apply to the response headers), `matched` (rule count),
 *   `skippedMissing` (actions skipped because a template value was missing),
 *   `skippedUnsafe` (actions skipped because the value had CR, LF or NUL),
 *   `routeChanged()` (any request edit, i.e. the route cache should be cleared in route mode).
 *
 * Values that would contain CR, LF or NUL are never emitted.
 */
import { HeaderList } from "./header-list";
import { isSafeHeaderValue } from "./header-name";
import { ipFromAddress } from "./cidr";
import { pathOnly } from "./path-pattern";
import { propertyKey } from "./property-key";
import { Template, TemplateContext } from "./template";
import { Rule, RuleMatch, ValueCondition, ValueMatchKind, HeaderAction, HeaderActionKind } from "./rule";

export enum RulePhase {
  Headers = 0,
  Body = 1,
}

export enum HeaderOpKind {
  Set = 0,
  Append = 1,
  Remove = 2,
}

export class HeaderOp {
  constructor(
    public kind: HeaderOpKind,
    public name: string,
    public value: string,
  ) {}
}

/** Property values by key: the property path's segments joined by NUL (see property-key.ts). */
export abstract class PropertySource {
  abstract get(key: string): string | null;
}

/** A PropertySource over a fixed map (tests). `set` takes the config spelling of the path. */
export class MapPropertySource extends PropertySource {
  private keys: string[] = [];
  private values: string[] = [];
  set(path: string, value: string): MapPropertySource {
    const key = propertyKey(path);
    this.keys.push(key != null ? key : path);
    this.values.push(value);
    return this;
  }
  get(key: string): string | null {
    const i = this.keys.indexOf(key);
    return i < 0 ? null : this.values[i];
  }
}

export class RuleOutcome {
  ops: HeaderOp[] = [];
  path: string | null = null;
  authority: string | null = null;
  responseOps: HeaderOp[] = [];
  matched: i32 = 0;
  skippedMissing: i32 = 0;
  skippedUnsafe: i32 = 0;

  reset(): void {
    this.ops.length = 0;
    this.path = null;
    this.authority = null;
    this.responseOps.length = 0;
    this.matched = 0;
    this.skippedMissing = 0;
    this.skippedUnsafe = 0;
  }

  routeChanged(): bool {
    return this.ops.length > 0 || this.path != null || this.authority != null;
  }
}

class RequestTemplateContext extends TemplateContext {
  headers: HeaderList = new HeaderList();
  props: PropertySource | null = null;
  modelValue: string | null = null;

  header(name: string): string | null {
    return this.headers.get(name);
  }
  property(path: string): string | null {
    const p = this.props;
    return p == null ? null : p.get(path);
  }
  model(): string | null {
    return this.modelValue;
  }
}

const ctx = new RequestTemplateContext();
const ipScratch = new StaticArray<u8>(16);

function valueMatches(cond: ValueCondition, value: string | null): bool {
  switch (cond.kind) {
    case ValueMatchKind.Present:
      return value != null;
    case ValueMatchKind.Absent:
      return value == null;
    case ValueMatchKind.Exact:
      return value != null && value == cond.value;
    case ValueMatchKind.Prefix:
      return value != null && value.startsWith(cond.value);
    case ValueMatchKind.Suffix:
      return value != null && value.endsWith(cond.value);
    default: {
      if (value == null) return false;
      const fam = ipFromAddress(value, ipScratch);
      if (fam == 0) return false;
      for (let i = 0; i < cond.cidrs.length; i++) {
        if (unchecked(cond.cidrs[i]).contains(fam, ipScratch)) return true;
      }
      return false;
    }
  }
}

function ruleMatches(m: RuleMatch, headers: HeaderList, props: PropertySource, model: string | null): bool {
  const path = m.path;
  if (path != null) {
    const p = headers.get(":path");
    if (p == null || !path.matches(p)) return false;
  }
  if (m.methods.length > 0) {
    const method = headers.get(":method");
    if (method == null || !m.methods.includes(method)) return false;
  }
  const authority = m.authority;
  if (authority != null && !valueMatches(authority, headers.get(":authority"))) return false;
  for (let i = 0; i < m.headers.length; i++) {
    const c = unchecked(m.headers[i]);
    if (!valueMatches(c, headers.get(c.key))) return false;
  }
  if (!propertiesMatch(m, props)) return false;
  if (m.models.length > 0) {
    if (model == null || !m.models.includes(model)) return false;
  }
  return true;
}

/**
 * Whether every property condition of `m` holds (the caller-identity part of a match; see
 * readPeerMatch). Property values are read through `props` only as needed.
 */
export function propertiesMatch(m: RuleMatch, props: PropertySource): bool {
  for (let i = 0; i < m.properties.length; i++) {
    const c = unchecked(m.properties[i]);
    if (!valueMatches(c, props.get(c.key))) return false;
  }
  return true;
}

function render(t: Template, headers: HeaderList): string | null {
  const method = headers.get(":method");
  const path = headers.get(":path");
  const authority = headers.get(":authority");
  return t.render(ctx, method == null ? "" : method, path == null ? "" : path, authority == null ? "" : authority);
}

/** Renders and applies header actions; `toRequest` also updates the working header list. */
function applyActions(actions: HeaderAction[], headers: HeaderList, ops: HeaderOp[], toRequest: bool, out: RuleOutcome): void {
  for (let i = 0; i < actions.length; i++) {
    const a = unchecked(actions[i]);
    if (a.kind == HeaderActionKind.Remove) {
      ops.push(new HeaderOp(HeaderOpKind.Remove, a.name, ""));
      if (toRequest) headers.remove(a.name);
      continue;
    }
    if (a.kind == HeaderActionKind.Rename) {
      const v = headers.get(a.name);
      if (v == null) continue;
      ops.push(new HeaderOp(HeaderOpKind.Remove, a.name, ""));
      ops.push(new HeaderOp(HeaderOpKind.Set, a.newName, v));
      headers.remove(a.name);
      headers.set(a.newName, v);
      continue;
    }
    const value = render(a.template!, headers);
    if (value == null) {
      out.skippedMissing++;
      continue;
    }
    if (!isSafeHeaderValue(value)) {
      out.skippedUnsafe++;
      continue;
    }
    // Set and Append have the same values in HeaderActionKind and HeaderOpKind.
    ops.push(new HeaderOp(<HeaderOpKind>a.kind, a.name, value));
    if (!toRequest) continue;
    if (a.kind == HeaderActionKind.Set) headers.set(a.name, value);
    else headers.add(a.name, value);
  }
}

export function evaluateRules(
  rules: Rule[],
  phase: RulePhase,
  headers: HeaderList,
  props: PropertySource,
  model: string | null,
  out: RuleOutcome,
): void {
  ctx.headers = headers;
  ctx.props = props;
  ctx.modelValue = model;
  const wantBody = phase == RulePhase.Body;
  for (let r = 0, rn = rules.length; r < rn; r++) {
    const rule = unchecked(rules[r]);
    if (rule.needsBody != wantBody) continue;
    if (!ruleMatches(rule.match, headers, props, model)) continue;
    out.matched++;
    applyActions(rule.request, headers, out.ops, true, out);
    const rewrite = rule.pathRewrite;
    if (rewrite != null) {
      const current = headers.get(":path");
      if (current != null) {
        const only = pathOnly(current);
        if (only.startsWith(rewrite.prefix)) {
          const next = rewrite.replacement + current.substring(rewrite.prefix.length);
          if (isSafeHeaderValue(next)) {
            out.path = next;
            headers.set(":path", next);
          } else {
            out.skippedUnsafe++;
          }
        }
      }
    }
    const authority = rule.authority;
    if (authority != null) {
      const v = render(authority, headers);
      if (v == null || v.length == 0) out.skippedMissing++;
      else if (!isSafeHeaderValue(v)) out.skippedUnsafe++;
      else {
        out.authority = v;
        headers.set(":authority", v);
      }
    }
    applyActions(rule.response, headers, out.responseOps, false, out);
  }
}
