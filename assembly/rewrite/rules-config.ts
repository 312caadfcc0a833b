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
import { ConfigNode, ConfigReader, quote } from "../config/reader";
import { PathPattern, globError } from "./path-pattern";
import { Cidr } from "./cidr";
import { propertyKey } from "./property-key";
import { Template, SourceKind } from "./template";
import { isValidHeaderName, isSafeHeaderValue, isReservedHeaderName } from "./header-name";
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

const RULE_KEYS = ["name", "match", "request", "response"];
const MATCH_KEYS = ["path", "methods", "authority", "headers", "properties", "models"];
const REQUEST_KEYS = ["remove", "rename", "set", "append", "rewritePathPrefix", "authority"];
const RESPONSE_KEYS = ["remove", "set", "append"];
const NAME_RULE = "must be a lower-case header name token (a-z 0-9 !#$%&'*+-.^_`|~)";
const METHOD_NAMES = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

export function readRulesSection(r: ConfigReader, node: ConfigNode): Rule[] | null {
  if (!r.requireArray(node)) return null;
  if (node.length > MAX_RULES) {
    r.fail(node, "at most " + MAX_RULES.toString() + " rules are allowed, got " + node.length.toString());
    return null;
  }
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
  if (!r.requireObject(node) || !r.rejectUnknownKeys(node, ["properties"])) return null;
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
  if (!r.requireObject(node) || !r.rejectUnknownKeys(node, RULE_KEYS)) return null;
  const rule = new Rule();
  rule.name = r.optNonEmptyString(node, "name", "rules[" + index.toString() + "]");
  const match = r.optObject(node, "match");
  if (match != null) readMatch(r, match, rule);
  const request = r.optObject(node, "request");
  if (request != null) readRequestActions(r, request, rule);
  const response = r.optObject(node, "response");
  if (response != null) {
    if (r.rejectUnknownKeys(response, RESPONSE_KEYS)) readHeaderActions(r, response, rule.response, rule);
  }
  return r.ok ? rule : null;
}

function readMatch(r: ConfigReader, node: ConfigNode, rule: Rule): void {
  if (!r.rejectUnknownKeys(node, MATCH_KEYS)) return;
  const m = rule.match;
  const path = r.optObject(node, "path");
  if (path != null) m.path = readPathMatch(r, path);

  const methods = r.optArray(node, "methods");
  if (methods != null) {
    for (let i = 0; i < methods.length && r.ok; i++) {
      const el = methods.at(i)!;
      const method = r.stringOf(el);
      if (!r.ok) return;
      if (!isMethodToken(method)) {
        r.fail(el, "must be an upper-case HTTP method such as " + METHOD_NAMES.join(", ") + ", got " + quote(method));
        return;
      }
      m.methods.push(method);
    }
  }

  const authority = r.optObject(node, "authority");
  if (authority != null) {
    const c = new ValueCondition();
    if (readStringCondition(r, authority, c, ["exact", "prefix", "suffix"], false, false)) m.authority = c;
  }

  const headers = r.optArray(node, "headers");
  if (headers != null) {
    for (let i = 0; i < headers.length && r.ok; i++) {
      const h = headers.at(i)!;
      if (!r.requireObject(h) || !r.rejectUnknownKeys(h, ["name", "equals", "prefix", "suffix", "present"])) return;
      const c = new ValueCondition();
      c.key = readHeaderName(r, h, "name", false);
      if (!r.ok) return;
      if (readStringCondition(r, h, c, ["equals", "prefix", "suffix"], true, false)) m.headers.push(c);
    }
  }

  const props = r.optArray(node, "properties");
  if (props != null) {
    for (let i = 0; i < props.length && r.ok; i++) {
      const p = props.at(i)!;
      if (!r.requireObject(p) || !r.rejectUnknownKeys(p, ["path", "equals", "prefix", "suffix", "present", "cidr"])) return;
      const c = new ValueCondition();
      c.key = readPropertyPath(r, p);
      if (!r.ok) return;
      if (readStringCondition(r, p, c, ["equals", "prefix", "suffix"], true, true)) m.properties.push(c);
    }
  }

  const models = r.optArray(node, "models");
  if (models != null) {
    for (let i = 0; i < models.length && r.ok; i++) {
      const el = models.at(i)!;
      const s = r.stringOf(el);
      if (r.ok && s.length == 0) r.fail(el, "must not be empty");
      m.models.push(s);
    }
    if (r.ok && m.models.length == 0) r.fail(models, "must list at least one model (omit the field to match any)");
    rule.needsBody = true;
  }
}

function isMethodToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || c == 0x2d || c == 0x5f)) return false;
  }
  return true;
}

function readPathMatch(r: ConfigReader, node: ConfigNode): PathPattern | null {
  if (!r.rejectUnknownKeys(node, ["exact", "prefix", "glob"])) return null;
  if (node.length != 1) {
    r.fail(node, "must have exactly one of \"exact\", \"prefix\", \"glob\"");
    return null;
  }
  const key = node.value.keyAt(0);
  const valueNode = node.child(key)!;
  const s = r.stringOf(valueNode);
  if (!r.ok) return null;
  if (s.length == 0 || s.charCodeAt(0) != 0x2f) {
    r.fail(valueNode, "must start with \"/\"");
    return null;
  }
  if (key == "exact") return PathPattern.exact(s);
  if (key == "prefix") return PathPattern.prefix(s);
  const err = globError(s);
  if (err.length > 0) {
    r.fail(valueNode, err);
    return null;
  }
  return PathPattern.glob(s);
}

/**
 * Reads one of `kinds` (a string operand) or, when allowed, `present` / `cidr`. Exactly one
 * must be given.
 */
