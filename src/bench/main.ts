/**
 * `npm run bench`: the `wayroute bench` command run from source. Arguments after `--` are passed
 * through, e.g. `npm run bench -- --quick --no-micro`.
 */
import { main } from "../cli/main.js";

process.exitCode = await main(["bench", ...process.argv.slice(2)]);
