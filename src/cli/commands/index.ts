import type { Command } from "../command.js";
import { pack } from "./pack.js";
import { push } from "./push.js";
import { pull } from "./pull.js";
import { inspect } from "./inspect.js";
import { manifest } from "./manifest.js";
import { sim } from "./sim.js";
import { run } from "./run.js";

/** Every subcommand, in the order `wayroute --help` lists them. Adding one is one line here. */
export const commands: Command[] = [
  run,
  pack,
  push,
  pull,
  inspect,
  manifest,
  sim,
];
