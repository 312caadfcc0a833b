/** Locates the package's `schemas/` directory from source (tsx), the bundle (dist/), or the cwd. */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ManifestError } from "./errors.js";

const MARKER = "plugin-config.schema.json";

/** The `schemas/` directory: `explicit` if given, else the nearest one above this module or the cwd. */
export function findSchemasDir(explicit?: string): string {
  if (explicit) {
    if (!existsSync(join(explicit, MARKER))) {
      throw new ManifestError("E_SCHEMAS_MISSING", `${explicit} has no ${MARKER}; pass the package's schemas/ directory`);
    }
    return resolve(explicit);
  }
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, "schemas", MARKER))) return join(dir, "schemas");
      if (dirname(dir) === dir) break;
    }
  }
  throw new ManifestError("E_SCHEMAS_MISSING", `cannot find schemas/${MARKER}; pass --schemas <dir>`);
}
