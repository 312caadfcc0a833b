// The `headers` config section, pure: static header edits applied to every request and
// response. `{"request": {"set": {"x-a": "1"}, "remove": ["x-b"]}, "response": {...}}`.
// Schema: schemas/headers.schema.json (the rules below must match it).

import { ConfigNode, ConfigReader } from "../config/reader";
import { isSafeHeaderValue, isValidHeaderName } from "../rewrite/header-name";

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
      if (!isValidHeaderName(unchecked(names[i]))) {
        r.fail(entry, NAME_RULE);
        return;
      }
      const value = r.stringOf(entry);
      if (!r.ok) return;
      if (!isSafeHeaderValue(value)) {
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
      if (!isValidHeaderName(name)) {
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
