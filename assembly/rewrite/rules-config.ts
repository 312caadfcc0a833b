/**
 * The `rules` config section → Rule[]. Schema: schemas/rules.schema.json (keep in step).
 *
 * API: `readRulesSection(r: ConfigReader, node: ConfigNode): Rule[] | null` (node is `$.rules`;
 * on the first problem it reports `<path>: <message>` through `r` and returns null).
 *
 * Shape (see docs/rewriting.md):
 *   [{ "name"?: string,
 *      "match"?: { "path"?: {"exact"|"prefix"|"glob": string},
 *                  "methods"?: [string],
 *                  "authority"?: {"exact"|"prefix"|"suffix": string},
 *                  "headers"?: [{"name": string, ("equals"|"prefix"|"suffix": string) | "present": bool}],
 *                  "properties"?: [{"path": string, ("equals"|"prefix"|"suffix": string) |
 *                                   "present": bool | "cidr": [string]}],
 *                  "models"?: [string] },
 *      "request"?: { "remove"?: [name], "rename"?: {old: new}, "set"?: {name: template},
 *                    "append"?: {name: template},
 *                    "rewritePathPrefix"?: {"prefix": string, "replacement": string},
 *                    "authority"?: template },
 *      "response"?: { "remove"?: [name], "set"?: {name: template}, "append"?: {name: template} } }]
 */
import { ConfigNode, ConfigReader, quote, words } from "../config/reader";
import { atMost, failIf, headerNameProblem, isObjectWith, readStrings } from "../config/checks";
import { PathPattern, globError } from "./path-pattern";
import { Cidr } from "./cidr";
import { propertyKey } from "./property-key";
import { Template, SourceKind } from "./template";
import { isSafeHeaderValue } from "./header-name";
import {
  Rule,
  RuleMatch,
  ValueCondition,
  ValueMatchKind,
  HeaderAction,
  HeaderActionKind,
  PathPrefixRewrite,
} from "./rule";

/** Rules a config may hold; evaluation is linear, so keep it bounded. */
export const MAX_RULES: i32 = 256;

const RULE_KEYS = "name match request response";
const MATCH_KEYS = "path methods authority headers properties models";
const REQUEST_KEYS = "remove rename set append rewritePathPrefix authority";
const RESPONSE_KEYS = "remove set append";
const HEADER_CONDITION_KEYS = "name equals prefix suffix present";
const PROPERTY_CONDITION_KEYS = "path equals prefix suffix present cidr";
const VALUE_KINDS = "equals prefix suffix";
const METHOD_NAMES = "GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH";
/** Why rules may not touch a proxy-owned header (appended to "is managed by the proxy"). */
const RULES_MAY_NOT = " and cannot be changed by rules";

export function readRulesSection(r: ConfigReader, node: ConfigNode): Rule[] | null {
  if (!r.requireArray(node) || !atMost(r, node, MAX_RULES, "rules")) return null;
  const rules = new Array<Rule>();
  for (let i = 0, n = node.length; i < n && r.ok; i++) {
    const rule = readRule(r, node.at(i)!, i);
    if (rule != null) rules.push(rule);
  }
  return r.ok ? rules : null;
}

/**
 * A caller identity condition: a rule `match` that may hold only `properties` (peer identity
 * such as `filter_state[io.istio.peer_principal]`, `source.principal`, `source.address` with
 * `cidr`), at least one. Request headers, paths and models are refused here: a client writes
 * those itself, so they cannot say who the caller is. Null after reporting a problem.
 */
export function readPeerMatch(r: ConfigReader, node: ConfigNode): RuleMatch | null {
  if (!isObjectWith(r, node, "properties")) return null;
  const props = r.requireArrayField(node, "properties");
  if (props == null) return null;
  if (props.length == 0) {
    r.fail(props, "must list at least one property condition (a caller is named by its identity)");
    return null;
  }
  const rule = new Rule();
  readMatch(r, node, rule);
  return r.ok ? rule.match : null;
}

function readRule(r: ConfigReader, node: ConfigNode, index: i32): Rule | null {
  if (!isObjectWith(r, node, RULE_KEYS)) return null;
  const rule = new Rule();
  rule.name = r.optNonEmptyString(node, "name", "rules[" + index.toString() + "]");
  const match = r.optObject(node, "match");
  if (match != null) readMatch(r, match, rule);
  const request = r.optObject(node, "request");
  if (request != null) readRequestActions(r, request, rule);
  const response = r.optObject(node, "response");
  if (response != null && r.rejectUnknown(response, RESPONSE_KEYS)) readHeaderActions(r, response, rule.response, rule);
  return r.ok ? rule : null;
}

