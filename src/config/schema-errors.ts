/**
 * Turns JSON Schema validator errors into what a person can act on: one line per real problem,
 * `<JSON path> <what is wrong, in words>`. A validator reports every keyword that failed, so one
 * mistake deep in a pool also shows up as `$.pools[0] must match "else" schema` and, for a
 * pattern, as a raw regular expression; this module keeps the deepest meaningful errors and words
 * them from the schema instead.
 */
import { jsonPath } from "../manifest/json-path.js";

/** The fields of an ajv error this module reads (`schema`/`parentSchema` need ajv's `verbose`). */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  schema?: unknown;
  parentSchema?: unknown;
}

/** One problem: its JSON path, the sentence, and how deep in the document it sits. */
export interface SchemaProblem {
  path: string;
  message: string;
  depth: number;
}

/** Words for the patterns the shipped schemas use, keyed by the exact pattern (a test checks each has some). */
export const PATTERN_WORDS: Record<string, string> = {
  "^[a-z0-9!#$%&'*+\\-.^_`|~]+$": "must be a lower-case header name (letters, digits and !#$%&'*+-.^_`|~)",
  "^[^\\r\\n\\u0000]*$": "must not contain CR, LF or NUL characters",
  "^[^\\u0000-\\u001f\\u007f]*$": "must not contain control characters (U+0000-U+001F, U+007F)",
  "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]):([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$|^\\[[0-9A-Fa-f:.]+\\]:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$":
    "must be ip:port (IPv4 such as 10.0.0.1:8000 or bracketed IPv6 such as [::1]:8000; port 1-65535)",
  "^/[^?\\r\\n\\u0000]*$": "must be a path starting with / (no query string, CR, LF or NUL)",
  "^(/.*)?$": "must be empty or a path starting with /",
  "^/": "must start with /",
  "^[^.]+(\\.[^.]+)*$": "must be a dotted property path such as source.principal (no empty segments)",
  "^([^.\\[\\]\\u0000]+|\\[[^\\]\\u0000]+\\])(\\.[^.\\[\\]\\u0000]+|\\[[^\\]\\u0000]+\\])*$":
    "must be a property path: segments separated by '.', a segment holding dots in brackets (e.g. filter_state[io.istio.peer_principal])",
  "^[0-9a-fA-F:.]+(/[0-9]{1,3})?$": "must be an IP address or CIDR range (e.g. 10.0.0.0/8)",
  "^[A-Z_-]+$": "must be upper case (letters, _ and -)",
  "^/[^\\r\\n\\u0000?#]*$": "must be a path starting with / (no query, fragment, CR, LF or NUL)",
};

/** Words for `not: { pattern }` constraints. */
export const NOT_PATTERN_WORDS: Record<string, string> = {
  "\\*\\*\\*": "must not contain *** (use * or **)",
};

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "an array",
  null: "null",
};

