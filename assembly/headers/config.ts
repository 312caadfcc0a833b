// The `headers` config section, pure: static header edits applied to every request and
// response. `{"request": {"set": {"x-a": "1"}, "remove": ["x-b"]}, "response": {...}}`.
// Schema: schemas/headers.schema.json (the rules below must match it).

import { ConfigNode, ConfigReader } from "../config/reader";

/** One header to set: name (lower case token) and its single value. */
export class HeaderSetting {
  constructor(
    public name: string,
    public value: string,
  ) {}
}

/** Edits for one direction. Applied as: remove every toRemove name, then set every toSet pair. */
export class HeaderEdits {
  toSet: HeaderSetting[] = [];
  toRemove: string[] = [];

  get isEmpty(): bool {
    return this.toSet.length == 0 && this.toRemove.length == 0;
  }
}

export class HeadersConfig {
  request: HeaderEdits = new HeaderEdits();
  response: HeaderEdits = new HeaderEdits();
}

/**
 * RFC 7230 token (tchar+) with no upper-case letters: Envoy lower-cases header names, so an
 * upper-case name in config would never match what the proxy holds.
 */
export function isHeaderName(name: string): bool {
  const n = name.length;
  if (n == 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) continue; // a-z
    if (c >= 0x30 && c <= 0x39) continue; // 0-9
    switch (c) {
      case 0x21: // !
      case 0x23: // #
      case 0x24: // $
      case 0x25: // %
      case 0x26: // &
      case 0x27: // '
      case 0x2a: // *
      case 0x2b: // +
      case 0x2d: // -
      case 0x2e: // .
      case 0x5e: // ^
      case 0x5f: // _
      case 0x60: // `
      case 0x7c: // |
      case 0x7e: // ~
        continue;
    }
    return false;
  }
  return true;
}

/** A value may hold anything but CR, LF and NUL (they would split or end the header). */
export function isHeaderValue(value: string): bool {
  for (let i = 0, n = value.length; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0x00) return false;
  }
  return true;
}

const SECTION_KEYS = ["request", "response"];
const EDIT_KEYS = ["set", "remove"];
const NAME_RULE = "header name must be a lower-case RFC 7230 token (a-z 0-9 !#$%&'*+-.^_`|~)";
const VALUE_RULE = "header value must not contain CR, LF or NUL";

function readEdits(r: ConfigReader, node: ConfigNode, into: HeaderEdits): void {
  if (!r.requireObject(node)) return;
  if (!r.rejectUnknownKeys(node, EDIT_KEYS)) return;
  const set = r.optObject(node, "set");
  if (set != null) {
    const names = set.keys();
    for (let i = 0; i < names.length && r.ok; i++) {
      const entry = set.child(unchecked(names[i]))!;
      if (!isHeaderName(unchecked(names[i]))) {
        r.fail(entry, NAME_RULE);
        return;
      }
      const value = r.stringOf(entry);
      if (!r.ok) return;
      if (!isHeaderValue(value)) {
        r.fail(entry, VALUE_RULE);
        return;
      }
      into.toSet.push(new HeaderSetting(unchecked(names[i]), value));
    }
  }
  const remove = r.optArray(node, "remove");
  if (remove != null) {
    for (let i = 0, n = remove.length; i < n && r.ok; i++) {
      const entry = remove.at(i)!;
      const name = r.stringOf(entry);
      if (!r.ok) return;
      if (!isHeaderName(name)) {
        r.fail(entry, NAME_RULE);
        return;
      }
      into.toRemove.push(name);
    }
  }
}

/** Reads the `headers` section at `node`; on error returns null and `r.error` names the field. */
export function readHeadersSection(r: ConfigReader, node: ConfigNode): HeadersConfig | null {
  if (!r.requireObject(node)) return null;
  if (!r.rejectUnknownKeys(node, SECTION_KEYS)) return null;
  const config = new HeadersConfig();
  const request = r.optObject(node, "request");
  if (request != null) readEdits(r, request, config.request);
  const response = r.optObject(node, "response");
  if (response != null && r.ok) readEdits(r, response, config.response);
  return r.ok ? config : null;
}