// A problem found after a field's first error is never reported (the reader keeps the first),
// so the readers below go on after a failed check where that is safe and shorter.

function readMatch(r: ConfigReader, node: ConfigNode, rule: Rule): void {
  if (!r.rejectUnknown(node, MATCH_KEYS)) return;
  const m = rule.match;
  const path = r.optObject(node, "path");
  if (path != null) m.path = readPathMatch(r, path);
  readStrings(r, node, "methods", m.methods, methodProblem, "");
  const authority = r.optObject(node, "authority");
  if (authority != null) {
    const c = new ValueCondition();
    if (readValueCondition(r, authority, c, "exact prefix suffix", false, false)) m.authority = c;
  }
  readConditions(r, node, "headers", m.headers, false);
  readConditions(r, node, "properties", m.properties, true);
  if (readStrings(r, node, "models", m.models, modelProblem, "must list at least one model (omit the field to match any)") != null) {
    rule.needsBody = true;
  }
}

function methodProblem(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || c == 0x2d || c == 0x5f)) return methodRule(s);
  }
  return s.length == 0 ? methodRule(s) : "";
}

function methodRule(s: string): string {
  return "must be an upper-case HTTP method such as " + METHOD_NAMES + ", got " + quote(s);
}

function modelProblem(s: string): string {
  return s.length == 0 ? "must not be empty" : "";
}

/** `headers` (by header name) or `properties` (by Envoy property path) conditions. */
function readConditions(r: ConfigReader, node: ConfigNode, key: string, into: ValueCondition[], property: bool): void {
  const arr = r.optArray(node, key);
  if (arr == null) return;
  const keyField = property ? "path" : "name";
  for (let i = 0; i < arr.length && r.ok; i++) {
    const el = arr.at(i)!;
    if (!isObjectWith(r, el, property ? PROPERTY_CONDITION_KEYS : HEADER_CONDITION_KEYS)) return;
    const text = r.requireString(el, keyField);
    if (!r.ok) return;
    let key = text;
    if (property) {
      const k = propertyKey(text);
      if (k == null) {
        r.fail(el.child(keyField)!, "must be a dotted Envoy property path such as \"source.address\" (a segment with dots in brackets: \"filter_state[io.istio.peer_principal]\"), got " + quote(text));
        return;
      }
      key = k;
    } else {
      failIf(r, el.child(keyField)!, headerNameProblem(text, null));
    }
    const c = new ValueCondition();
    c.key = key;
    if (readValueCondition(r, el, c, VALUE_KINDS, true, property)) into.push(c);
  }
}

function readPathMatch(r: ConfigReader, node: ConfigNode): PathPattern | null {
  if (!r.rejectUnknown(node, "exact prefix glob")) return null;
  if (node.length != 1) {
    r.fail(node, "must have exactly one of \"exact\", \"prefix\", \"glob\"");
    return null;
  }
  const key = node.value.keyAt(0);
  const valueNode = node.child(key)!;
  const s = r.stringOf(valueNode);
  if (!r.ok) return null;
  if (!s.startsWith("/")) {
    r.fail(valueNode, "must start with \"/\"");
    return null;
  }
  if (key == "exact") return PathPattern.exact(s);
  if (key == "prefix") return PathPattern.prefix(s);
  failIf(r, valueNode, globError(s));
  return r.ok ? PathPattern.glob(s) : null;
}

/**
 * Reads one of `kindList` (names separated by blanks, each with a string operand:
 * exact/equals, prefix, suffix) or, when allowed, `present` / `cidr`. Exactly one must be given.
 */
function readValueCondition(
  r: ConfigReader,
  node: ConfigNode,
  c: ValueCondition,
  kindList: string,
  allowPresent: bool,
  allowCidr: bool,
): bool {
  const kinds = words(kindList);
  let found = 0;
  for (let k = 0; k < kinds.length; k++) {
    const child = node.child(kinds[k]);
    if (child == null) continue;
    found++;
    c.value = r.stringOf(child);
    c.kind = <ValueMatchKind>k; // Exact, Prefix, Suffix are 0, 1, 2: the order of every kind list
  }
  if (allowPresent && node.child("present") != null) {
    found++;
    c.kind = r.optBool(node, "present", true) ? ValueMatchKind.Present : ValueMatchKind.Absent;
  }
  if (allowCidr) {
    const cidrs = readStrings(r, node, "cidr", [], cidrProblem, "must list at least one CIDR range");
    if (cidrs != null) {
      found++;
      c.kind = ValueMatchKind.Cidr;
      // Parsed again here (cheap, configure time) rather than kept by the check.
      for (let i = 0; i < cidrs.length && r.ok; i++) c.cidrs.push(Cidr.parse(cidrs.value.at(i)!.asString())!);
    }
  }
  if (!r.ok) return false;
  if (found != 1) {
    let names = kinds.join("\", \"");
    if (allowPresent) names += "\", \"present";
    if (allowCidr) names += "\", \"cidr";
    r.fail(node, "must have exactly one of \"" + names + "\"");
    return false;
  }
  return true;
}

