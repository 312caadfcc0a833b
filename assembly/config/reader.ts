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
 * - Declared fields (fields.ts): `readObject(obj, target, keys, rows)` refuses unknown keys, then
 *   `readFields(obj, target, keys, rows, from)` checks and stores each declared field.
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
import { isValidHeaderName } from "../rewrite/header-name";
import { JsonValue } from "../json/value";
import {
  BOOL, CHECKED, CUSTOM, ENUM, HEADER, INT32, INT64, KIND_MASK, NON_EMPTY, NUMBER, PATH, REQUIRED, ROW,
} from "./fields";

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

/** The names of a blank-separated list (spaces or line breaks): a field table's keys or choices. */
export function words(list: string): string[] {
  const out = new Array<string>();
  let start = -1;
  for (let i = 0, n = list.length; i <= n; i++) {
    const c = i < n ? list.charCodeAt(i) : 0x20;
    if (c == 0x20 || c == 0x0a) {
      if (start >= 0) out.push(list.substring(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}

/** Whether `s` equals `list`'s characters [start, end). */
function spanIs(list: string, start: i32, end: i32, s: string): bool {
  if (s.length != end - start) return false;
  for (let i = start; i < end; i++) if (list.charCodeAt(i) != s.charCodeAt(i - start)) return false;
  return true;
}

/** Whether `c` separates the words of a field table's list. */
function isBlank(c: i32): bool {
  return c == 0x20 || c == 0x0a;
}

/**
 * The end of the first word of `list` at or after position `from`, with its start left in
 * `wordStart` (read it before the next call), or -1 when no word is left. The config readers
 * walk their key lists this way instead of splitting them: a split per object would be
 * configure-time garbage for every endpoint, which the collector cannot free before
 * `proxy_on_configure` returns, so it would stay in the VM's high-water mark.
 */
let wordStart: i32 = 0;
function wordEnd(list: string, from: i32): i32 {
  const n = list.length;
  let i = from;
  while (i < n && isBlank(list.charCodeAt(i))) i++;
  if (i >= n) return -1;
  wordStart = i;
  while (i < n && !isBlank(list.charCodeAt(i))) i++;
  return i;
}

/** Index of `s` among the blank-separated words of `list`, -1 when absent (allocates nothing). */
export function wordIndex(list: string, s: string): i32 {
  let index = 0;
  for (let end = wordEnd(list, 0); end >= 0; end = wordEnd(list, end)) {
    if (spanIs(list, wordStart, end, s)) return index;
    index++;
  }
  return -1;
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

  /** rejectUnknownKeys for a field table's key list (`keys`: names separated by blanks). */
  rejectUnknown(obj: ConfigNode, keys: string): bool {
    if (!obj.value.isObject()) return true;
    for (let i = 0, n = obj.value.length; i < n; i++) {
      if (wordIndex(keys, obj.value.keyAt(i)) < 0) return this.rejectUnknownKeys(obj, words(keys));
    }
    return true;
  }

  // ---- declared fields (fields.ts) ----

  /**
   * Refuses keys of `obj` not in `keys`, then reads the declared fields from the first one:
   * `readFields(obj, target, keys, rows, 0, choices)`. Returns where reading stopped.
   */
  readObject(obj: ConfigNode, target: Object, keys: string, rows: usize, choices: string = ""): i32 {
    this.rejectUnknown(obj, keys);
    return this.readFields(obj, target, keys, rows, 0, choices);
  }

  /**
   * Reads declared fields `from`, `from + 1`, ... of `obj` into `target`: `keys` names them
   * (separated by blanks) and `rows` (memory.data) holds one row per name (fields.ts). A present
   * key is checked by its row (kind, flags, bounds) and stored at the row's offset in `target`;
   * an absent one keeps the target's initializer, or is refused when REQUIRED. Stops before a
   * CUSTOM row and just after a CHECKED one, and returns that index: the caller reads or checks
   * that field itself and goes on from there, so problems are found in the order of `keys`.
   * `choices`: the allowed strings (separated by blanks) of the ENUM / ENUM_BOOL rows it reads.
   */
  readFields(obj: ConfigNode, target: Object, keys: string, rows: usize, from: i32 = 0, choices: string = ""): i32 {
    const base = changetype<usize>(target);
    let end = wordEnd(keys, 0);
    for (let k = 0; k < from && end >= 0; k++) end = wordEnd(keys, end);
    let i = from;
    for (; end >= 0; i++, end = wordEnd(keys, end)) {
      const row = rows + <usize>(i * ROW) * sizeof<f64>();
      const spec = <i32>load<f64>(row);
      const kind = spec & KIND_MASK;
      if (kind == <i32>CUSTOM || !this.ok) return i;
      const start = wordStart;
      const node = this.memberAt(obj, keys, start, end);
      if (node == null) {
        if (spec & <i32>REQUIRED) this.missing(obj, keys.substring(start, end));
      } else {
        const at = base + <usize>load<f64>(row, 8);
        const min = load<f64>(row, 16);
        const max = load<f64>(row, 24);
        if (kind <= <i32>INT64) {
          const v = this.intOf(node, <i64>min, <i64>max);
          if (kind == <i32>INT32) store<i32>(at, <i32>v);
          else store<i64>(at, v);
        } else if (kind == <i32>NUMBER) {
          store<f64>(at, this.numberOf(node, min, max));
        } else if (kind == <i32>BOOL) {
          if (node.value.isBool()) store<bool>(at, node.value.asBool());
          else this.wrongType(node, "boolean");
        } else if (kind >= <i32>ENUM) {
          const choice = this.choiceOf(node, choices);
          if (kind == <i32>ENUM) store<i32>(at, choice);
          else store<bool>(at, choice == 1);
        } else {
          const s = this.stringOf(node);
          if (this.ok) this.checkString(node, s, kind, spec);
          // A string is a managed reference: tell the collector (a no-op under the minimal one).
          store<usize>(at, changetype<usize>(s));
          __link(base, changetype<usize>(s), false);
        }
      }
      if (spec & <i32>CHECKED) return i + 1;
    }
    return i;
  }

  /** The first member of `obj` named by `keys`[start, end), as `obj.child` finds it. */
  private memberAt(obj: ConfigNode, keys: string, start: i32, end: i32): ConfigNode | null {
    const v = obj.value;
    if (!v.isObject()) return null;
    for (let j = 0, n = v.length; j < n; j++) {
      const key = v.keyAt(j);
      if (spanIs(keys, start, end, key)) return new ConfigNode(v.valueAt(j)!, memberPath(obj.path, key));
    }
    return null;
  }

  private checkString(node: ConfigNode, s: string, kind: i32, spec: i32): void {
    if (s.length == 0 && (kind == <i32>HEADER || (spec & <i32>NON_EMPTY) != 0)) {
      this.fail(node, "must not be empty");
    } else if (kind == <i32>PATH && !s.startsWith("/")) {
      this.fail(node, "must start with '/'");
    } else if (kind == <i32>HEADER && !isValidHeaderName(s)) {
      this.fail(node, "header names are lower-case tokens (got " + quote(s) + ")");
    }
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

  /** Index of `node`'s string in `allowed`; -1 (and a refusal listing them) when it is not one. */
  choiceIn(node: ConfigNode, allowed: string[]): i32 {
    const s = this.stringOf(node);
    if (!this.ok) return -1;
    const i = allowed.indexOf(s);
    if (i < 0) {
      const quoted = new Array<string>();
      for (let j = 0; j < allowed.length; j++) quoted.push(quote(allowed[j]));
      this.fail(node, "must be one of " + quoted.join(", ") + ", got " + quote(s));
    }
    return i;
  }

  /** choiceIn for a blank-separated list of choices, allocating only to refuse. */
  choiceOf(node: ConfigNode, choices: string): i32 {
    const s = this.stringOf(node);
    if (!this.ok) return -1;
    const i = wordIndex(choices, s);
    return i >= 0 ? i : this.choiceIn(node, words(choices));
  }

  /** Fails unless `node` is a string in `allowed`; returns it (or `allowed[0]` on error). */
  checkEnum(node: ConfigNode, allowed: string[]): string {
    const i = this.choiceIn(node, allowed);
    if (i < 0) return allowed.length > 0 ? allowed[0] : "";
    return allowed[i];
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
