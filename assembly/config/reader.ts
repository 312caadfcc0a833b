/**
 * ConfigReader: walks a parsed JSON config, tracking the JSON path, and keeps the FIRST error
 * as `$.a.b[2].c: <what is wrong>`. Every section parser (headers, rules, bodyRouting, pools)
 * reads its section through one shared reader, so errors look the same everywhere.
 *
 * API summary
 * - `ConfigNode`: a JsonValue plus its path. `node.value`, `node.path`, `node.length`,
 *   `node.at(i)` (element node, path `…[i]`), `node.child(key)` (member node or null, path
 *   `….key`, or `…["odd key"]` when the key is not an identifier), `node.keys()`.
 * - `ConfigReader`: `root(value)` → node with path `$`. `ok`, `error` ("" when ok),
 *   `fail(node, message)`, `failAt(path, message)` (first error wins; later ones are ignored).
 * - Shape checks: `requireObject(node)`, `requireArray(node)`, `rejectUnknownKeys(obj, allowed)`
 *   (error names the unknown key's path and lists the allowed keys).
 * - Members (obj must be an object node; absent key → default, wrong type → error):
 *   `optString(obj, key, dflt)`, `requireString(obj, key)`, `optNonEmptyString`,
 *   `optNumber(obj, key, dflt, min, max)`, `optInt(obj, key, dflt, min, max)` (must be an
 *   integer), `optBool(obj, key, dflt)`, `optObject(obj, key)` / `requireObjectField`,
 *   `optArray(obj, key)` / `requireArrayField` (→ ConfigNode | null), `optEnum(obj, key,
 *   allowed, dflt)`, `optStringArray(obj, key)`, `checkEnum(node, allowed)`.
 * - Values: `stringOf(node)`, `numberOf(node, min, max)`, `intOf(node, min, max)` for elements.
 *
 * JSON `null` is a wrong type, not "absent": the schemas say so too, and accepting it would make
 * `{"timeoutMs": null}` silently mean the default.
 *
 * Usage:
 *   const r = new ConfigReader();
 *   const root = r.root(json);
 *   if (!r.requireObject(root)) return;
 *   r.rejectUnknownKeys(root, ["rules"]);
 *   const rules = r.optArray(root, "rules");
 *   if (rules != null) for (let i = 0; i < rules.length; i++) { const rule = rules.at(i); … }
 *   if (!r.ok) log(r.error);
 */
import { hexByte } from "../json/hex";
import { JsonValue } from "../json/value";

export class ConfigNode {
  constructor(
    public value: JsonValue,
    public path: string,
  ) {}

  get length(): i32 {
    return this.value.length;
  }

  /** Element `i` of an array node (null when out of range or not an array). */
  at(i: i32): ConfigNode | null {
    const v = this.value.at(i);
    if (v == null) return null;
    return new ConfigNode(v, this.path + "[" + i.toString() + "]");
  }

  /** Member `key` of an object node (null when absent or not an object). */
  child(key: string): ConfigNode | null {
    const v = this.value.get(key);
    if (v == null) return null;
    return new ConfigNode(v, memberPath(this.path, key));
  }

  keys(): string[] {
    return this.value.keys();
  }
}

/** `$.a` for identifier-like keys, `$["a b"]` otherwise. */
export function memberPath(parent: string, key: string): string {
  if (isIdentifier(key)) return parent + "." + key;
  return parent + "[" + quote(key) + "]";
}

function isIdentifier(key: string): bool {
  const n = key.length;
  if (n == 0) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    const alpha = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f || c == 0x24;
    const digit = c >= 0x30 && c <= 0x39;
    if (!(alpha || (digit && i > 0))) return false;
  }
  return true;
}

/** A JSON string literal for `s`, for messages. Control characters are escaped. */
export function quote(s: string): string {
  let out = "\"";
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20 || c == 0x7f) out += "\\u00" + hexByte(c);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

function formatNumber(x: f64): string {
  if (x == Math.floor(x) && Math.abs(x) < 1e15) return (<i64>x).toString();
  return x.toString();
}

export class ConfigReader {
  private firstError: string = "";

  get ok(): bool {
    return this.firstError.length == 0;
  }

  /** The first error (`<path>: <message>`), "" when none. */
  get error(): string {
    return this.firstError;
  }

  root(value: JsonValue): ConfigNode {
    return new ConfigNode(value, "$");
  }

  failAt(path: string, message: string): void {
    if (this.firstError.length == 0) this.firstError = path + ": " + message;
  }

  fail(node: ConfigNode, message: string): void {
    this.failAt(node.path, message);
  }

  private wrongType(node: ConfigNode, expected: string): void {
    this.fail(node, "expected " + expected + ", got " + node.value.kindName());
  }

  requireObject(node: ConfigNode): bool {
    if (node.value.isObject()) return true;
    this.wrongType(node, "object");
    return false;
  }

  requireArray(node: ConfigNode): bool {
    if (node.value.isArray()) return true;
    this.wrongType(node, "array");
    return false;
  }

