// The `headers` config section, pure: static header edits applied to every request and
// response. `{"request": {"set": {"x-a": "1"}, "remove": ["x-b"]}, "response": {...}}`.
// Schema: schemas/headers.schema.json (the rules below must match it).

import { ConfigNode, ConfigReader } from "../config/reader";
import { failIf, isObjectWith, readStrings } from "../config/checks";
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

const SECTION_KEYS = "request response";
const EDIT_KEYS = "set remove";
const NAME_RULE = "header name must be a lower-case RFC 7230 token (a-z 0-9 !#$%&'*+-.^_`|~)";
const VALUE_RULE = "header value must not contain CR, LF or NUL";

function nameProblem(name: string): string {
  return isValidHeaderName(name) ? "" : NAME_RULE;
}

function readEdits(r: ConfigReader, node: ConfigNode, into: HeaderEdits): void {
  if (!isObjectWith(r, node, EDIT_KEYS)) return;
  const set = r.optObject(node, "set");
  if (set != null) {
    for (let i = 0; i < set.length && r.ok; i++) {
      const name = set.value.keyAt(i);
      const entry = set.child(name)!;
      failIf(r, entry, nameProblem(name));
      const value = r.stringOf(entry);
      if (r.ok && !isSafeHeaderValue(value)) r.fail(entry, VALUE_RULE);
      into.toSet.push(new HeaderSetting(name, value));
    }
  }
  readStrings(r, node, "remove", into.toRemove, nameProblem, "");
}

/** Reads the `headers` section at `node`; on error returns null and `r.error` names the field. */
export function readHeadersSection(r: ConfigReader, node: ConfigNode): HeadersConfig | null {
  if (!isObjectWith(r, node, SECTION_KEYS)) return null;
  const config = new HeadersConfig();
  const request = r.optObject(node, "request");
  if (request != null) readEdits(r, request, config.request);
  const response = r.optObject(node, "response");
  if (response != null && r.ok) readEdits(r, response, config.response);
  return r.ok ? config : null;
}
