/**
 * Vitest global setup: the run gets its own temporary directory, and every test process (and every
 * process a test starts) inherits it as TMPDIR, so `os.tmpdir()` points inside it. At the end the
 * run checks that the tests removed what they created there and added nothing to `build/` (the
 * build's outputs are made before the tests), fails the run (exit 1) naming any leftovers, and
 * removes them either way: a run leaves nothing behind.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Entries that tools the tests run create in TMPDIR on their own, not the tests. */
const NOT_OURS = [/^v8-compile-cache/, /^node-compile-cache/, /^tsx-\d+$/, /^vite-/];

const BUILD = "build";

function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

export default function setup(): () => void {
  const built = new Set(entries(BUILD));
  const root = mkdtempSync(join(tmpdir(), "wayroute-test-run-"));
  const saved = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
  process.env.TMPDIR = process.env.TMP = process.env.TEMP = root;
  return () => {
    const left = readdirSync(root).filter((name) => !NOT_OURS.some((re) => re.test(name)));
    rmSync(root, { recursive: true, force: true });
    const added = entries(BUILD).filter((name) => !built.has(name));
    for (const name of added) rmSync(join(BUILD, name), { recursive: true, force: true });
    left.push(...added.map((name) => join(BUILD, name)));
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (left.length) {
      process.stderr.write(`\ntest hygiene: the tests left ${left.length} entr${left.length === 1 ? "y" : "ies"} behind (removed now): ${left.sort().join(", ")}\nEvery test removes the temporary files and directories it creates (afterAll / finally).\n`);
      process.exitCode = 1;
    }
  };
}
