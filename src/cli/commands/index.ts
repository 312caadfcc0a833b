import type { Command } from "../command.js";

/** Every subcommand, in the order `wayroute --help` lists them. Adding one is one line here. */
export const commands: Command[] = [];
