/** Validates scenario files against `schemas/scenario.schema.json`, reporting errors by JSON path. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { describeAjvError, jsonPath } from "../manifest/json-path.js";
import { findSchemasDir } from "../manifest/schemas-dir.js";
import { jsonDepth, MAX_JSON_DEPTH } from "./json-depth.js";
import type { Scenario } from "./types.js";

/** A scenario that does not parse or does not match the schema. `problems` are `$.path message`. */
export class ScenarioError extends Error {
  readonly code = "E_SCENARIO";
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(join(findSchemasDir(), "scenario.schema.json"), "utf8"));
    compiled = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  }
  return compiled;
}

/** Every schema problem with `value`, most specific first; empty when it is a valid scenario. */
export function scenarioProblems(value: unknown): string[] {
  const validate = validator();
  if (validate(value)) return [];
  const errors = [...(validate.errors ?? [])];
  // oneOf failures repeat the branch errors; the deepest path is the one a user needs to fix.
  errors.sort((a, b) => b.instancePath.split("/").length - a.instancePath.split("/").length);
  const described = errors
    // A property-name failure comes twice (the inner pattern, then propertyNames): keep the outer one, in words.
    .filter((e) => e.keyword !== "oneOf" && (e as { propertyName?: string }).propertyName === undefined)
    .map((e) =>
      e.keyword === "propertyNames"
        ? `${jsonPath(e.instancePath)}[${JSON.stringify(e.params.propertyName)}] has a __proto__, constructor or prototype segment, which is not allowed`
        : describeAjvError(e),
    );
  return [...new Set(described)];
}

/** Parses and validates scenario JSON text; throws `ScenarioError` naming the first problem. */
export function parseScenario(text: string, source = "scenario"): Scenario {
  // Validators recurse per level: refuse absurd nesting before one sees it (no stack overflow).
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) throw new ScenarioError(`${source} nests JSON ${depth} levels deep; at most ${MAX_JSON_DEPTH} are allowed`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  const problems = scenarioProblems(value);
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new ScenarioError(`${source}: ${problems[0]}${more}`, problems);
  }
  return value as Scenario;
}