function schemaObject(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The first sentence of a schema `description`, when the schema gives one. */
function described(parent: unknown): string | undefined {
  const d = schemaObject(parent)?.description;
  return typeof d === "string" && d.trim() ? d.trim().split(/(?<=\.)\s/)[0] : undefined;
}

function pointer(segment: unknown): string {
  return "/" + String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The JSON path an error is about and what is wrong there, in words: never a raw regular expression. */
function words(e: SchemaError): [path: string, message: string] {
  const path = jsonPath(e.instancePath);
  const limit = String(e.params.limit);
  switch (e.keyword) {
    case "additionalProperties":
      return [jsonPath(e.instancePath + pointer(e.params.additionalProperty)), "is not allowed here (unknown field)"];
    case "required":
      return [jsonPath(e.instancePath + pointer(e.params.missingProperty)), "is required"];
    case "enum":
      return [path, `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`];
    case "pattern": {
      const known = PATTERN_WORDS[String(e.params.pattern)];
      if (known) return [path, known];
      const d = described(e.parentSchema);
      return [path, `does not have the expected form${d ? `: ${d}` : ""}`];
    }
    case "not": {
      const pattern = schemaObject(e.schema)?.pattern;
      const known = typeof pattern === "string" ? NOT_PATTERN_WORDS[pattern] : undefined;
      return [path, known ?? "is a value this field does not allow"];
    }
    case "type":
      return [path, `must be ${String(e.params.type).split(",").map((t) => TYPE_WORDS[t] ?? t).join(" or ")}`];
    case "const":
      return [path, `must be ${JSON.stringify(e.params.allowedValue)}`];
    case "minLength":
      return [path, e.params.limit === 1 ? "must not be empty" : `must be at least ${limit} characters long`];
    case "maxLength":
      return [path, `must be at most ${limit} characters long`];
    case "minItems":
      return [path, `must have at least ${limit} item${e.params.limit === 1 ? "" : "s"}`];
    case "maxItems":
      return [path, `must have at most ${limit} items`];
    case "minProperties":
      return [path, `must have at least ${limit} entr${e.params.limit === 1 ? "y" : "ies"}`];
    case "maxProperties":
      return [path, `must have at most ${limit} entries`];
    case "uniqueItems":
      return [path, `must not repeat an item (items ${String(e.params.j)} and ${String(e.params.i)} are the same)`];
    case "format":
      return [path, `must be a valid ${String(e.params.format)}`];
    default:
      return [path, e.message ?? "is invalid"];
  }
}

function depthOf(instancePath: string): number {
  return instancePath ? instancePath.split("/").length - 1 : 0;
}

function within(inner: SchemaError, outer: SchemaError): boolean {
  return (
    inner !== outer &&
    inner.schemaPath.startsWith(outer.schemaPath + "/") &&
    (inner.instancePath === outer.instancePath || inner.instancePath.startsWith(outer.instancePath + "/"))
  );
}

/** The branch index of `inner` under a oneOf/anyOf error `outer` (`…/anyOf/1/required` → 1). */
function branchOf(inner: SchemaError, outer: SchemaError): string {
  return inner.schemaPath.slice(outer.schemaPath.length + 1).split("/")[0]!;
}

/**
 * The meaningful problems among `errors`, in the validator's order, deduplicated:
 * - `if` errors (`must match "else" schema`) go: the failing `then`/`else` reports its own, deeper
 *   errors;
 * - a `oneOf`/`anyOf` whose branches failed deeper than itself keeps only the branch that got
 *   furthest (the one the author most likely meant);
 * - a `oneOf`/`anyOf` whose branches all failed at its own level becomes one sentence naming the
 *   alternatives (`must have at least one of header, cookie`).
 */
export function schemaProblems(errors: readonly SchemaError[]): SchemaProblem[] {
  const dropped = new Set<SchemaError>();
  const replaced = new Map<SchemaError, [string, string]>();
  for (const e of errors) {
    if (e.keyword === "if") dropped.add(e);
    if (e.keyword !== "oneOf" && e.keyword !== "anyOf") continue;
    const subs = errors.filter((s) => within(s, e));
    const path = jsonPath(e.instancePath);
    if (subs.length === 0) {
      // oneOf matched more than one branch: name the alternatives when each is one required field.
      if (e.keyword !== "oneOf") continue;
      const branches = Array.isArray(e.schema) ? (e.schema as unknown[]).map(schemaObject) : [];
      const names = branches.map((b) => (Array.isArray(b?.required) && b.required.length === 1 && Object.keys(b).length === 1 ? String(b.required[0]) : undefined));
      const matched = (e.params.passingSchemas as unknown[] | null)?.length ?? "several";
      replaced.set(e, names.length && names.every((n) => n !== undefined)
        ? [path, `must have exactly one of ${names.join(", ")}, not ${String(matched)}`]
        : [path, `must match exactly one of its allowed forms, but matches ${String(matched)}`]);
      continue;
    }
    const deepest = Math.max(...subs.map((s) => depthOf(s.instancePath)));
    if (deepest > depthOf(e.instancePath)) {
      const branch = branchOf(subs.find((s) => depthOf(s.instancePath) === deepest)!, e);
      for (const s of subs) if (branchOf(s, e) !== branch) dropped.add(s);
      dropped.add(e);
      continue;
    }
    for (const s of subs) dropped.add(s);
    const required = subs.every((s) => s.keyword === "required");
    if (required) {
      const names = [...new Set(subs.map((s) => String(s.params.missingProperty)))].join(", ");
      replaced.set(e, [path, `must have ${e.keyword === "oneOf" ? "exactly one" : "at least one"} of ${names}`]);
    } else {
      const branches = [...new Set(subs.map((s) => words(s).join(" ")))];
      replaced.set(e, [path, `must match ${e.keyword === "oneOf" ? "exactly one" : "one"} of these: ${branches.join("; or ")}`]);
    }
  }
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (dropped.has(e)) continue;
    const [path, message] = replaced.get(e) ?? words(e);
    const line = `${path} ${message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push({ path, message, depth: depthOf(e.instancePath) + (e.keyword === "required" || e.keyword === "additionalProperties" ? 1 : 0) });
  }
  return out;
}

/** The problem to show first: the deepest (most specific), the earliest of equals. */
export function deepestProblem(problems: readonly SchemaProblem[]): SchemaProblem | undefined {
  let best: SchemaProblem | undefined;
  for (const p of problems) if (!best || p.depth > best.depth) best = p;
  return best;
}

/** `<path> <message>` */
export function problemLine(p: SchemaProblem): string {
  return `${p.path} ${p.message}`;
}