  /** Fails on the first member of `obj` whose key is not in `allowed`. */
  rejectUnknownKeys(obj: ConfigNode, allowed: string[]): bool {
    if (!obj.value.isObject()) return true;
    for (let i = 0, n = obj.value.length; i < n; i++) {
      const key = obj.value.keyAt(i);
      if (!allowed.includes(key)) {
        this.failAt(
          memberPath(obj.path, key),
          "unknown field " + quote(key) + " (allowed: " + allowed.join(", ") + ")",
        );
        return false;
      }
    }
    return true;
  }

  // ---- values (array elements or members already fetched) ----

  stringOf(node: ConfigNode): string {
    if (node.value.isString()) return node.value.asString();
    this.wrongType(node, "string");
    return "";
  }

  numberOf(node: ConfigNode, min: f64 = -Infinity, max: f64 = Infinity): f64 {
    if (!node.value.isNumber()) {
      this.wrongType(node, "number");
      return min > -Infinity ? min : 0;
    }
    const x = node.value.asNumber();
    if (x < min || x > max) {
      this.fail(node, "must be between " + formatNumber(min) + " and " + formatNumber(max) + ", got " + formatNumber(x));
      return x < min ? min : max;
    }
    return x;
  }

  intOf(node: ConfigNode, min: i64, max: i64): i64 {
    if (!node.value.isNumber()) {
      this.wrongType(node, "integer");
      return min;
    }
    const x = node.value.asNumber();
    if (x != Math.floor(x) || !isFinite(x)) {
      this.fail(node, "expected integer, got " + formatNumber(x));
      return min;
    }
    if (x < <f64>min || x > <f64>max) {
      this.fail(node, "must be between " + min.toString() + " and " + max.toString() + ", got " + formatNumber(x));
      return x < <f64>min ? min : max;
    }
    return <i64>x;
  }

  /** Fails unless `node` is a string in `allowed`; returns it (or `allowed[0]` on error). */
  checkEnum(node: ConfigNode, allowed: string[]): string {
    const s = this.stringOf(node);
    if (!this.ok) return allowed.length > 0 ? allowed[0] : "";
    if (!allowed.includes(s)) {
      const quoted = new Array<string>();
      for (let i = 0; i < allowed.length; i++) quoted.push(quote(allowed[i]));
      this.fail(node, "must be one of " + quoted.join(", ") + ", got " + quote(s));
      return allowed.length > 0 ? allowed[0] : "";
    }
    return s;
  }

  // ---- members ----

  optString(obj: ConfigNode, key: string, dflt: string = ""): string {
    const node = obj.child(key);
    if (node == null) return dflt;
    return this.stringOf(node);
  }

  requireString(obj: ConfigNode, key: string): string {
    const node = obj.child(key);
    if (node == null) {
      this.missing(obj, key);
      return "";
    }
    return this.stringOf(node);
  }

  /** Like optString but an explicitly empty string is an error. */
  optNonEmptyString(obj: ConfigNode, key: string, dflt: string = ""): string {
    const node = obj.child(key);
    if (node == null) return dflt;
    const s = this.stringOf(node);
    if (this.ok && s.length == 0) this.fail(node, "must not be empty");
    return s;
  }

  optNumber(obj: ConfigNode, key: string, dflt: f64, min: f64 = -Infinity, max: f64 = Infinity): f64 {
    const node = obj.child(key);
    if (node == null) return dflt;
    return this.numberOf(node, min, max);
  }

  optInt(obj: ConfigNode, key: string, dflt: i64, min: i64, max: i64): i64 {
    const node = obj.child(key);
    if (node == null) return dflt;
    return this.intOf(node, min, max);
  }

  optBool(obj: ConfigNode, key: string, dflt: bool): bool {
    const node = obj.child(key);
    if (node == null) return dflt;
    if (!node.value.isBool()) {
      this.wrongType(node, "boolean");
      return dflt;
    }
    return node.value.asBool();
  }

  optEnum(obj: ConfigNode, key: string, allowed: string[], dflt: string): string {
    const node = obj.child(key);
    if (node == null) return dflt;
    return this.checkEnum(node, allowed);
  }

  optObject(obj: ConfigNode, key: string): ConfigNode | null {
    const node = obj.child(key);
    if (node == null) return null;
    return this.requireObject(node) ? node : null;
  }

  requireObjectField(obj: ConfigNode, key: string): ConfigNode | null {
    const node = obj.child(key);
    if (node == null) {
      this.missing(obj, key);
      return null;
    }
    return this.requireObject(node) ? node : null;
  }

  optArray(obj: ConfigNode, key: string): ConfigNode | null {
    const node = obj.child(key);
    if (node == null) return null;
    return this.requireArray(node) ? node : null;
  }

  requireArrayField(obj: ConfigNode, key: string): ConfigNode | null {
    const node = obj.child(key);
    if (node == null) {
      this.missing(obj, key);
      return null;
    }
    return this.requireArray(node) ? node : null;
  }

  /** An array of strings; absent → empty array. */
  optStringArray(obj: ConfigNode, key: string): string[] {
    const out = new Array<string>();
    const arr = this.optArray(obj, key);
    if (arr == null) return out;
    for (let i = 0, n = arr.length; i < n; i++) {
      const el = arr.at(i)!;
      const s = this.stringOf(el);
      if (!this.ok) break;
      out.push(s);
    }
    return out;
  }

  private missing(obj: ConfigNode, key: string): void {
    this.failAt(memberPath(obj.path, key), "required field is missing");
  }
}
