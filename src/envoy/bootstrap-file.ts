/** Writes an Envoy bootstrap to a file Envoy reads with `-c` (the extension tells it the format). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** A bootstrap as a plain object (written as JSON) or as YAML/JSON text. */
export type Bootstrap = Record<string, unknown> | string;

/** Writes `bootstrap` into `dir` and returns the file's path (`.json` for objects, `.yaml` for text). */
export function writeBootstrap(dir: string, bootstrap: Bootstrap, base = "envoy"): string {
  if (typeof bootstrap === "string") {
    const path = join(dir, `${base}.yaml`);
    writeFileSync(path, bootstrap);
    return path;
  }
  const path = join(dir, `${base}.json`);
  writeFileSync(path, JSON.stringify(bootstrap, null, 2) + "\n");
  return path;
}
