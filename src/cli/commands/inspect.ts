import { intOption, stringOption } from "../args.js";
import { type Command, UsageError } from "../command.js";
import { inspectImage } from "../../oci/transfer.js";
import { asCliError } from "./pack.js";
import { writeSummary } from "./pull.js";

export const inspect: Command = {
  name: "inspect",
  summary: "check a Wasm image (registry reference or local layout) the way Istio would",
  usage: `usage: wayroute inspect <reference | layout-dir | layout.tar> [options]

Like 'wayroute pull' without writing anything. A path that exists is read as an OCI layout.

options:
  --tag <tag>       which manifest of a local layout, when it holds several
  --insecure        talk plain HTTP to a non-loopback registry
  --retries <n>     attempts per request on 5xx / connection errors (default 4)
  --json            print JSON

Exit codes: 0 ok, 1 failure, 2 usage error.`,
  options: {
    tag: { type: "string" },
    insecure: { type: "boolean" },
    retries: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const [target, extra] = args.positionals;
    if (!target || extra) throw new UsageError("expected one <reference> or layout path");
    try {
      const summary = await inspectImage(target, {
        tag: stringOption(args, "tag"),
        insecure: args.options.insecure === true,
        attempts: intOption(args, "retries", 4, 1, 20),
      });
      writeSummary(summary, args.options.json === true);
      return 0;
    } catch (err) {
      throw asCliError(err);
    }
  },
};
