// A ConfigSection turns one top-level key of the plugin config into a Stage.
// To add a section: write `stages/<name>.ts` with a ConfigSection subclass (and its Stage),
// then add one line to SECTIONS in sections.ts. Nothing else changes: unknown-key checking,
// the order stages run in, and stream dispatch all come from that list.

import { ConfigNode, ConfigReader } from "../config/reader";
import { Stage } from "./stage";

export class ConfigSection {
  constructor(
    /** Top-level key in the plugin config, e.g. "headers". */
    public readonly key: string,
  ) {}

  /**
   * Reads this section from `node` (its path is `$.<key>`). On an invalid section, report the
   * first problem with `r.fail(...)` (the field's JSON path) and return null.
   */
  parse(r: ConfigReader, node: ConfigNode): Stage | null {
    r.fail(node, "section has no parser");
    return null;
  }
}
