import type { Command } from "../command.js";
import { pack } from "./pack.js";
import { push } from "./push.js";
import { pull } from "./pull.js";
import { inspect } from "./inspect.js";
import { manifest } from "./manifest.js";
import { sim } from "./sim.js";
import { run } from "./run.js";
import { validate } from "./validate.js";
import { serve } from "./serve.js";
import { bench } from "./bench.js";
import { demo } from "./demo.js";
import { envoy } from "./envoy.js";

/** Every subcommand, in the order `wayroute --help` lists them. Adding one is one line here. */
export const commands: Command[] = [
  run,
  validate,
  pack,
  push,
  pull,
  inspect,
  manifest,
  sim,
  serve,
  envoy,
  bench,
  demo,
];