function readStringCondition(
  r: ConfigReader,
  node: ConfigNode,
  c: ValueCondition,
  kinds: string[],
  allowPresent: bool,
  allowCidr: bool,
): bool {
  let found = 0;
  for (let k = 0; k < kinds.length; k++) {
    const child = node.child(kinds[k]);
    if (child == null) continue;
    found++;
    c.value = r.stringOf(child);
    c.kind = k == 0 ? ValueMatchKind.Exact : k == 1 ? ValueMatchKind.Prefix : ValueMatchKind.Suffix;
  }
  if (allowPresent && node.child("present") != null) {
    found++;
    c.kind = r.optBool(node, "present", true) ? ValueMatchKind.Present : ValueMatchKind.Absent;
  }
  if (allowCidr) {
    const cidrs = r.optArray(node, "cidr");
    if (cidrs != null) {
      found++;
      c.kind = ValueMatchKind.Cidr;
      if (cidrs.length == 0) r.fail(cidrs, "must list at least one CIDR range");
      for (let i = 0; i < cidrs.length && r.ok; i++) {
        const el = cidrs.at(i)!;
        const text = r.stringOf(el);
        if (!r.ok) break;
        const cidr = Cidr.parse(text);
        if (cidr == null) {
          r.fail(el, "invalid CIDR " + quote(text) + " (e.g. \"10.0.0.0/8\", \"fd00::/8\", or a single address)");
          break;
        }
        c.cidrs.push(cidr);
      }
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

function readPropertyPath(r: ConfigReader, node: ConfigNode): string {
  const child = node.child("path");
  if (child == null) {
    r.failAt(node.path + ".path", "required field is missing");
    return "";
  }
  const s = r.stringOf(child);
  if (!r.ok) return "";
  const key = propertyKey(s);
  if (key == null) {
    r.fail(child, "must be a dotted Envoy property path such as \"source.address\" (a segment with dots in brackets: \"filter_state[io.istio.peer_principal]\"), got " + quote(s));
    return "";
  }
  return key;
}

function readHeaderName(r: ConfigReader, node: ConfigNode, key: string, forWrite: bool): string {
  const child = node.child(key);
  if (child == null) {
    r.failAt(node.path + "." + key, "required field is missing");
    return "";
  }
  const s = r.stringOf(child);
  if (!r.ok) return "";
  checkHeaderName(r, child, s, forWrite);
  return s;
}

function checkHeaderName(r: ConfigReader, at: ConfigNode, name: string, forWrite: bool): void {
  if (!isValidHeaderName(name)) {
    r.fail(at, quote(name) + " " + NAME_RULE);
  } else if (forWrite && isReservedHeaderName(name)) {
    r.fail(at, quote(name) + " is managed by the proxy and cannot be changed by rules");
  }
}

function readTemplate(r: ConfigReader, node: ConfigNode, rule: Rule): Template | null {
  const text = r.stringOf(node);
  if (!r.ok) return null;
  if (!isSafeHeaderValue(text)) {
    r.fail(node, "must not contain CR, LF or NUL");
    return null;
  }
  const t = Template.compile(text);
  if (t.error.length > 0) {
    r.fail(node, t.error);
    return null;
  }
  if (t.uses(SourceKind.Model)) rule.needsBody = true;
  return t;
}

/** remove / set / append (and rename when `rename` is allowed by the caller's key list). */
function readHeaderActions(r: ConfigReader, node: ConfigNode, into: HeaderAction[], rule: Rule): void {
  const remove = r.optArray(node, "remove");
  if (remove != null) {
    for (let i = 0; i < remove.length && r.ok; i++) {
      const el = remove.at(i)!;
      const name = r.stringOf(el);
      if (!r.ok) return;
      checkHeaderName(r, el, name, true);
      const a = new HeaderAction();
      a.kind = HeaderActionKind.Remove;
      a.name = name;
      into.push(a);
    }
  }
  const rename = r.optObject(node, "rename");
  if (rename != null) {
    for (let i = 0; i < rename.length && r.ok; i++) {
      const from = rename.value.keyAt(i);
      const toNode = rename.child(from)!;
      checkHeaderName(r, toNode, from, true);
      const to = r.stringOf(toNode);
      if (!r.ok) return;
      checkHeaderName(r, toNode, to, true);
      const a = new HeaderAction();
      a.kind = HeaderActionKind.Rename;
      a.name = from;
      a.newName = to;
      into.push(a);
    }
  }
  readTemplateMap(r, node, "set", HeaderActionKind.Set, into, rule);
  readTemplateMap(r, node, "append", HeaderActionKind.Append, into, rule);
}

function readTemplateMap(r: ConfigReader, node: ConfigNode, key: string, kind: HeaderActionKind, into: HeaderAction[], rule: Rule): void {
  const map = r.optObject(node, key);
  if (map == null) return;
  for (let i = 0; i < map.length && r.ok; i++) {
    const name = map.value.keyAt(i);
    const valueNode = map.child(name)!;
    checkHeaderName(r, valueNode, name, true);
    if (!r.ok) return;
    const t = readTemplate(r, valueNode, rule);
    if (t == null) return;
    const a = new HeaderAction();
    a.kind = kind;
    a.name = name;
    a.template = t;
    into.push(a);
  }
}

function readRequestActions(r: ConfigReader, node: ConfigNode, rule: Rule): void {
  if (!r.rejectUnknownKeys(node, REQUEST_KEYS)) return;
  readHeaderActions(r, node, rule.request, rule);
  if (!r.ok) return;
  const rewrite = r.optObject(node, "rewritePathPrefix");
  if (rewrite != null) {
    if (!r.rejectUnknownKeys(rewrite, ["prefix", "replacement"])) return;
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
