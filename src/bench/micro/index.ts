/**
 * Registry of micro-benchmark suites, in the order the table lists them.
 * Adding a suite is one import and one entry here.
 */
import type { MicroSuite } from "../suite.js";
import { harnessSuite } from "./harness.js";
import { bodySuite } from "./body.js";
import { pickerSuite } from "./picker.js";
import { statePlaneSuite } from "./state-plane.js";
import { envoyStatePlaneSuite } from "./envoy-state-plane.js";
import { footprintSuite } from "./footprint.js";
import { pluginAbSuite } from "./plugin-ab.js";

export const microSuites: MicroSuite[] = [
  harnessSuite,
  bodySuite,
  pickerSuite,
  statePlaneSuite,
  envoyStatePlaneSuite,
  footprintSuite,
  pluginAbSuite,
];
