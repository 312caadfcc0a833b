/** Validates scenario files against `schemas/scenario.schema.json`, reporting errors by JSON path. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { describeAjvError } from "../manifest/json-path.js";
import { findSchemasDir } from "../manifest/schemas-dir.js";
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
  return [...new Set(errors.filter((e) => e.keyword !== "oneOf").map((e) => describeAjvError(e)))];
}

/** Parses and validates scenario JSON text; throws `ScenarioError` naming the first problem. */
export function parseScenario(text: string, source = "scenario"): Scenario {
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
