import { stringOption, intOption } from "../args.js";
import { type Command, UsageError } from "../command.js";
import { pushLayout } from "../../oci/transfer.js";
import { asCliError } from "./pack.js";

export const push: Command = {
  name: "push",
  summary: "push a packed OCI layout to a registry",
  usage: `usage: wayroute push <layout> <host[:port]/repository[:tag]> [options]

Uploads the image in <layout> (a directory or .tar written by 'wayroute pack') and tags it.
Blobs the registry already has are skipped (HEAD); large blobs go up in chunks.
Prints the pushed reference pinned by digest.

Credentials: WAYROUTE_REGISTRY_USERNAME / WAYROUTE_REGISTRY_PASSWORD for the registry named by
WAYROUTE_REGISTRY (host[:port]), else the Docker config ($DOCKER_CONFIG/config.json or
~/.docker/config.json, auths[host].auth). Basic and bearer-token registries are supported; a
token service on another host gets the credentials only if WAYROUTE_REGISTRY_TOKEN_REALM names
its origin. Plain HTTP is used only for loopback registries or with --insecure.

options:
  --tag <tag>           which manifest of the layout to push, when it holds several
  --add-tag <tag>       also tag the manifest with <tag> (repeatable)
  --insecure            talk plain HTTP to a non-loopback registry
  --chunk-size <bytes>  upload blobs larger than this in chunks (default 8388608)
  --retries <n>         attempts per request on 5xx / connection errors (default 4)
  --json                print a JSON result

Exit codes: 0 ok, 1 failure (auth, unreachable, registry error), 2 usage error.`,
  options: {
    tag: { type: "string" },
    "add-tag": { type: "list" },
    insecure: { type: "boolean" },
    "chunk-size": { type: "string" },
    retries: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const [layout, ref, extra] = args.positionals;
    if (!layout || !ref || extra) throw new UsageError("expected <layout> and <reference>");
    try {
      const result = await pushLayout(layout, ref, {
        tag: stringOption(args, "tag"),
        extraTags: args.options["add-tag"] as string[],
        insecure: args.options.insecure === true,
        chunkSize: intOption(args, "chunk-size", 8 << 20, 1),
        attempts: intOption(args, "retries", 4, 1, 20),
        progress: (line) => process.stderr.write(line + "\n"),
      });
      if (args.options.json === true) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else {
        process.stderr.write(`pushed ${result.uploaded} blob(s), ${result.skipped} already present\n`);
        process.stdout.write(result.reference + "\n");
      }
      return 0;
    } catch (err) {
      throw asCliError(err);
    }
  },
};
