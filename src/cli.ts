#!/usr/bin/env node
// The `wayroute` executable: a thin entry so that `main` stays importable in tests.
import { main } from "./cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(String((err as Error)?.stack ?? err) + "\n");
    process.exitCode = 1;
  },
);
