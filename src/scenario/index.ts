/** Scenario runner: JSON scenarios played through the host harness (`wayroute run`). */
export { runScenario, propertyTree, bodyText, expectationFailures, checkScenarioBounds, MAX_TICK_MS, MAX_STEPS } from "./run.js";
export { jsonDepth, MAX_JSON_DEPTH } from "./json-depth.js";
export { parseScenario, scenarioProblems, ScenarioError } from "./validate.js";
export type * from "./types.js";
