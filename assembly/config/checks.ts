/**
 * Refusal checks shared by the section readers (rules, bodyRouting, headers, steering), so each
 * rule and its message is written once.
 *
 * API
 * - `isObjectWith(r, node, keys)`: node is an object holding only `keys` (names separated by
 *   blanks, as `ConfigReader.rejectUnknown` takes them); else reports and returns false.
 * - `atMost(r, node, max, what)`: an array of at most `max` elements ("at most N <what> are
 *   allowed, got M").
 * - `failIf(r, node, problem)`: reports `problem` at `node` unless it is "" (the checks below
 *   return "" for a good value, else the message).
 * - `readStrings(r, obj, key, into, check, emptyProblem)`: an optional array of strings, each
 *   pushed to `into` and judged by `check`; "" `emptyProblem` allows an empty array. Returns the
 *   array node, or null when absent or not an array.
 * - Problems: `headerNameProblem(name, reservedWhy)` (null `reservedWhy`: proxy-owned names are
 *   fine, e.g. for matching), `modelNameProblem(name)` (a model sent in a header).
 */
import { ConfigNode, ConfigReader, quote } from "./reader";
import { isHeaderSafeModel, isReservedHeaderName, isValidHeaderName } from "../rewrite/header-name";

/** Judges one string: "" when it is fine, else what is wrong with it. */
export type StringCheck = (s: string) => string;

export function isObjectWith(r: ConfigReader, node: ConfigNode, keys: string): bool {
  return r.requireObject(node) && r.rejectUnknown(node, keys);
}

export function atMost(r: ConfigReader, node: ConfigNode, max: i32, what: string): bool {
  if (node.length <= max) return true;
  r.fail(node, "at most " + max.toString() + " " + what + " are allowed, got " + node.length.toString());
  return false;
}

export function failIf(r: ConfigReader, node: ConfigNode, problem: string): void {
  if (problem.length > 0) r.fail(node, problem);
}

export function readStrings(
  r: ConfigReader,
  obj: ConfigNode,
  key: string,
  into: string[],
  check: StringCheck,
  emptyProblem: string,
): ConfigNode | null {
  const arr = r.optArray(obj, key);
  if (arr == null) return null;
  if (arr.length == 0 && emptyProblem.length > 0) r.fail(arr, emptyProblem);
  for (let i = 0; i < arr.length && r.ok; i++) {
    const el = arr.at(i)!;
    const s = r.stringOf(el);
    if (r.ok) failIf(r, el, check(s));
    into.push(s);
  }
  return arr;
}

export function headerNameProblem(name: string, reservedWhy: string | null): string {
  if (!isValidHeaderName(name)) return quote(name) + " must be a lower-case header name token (a-z 0-9 !#$%&'*+-.^_`|~)";
  if (reservedWhy != null && isReservedHeaderName(name)) return quote(name) + " is managed by the proxy" + reservedWhy;
  return "";
}

export function modelNameProblem(name: string): string {
  if (name.length == 0) return "must not be empty";
  if (!isHeaderSafeModel(name)) return "must not contain a control character (U+0000-U+001F, U+007F) or a lone surrogate (it is sent in a header)";
  return "";
}