function cidrProblem(s: string): string {
  if (Cidr.parse(s) != null) return "";
  return "invalid CIDR " + quote(s) + " (e.g. \"10.0.0.0/8\", \"fd00::/8\", or a single address)";
}

function readTemplate(r: ConfigReader, node: ConfigNode, rule: Rule): Template | null {
  const text = r.stringOf(node);
  if (!r.ok) return null;
  if (!isSafeHeaderValue(text)) {
    r.fail(node, "must not contain CR, LF or NUL");
    return null;
  }
  const t = Template.compile(text);
  failIf(r, node, t.error);
  if (!r.ok) return null;
  if (t.uses(SourceKind.Model)) rule.needsBody = true;
  return t;
}

function writableNameProblem(name: string): string {
  return headerNameProblem(name, RULES_MAY_NOT);
}

/** remove / rename / set / append (rename only where the caller's key list allows it). */
function readHeaderActions(r: ConfigReader, node: ConfigNode, into: HeaderAction[], rule: Rule): void {
  const removed = new Array<string>();
  readStrings(r, node, "remove", removed, writableNameProblem, "");
  for (let i = 0; i < removed.length && r.ok; i++) {
    const a = new HeaderAction();
    a.kind = HeaderActionKind.Remove;
    a.name = removed[i];
    into.push(a);
  }
  readHeaderMap(r, node, "rename", HeaderActionKind.Rename, into, rule);
  readHeaderMap(r, node, "set", HeaderActionKind.Set, into, rule);
  readHeaderMap(r, node, "append", HeaderActionKind.Append, into, rule);
}

/** `{name: new name}` (rename) or `{name: template}` (set, append). */
function readHeaderMap(r: ConfigReader, node: ConfigNode, key: string, kind: HeaderActionKind, into: HeaderAction[], rule: Rule): void {
  const map = r.optObject(node, key);
  if (map == null) return;
  for (let i = 0; i < map.length && r.ok; i++) {
    const name = map.value.keyAt(i);
    const valueNode = map.child(name)!;
    failIf(r, valueNode, writableNameProblem(name));
    const a = new HeaderAction();
    a.kind = kind;
    a.name = name;
    if (kind == HeaderActionKind.Rename) {
      a.newName = r.stringOf(valueNode);
      if (r.ok) failIf(r, valueNode, writableNameProblem(a.newName));
    } else if (r.ok) {
      const t = readTemplate(r, valueNode, rule);
      if (t != null) a.template = t;
    }
    into.push(a);
  }
}

function readRequestActions(r: ConfigReader, node: ConfigNode, rule: Rule): void {
  if (!r.rejectUnknown(node, REQUEST_KEYS)) return;
  readHeaderActions(r, node, rule.request, rule);
  if (!r.ok) return;
  const rewrite = r.optObject(node, "rewritePathPrefix");
  if (rewrite != null) {
    if (!r.rejectUnknown(rewrite, "prefix replacement")) return;
    const prefix = r.requireString(rewrite, "prefix");
    const replacement = r.requireString(rewrite, "replacement");
    if (!r.ok) return;
    if (!prefix.startsWith("/")) {
      r.failAt(rewrite.path + ".prefix", "must start with \"/\"");
      return;
    }
    if (!replacement.startsWith("/") || !isSafeHeaderValue(replacement) || replacement.includes("?") || replacement.includes("#")) {
      r.failAt(rewrite.path + ".replacement", "must start with \"/\" and hold no CR, LF, NUL, \"?\" or \"#\"");
      return;
    }
    rule.pathRewrite = new PathPrefixRewrite(prefix, replacement);
  }
  const authority = node.child("authority");
  if (authority != null) {
    const t = readTemplate(r, authority, rule);
    if (t == null) return;
    if (t.isLiteral() && t.text.length == 0) {
      r.fail(authority, "must not be empty");
      return;
    }
    rule.authority = t;
  }
}
