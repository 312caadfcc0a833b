/** Scenario runner: JSON scenarios played through the host harness (`wayroute run`). */
export { runScenario, propertyTree, bodyText, expectationFailures } from "./run.js";
export { parseScenario, scenarioProblems, ScenarioError } from "./validate.js";
export type * from "./types.js";
