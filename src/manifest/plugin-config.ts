/**
 * Loads a plugin config file (JSON or YAML) and validates it against `schemas/plugin-config.schema.json`
 * with every other top-level `schemas/*.json` registered, so cross-file `$ref`s resolve.
 */
import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse as parseYaml } from "yaml";
import { describeJsonSyntaxError } from "../config/json-syntax.js";
import { deepestProblem, problemLine, schemaProblems, type SchemaProblem } from "../config/schema-errors.js";
import { ManifestError } from "./errors.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ROOT = "plugin-config.schema.json";

/** The plugin config validator and the section files it could not find (validated as "anything"). */
export interface PluginConfigValidator {
  validate: ValidateFunction;
  missingSections: string[];
}

const cache = new Map<string, PluginConfigValidator>();

/**
 * Compiles the config schema from `schemasDir`. A `$ref` to a section file that does not exist
 * yet is registered as an open schema and listed in `missingSections`, so callers can say that
 * part went unchecked instead of failing outright.
 */
export function pluginConfigValidator(schemasDir: string): PluginConfigValidator {
  const hit = cache.get(schemasDir);
  if (hit) return hit;
  // verbose: errors carry their schema, so problems can be worded from it (src/config/schema-errors.ts).
  const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
  addFormats(ajv);
  const files = readdirSync(schemasDir).filter((f) => f.endsWith(".json")).sort();
  const ids = new Map<string, string>();
  let base = "";
  for (const file of files) {
    let schema: Record<string, unknown>;
    try {
      schema = JSON.parse(readFileSync(join(schemasDir, file), "utf8"));
    } catch {
      throw new ManifestError("E_SCHEMAS_MISSING", `schemas/${file} is not valid JSON`);
    }
    const id = typeof schema.$id === "string" ? schema.$id : undefined;
    if (file === ROOT) base = id ? id.slice(0, id.lastIndexOf("/") + 1) : "";
    ids.set(file, id ?? file);
    ajv.addSchema(schema, id ? undefined : file);
  }
  if (!ids.has(ROOT)) throw new ManifestError("E_SCHEMAS_MISSING", `${schemasDir} has no ${ROOT}`);
  const root = JSON.parse(readFileSync(join(schemasDir, ROOT), "utf8")) as Record<string, unknown>;
  const missingSections: string[] = [];
  for (const ref of collectRefs(root)) {
    const file = ref.split("#")[0];
    if (!file || ids.has(file)) continue;
    missingSections.push(file);
    ajv.addSchema({ $id: base + file }, undefined);
  }
  const validate = ajv.getSchema(ids.get(ROOT)!) as ValidateFunction;
  const v = { validate, missingSections };
  cache.set(schemasDir, v);
  return v;
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

/** Reads a JSON or YAML config file into a plain object. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ManifestError("E_BAD_CONFIG", `cannot read config ${path} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let value: unknown;
  const json = /\.json$/i.test(path);
  try {
    value = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // JSON: line and column (the engine gives a character offset at best); YAML names both itself.
    const why = json ? describeJsonSyntaxError(text, err) : (err as Error).message.split("\n")[0];
    throw new ManifestError("E_BAD_CONFIG", `config ${path} does not parse: ${why}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new ManifestError("E_BAD_CONFIG", `config ${path} must hold a JSON object at the top level`);
  }
  return value as Record<string, unknown>;
}

/**
 * The schema problems with `config` in words, each `$.path message`, the deepest (most specific)
 * first; empty when valid. See src/config/schema-errors.ts for what is kept and how it is worded.
 */
export function pluginConfigProblems(config: unknown, schemasDir: string): string[] {
  const { validate } = pluginConfigValidator(schemasDir);
  if (validate(config)) return [];
  const problems = schemaProblems(validate.errors ?? []);
  const first = deepestProblem(problems);
  return [first, ...problems.filter((p) => p !== first)].filter((p): p is SchemaProblem => p !== undefined).map(problemLine);
}

/** Throws E_CONFIG_SCHEMA naming the deepest offending field unless `config` is valid. */
export function assertValidPluginConfig(config: unknown, schemasDir: string, source: string): void {
  const problems = pluginConfigProblems(config, schemasDir);
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more: 'wayroute validate --all-errors ${source}' lists them all)` : "";
    throw new ManifestError("E_CONFIG_SCHEMA", `config ${source} fails schemas/plugin-config.schema.json: ${problems[0]}${more}`);
  }
}
