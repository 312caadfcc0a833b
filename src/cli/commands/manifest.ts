import { readFile } from "node:fs/promises";
import { intOption, stringOption } from "../args.js";
import { type Command, type ParsedArgs, UsageError } from "../command.js";
import { labelSelector, pluginName, pluginUrl } from "../option-syntax.js";
import { writeFileAtomic } from "../../oci/atomic-fs.js";
import { digestHex, isDigest, sha256Digest } from "../../oci/digest.js";
import { openLayout, selectManifest } from "../../oci/layout.js";
import { formatReference, parseReference } from "../../oci/reference.js";
import { inspectImage } from "../../oci/transfer.js";
import { ENDPOINT_CLUSTERS, type EndpointCluster, FALLBACK_POLICIES, type FallbackPolicy } from "../../manifest/envoy.js";
import { ManifestError } from "../../manifest/errors.js";
import {
  checkedConfig,
  configEnvoyPools,
  configParentService,
  configRouteBackends,
  configRouteHeader,
  configSteeringMode,
  endpointModeDocuments,
  renderYaml,
  routeModeDocuments,
  type SteeringMode,
} from "../../manifest/generate.js";
import { pluginConfigValidator, readConfigFile } from "../../manifest/plugin-config.js";
import { parseRouteBackends, replicaBackends } from "../../manifest/route-mode.js";
import { withWaypointScrapeClusters } from "../../manifest/waypoint-clusters.js";
import { findSchemasDir } from "../../manifest/schemas-dir.js";
import { originalDstWarnings } from "../../manifest/steering-warnings.js";
import { FAIL_STRATEGIES, PHASES, type PluginSource, PULL_POLICIES } from "../../manifest/wasmplugin.js";
import { asCliError } from "./pack.js";

function oneOf<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const v = stringOption(args, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got '${v}'`);
  return v as T;
}

function list(args: ParsedArgs, name: string): string[] {
  const v = args.options[name];
  const items = Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
  return items.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
}


/** Works out `url` + `sha256` for the WasmPlugin from --image/--layout/--url/--wasm. */
async function pluginSource(args: ParsedArgs): Promise<PluginSource> {
  const image = stringOption(args, "image");
  const rawUrl = stringOption(args, "url");
  const url = rawUrl === undefined ? undefined : pluginUrl(rawUrl);
  if (image && url) throw new UsageError("give --image or --url, not both");
  if (url && !url.startsWith("oci://")) {
    if (!/^https?:\/\//.test(url)) throw new UsageError("--url must be oci://, http:// or https://");
    // For http(s):// Istio checks the sha256 of the module file itself.
    const given = stringOption(args, "wasm-sha256");
    const wasmFile = stringOption(args, "wasm");
    if (given) {
      if (!/^[a-f0-9]{64}$/.test(given)) throw new UsageError("--wasm-sha256 must be 64 lower-case hex digits");
      return { url, sha256: given };
    }
    if (!wasmFile) throw new UsageError("an http(s):// --url needs --wasm <file> or --wasm-sha256 <hex> (sha256 of the module itself)");
    const bytes = await readFile(wasmFile).catch(() => {
      throw new ManifestError("E_BAD_OPTION", `cannot read --wasm ${wasmFile}`);
    });
    return { url, sha256: digestHex(sha256Digest(bytes)) };
  }
  const refText = image ?? url;
  if (!refText) throw new UsageError("name the module: --image host/repo[:tag]@sha256:… (or --layout), or --url https://…");
  const ref = parseReference(refText);
  let digest = ref.digest;
  const layout = stringOption(args, "layout");
  if (layout) {
    const l = await openLayout(layout);
    const found = selectManifest(l, layout, l.manifests.length > 1 ? ref.tag : undefined).descriptor.digest;
    if (!isDigest(found)) throw new ManifestError("E_BAD_OPTION", `${layout} has a non-sha256 manifest`);
    if (digest && digest !== found) throw new ManifestError("E_BAD_OPTION", `--image pins ${digest} but ${layout} holds ${found}`);
    digest = found;
  } else if (!digest && args.options.resolve === true) {
    digest = (await inspectImage(formatReference(ref), { insecure: args.options.insecure === true })).manifestDigest;
  }
  if (!digest) {
    throw new ManifestError("E_BAD_OPTION", `pin the image by digest: use the reference 'wayroute push' printed, add --layout <dir>, or --resolve`);
  }
  // For oci:// Istio's sha256 is the digest of the image manifest, hex without "sha256:".
  return { url: `oci://${formatReference({ ...ref, digest })}`, sha256: digestHex(digest) };
}

export const manifest: Command = {
  name: "manifest",
  summary: "generate the Istio WasmPlugin + HTTPRoute/Services (route mode) or an Envoy config (endpoint mode)",
  usage: `usage: wayroute manifest [options]

Route mode (stock Istio ambient waypoint): a WasmPlugin attached to the waypoint Gateway, plus the
HTTPRoute that maps the steering header to per-backend Services and, for a StatefulSet, one
Service per replica; optionally the waypoint Gateway and the namespace labels.
Endpoint mode (standalone Envoy): an Envoy bootstrap with the Wasm filter and an override_host
cluster that honours x-gateway-destination-endpoint.
The mode comes from the config (pools[*].steering.mode) unless --mode says.

common:
  --mode <route|endpoint>     steering mode (default: from the config, else route)
  --config <file>             plugin config (JSON or YAML), validated against schemas/plugin-config.schema.json
  --schemas <dir>             schema directory (default: the package's schemas/)
  --out <file>                write the YAML there (atomically) instead of stdout

route mode (WasmPlugin):
  --image <ref@sha256:…>      OCI image pinned by digest (what 'wayroute push' prints)
  --layout <dir>              take the digest from a packed layout (with --image host/repo:tag)
  --resolve                   look the digest of --image up in the registry
  --url <url>                 https:// module URL (with --wasm <file> or --wasm-sha256 <hex>) or oci://…
  --name <name>               WasmPlugin name (default wayroute)
  --namespace <ns>            namespace (default default)
  --waypoint <name>           waypoint Gateway to attach to (default waypoint)
  --target-service <svc>      attach to a Service instead (repeatable)
  --plugin-name <id>          Envoy root_id (default: the WasmPlugin name)
  --phase <AUTHN|AUTHZ|STATS> filter chain phase (default: unset, just before the router)
  --priority <n>              order within the phase
  --fail-strategy <s>         FAIL_CLOSE (default), FAIL_OPEN or FAIL_RELOAD
  --image-pull-policy <p>     IfNotPresent or Always
  --image-pull-secret <name>  Secret with registry credentials

route mode (routing objects):
  --service <name>            the Service clients call (HTTPRoute parent; fallback backend);
                              default: the route pools' match.authority
  --port <n>                  its port (default 8000); --target-port <n> the pods' port
  --statefulset <name>        generate one Service per replica (<name>-0 …), selected by pod name
  --replicas <n>              replica count for --statefulset
  --route-backends <list>     explicit header value → Service pairs: name=svc,name2=svc2
                              (default: the config's pools[*].endpoints[*].backend, each to the
                              Service of that name; else the --statefulset replicas)
  --route-header <name>       steering header (default: the config's, else x-wayroute-backend)
  --selector <k=v,...>        also generate the parent Service with this pod selector
  --no-gateway                do not emit the waypoint Gateway
  --no-namespace              do not emit the Namespace with istio.io/use-waypoint

endpoint mode (Envoy):
  --endpoints <ip:port,...>   model servers, one cluster (default: one cluster per endpoint-mode
                              pool of the config, named by its scrape.cluster, routed by its match)
  --wasm-path <path>          module path inside Envoy (default /etc/envoy/plugin.wasm)
  --listen-port <n>           listener port (default 10000); --admin-port <n> (default 9901)
  --cluster <name>            upstream cluster name with --endpoints (default model_servers)
  --fallback <policy>         least_request (default), round_robin or random
  --endpoint-cluster <kind>   override_host (default) or original_dst (ORIGINAL_DST + use_http_header:
                              Envoy connects where the header says; warns when a client's value can
                              still reach it)

Exit codes: 0 ok, 1 failure (invalid config, name or option), 2 usage error.`,
  options: {
    mode: { type: "string" },
    config: { type: "string", short: "c" },
    schemas: { type: "string" },
    out: { type: "string", short: "o" },
    image: { type: "string" },
    layout: { type: "string" },
    resolve: { type: "boolean" },
    insecure: { type: "boolean" },
    url: { type: "string" },
    wasm: { type: "string" },
    "wasm-sha256": { type: "string" },
    name: { type: "string", default: "wayroute" },
    namespace: { type: "string", short: "n", default: "default" },
    waypoint: { type: "string" },
    "target-service": { type: "list" },
    "plugin-name": { type: "string" },
    phase: { type: "string" },
    priority: { type: "string" },
    "fail-strategy": { type: "string" },
    "image-pull-policy": { type: "string" },
    "image-pull-secret": { type: "string" },
    service: { type: "string" },
    port: { type: "string" },
    "target-port": { type: "string" },
    statefulset: { type: "string" },
    replicas: { type: "string" },
    "route-backends": { type: "string" },
    "route-header": { type: "string" },
    selector: { type: "string" },
    "no-gateway": { type: "boolean" },
    "no-namespace": { type: "boolean" },
    endpoints: { type: "list" },
    "wasm-path": { type: "string", default: "/etc/envoy/plugin.wasm" },
    "listen-port": { type: "string" },
    "admin-port": { type: "string" },
    cluster: { type: "string" },
    fallback: { type: "string" },
    "endpoint-cluster": { type: "string" },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    try {
      const schemasDir = findSchemasDir(stringOption(args, "schemas"));
      const configPath = stringOption(args, "config");
      const config = configPath ? checkedConfig(await readConfigFile(configPath), schemasDir, configPath) : undefined;
      if (config) {
        for (const missing of pluginConfigValidator(schemasDir).missingSections) {
          process.stderr.write(`notice: schemas/${missing} not found; that config section was not validated\n`);
        }
      }
      const mode: SteeringMode = oneOf(args, "mode", ["route", "endpoint"] as const) ?? configSteeringMode(config) ?? "route";
      const failStrategy = oneOf(args, "fail-strategy", FAIL_STRATEGIES) ?? "FAIL_CLOSE";
      let docs: Record<string, unknown>[];
      if (mode === "endpoint") {
        const endpoints = list(args, "endpoints");
        const cluster = stringOption(args, "cluster");
        // Explicit --endpoints make one pool; otherwise every endpoint-mode pool of the config.
        const pools = endpoints.length ? [{ name: cluster ?? "model_servers", cluster: cluster ?? "model_servers", endpoints }] : configEnvoyPools(config);
        if (cluster && !endpoints.length && pools.length === 1) pools[0].cluster = cluster;
        const endpointCluster = oneOf(args, "endpoint-cluster", ENDPOINT_CLUSTERS) as EndpointCluster | undefined;
        docs = endpointModeDocuments({
          pluginName: pluginName(stringOption(args, "plugin-name")) ?? stringOption(args, "name", true),
          wasmPath: stringOption(args, "wasm-path", true),
          pluginConfig: config ?? {},
          pools,
          listenPort: intOption(args, "listen-port", 10000, 1, 65535),
          adminPort: intOption(args, "admin-port", 9901, 1, 65535),
          fallback: oneOf(args, "fallback", FALLBACK_POLICIES) ?? ("least_request" as FallbackPolicy),
          failStrategy,
          endpointCluster,
        });
        if (endpointCluster === "original_dst") {
          for (const w of originalDstWarnings(config ?? {}, failStrategy)) process.stderr.write(`warning: ${w}\n`);
        }
      } else {
        const namespace = stringOption(args, "namespace", true);
        const services = list(args, "target-service");
        const waypoint = stringOption(args, "waypoint") ?? (services.length ? undefined : "waypoint");
        const service = stringOption(args, "service") ?? configParentService(config);
        if (!service) throw new UsageError("route mode needs --service <name> (the Service clients call; or a pool match.authority naming it)");
        const port = intOption(args, "port", 8000, 1, 65535);
        const sts = stringOption(args, "statefulset");
        const replicas = sts ? intOption(args, "replicas", 0, 1, 1000) : 0;
        if (sts && !replicas) throw new UsageError("--statefulset needs --replicas <n>");
        const explicit = stringOption(args, "route-backends");
        const fromConfig = configRouteBackends(config);
        const backends = explicit ? parseRouteBackends(explicit) : fromConfig.length ? fromConfig : sts ? replicaBackends(sts, replicas) : [];
        const sel = stringOption(args, "selector");
        // Scrapes must name clusters the waypoint really has (inbound-vip|PORT|http|HOST).
        let pluginConfig = config;
        if (config) {
          const w = withWaypointScrapeClusters(config, { namespace, port, backends });
          pluginConfig = w.config;
          for (const c of w.changed) process.stderr.write(`notice: scrape cluster ${c} (a waypoint names the clusters of the Services it serves inbound-vip|PORT|http|HOST)\n`);
        }
        docs = routeModeDocuments(
          {
            name: stringOption(args, "name", true),
            namespace,
            source: await pluginSource(args),
            targets: { gateways: waypoint ? [waypoint] : [], services },
            pluginName: pluginName(stringOption(args, "plugin-name")),
            pluginConfig,
            phase: oneOf(args, "phase", PHASES),
            priority: args.options.priority === undefined ? undefined : intOption(args, "priority", 0, -2147483648, 2147483647),
            failStrategy,
            imagePullPolicy: oneOf(args, "image-pull-policy", PULL_POLICIES),
            imagePullSecret: stringOption(args, "image-pull-secret"),
          },
          {
            namespace,
            service,
            port,
            header: stringOption(args, "route-header") ?? configRouteHeader(config),
            backends,
            serviceSelector: sel ? labelSelector(sel) : undefined,
            statefulSet: sts ? { name: sts, replicas, targetPort: intOption(args, "target-port", port, 1, 65535) } : undefined,
            waypoint,
            includeGateway: args.options["no-gateway"] !== true,
            includeNamespace: args.options["no-namespace"] !== true,
          },
          schemasDir,
        );
      }
      const yaml = renderYaml(docs, [`Generated by 'wayroute manifest' (${mode} mode). Regenerate instead of editing.`]);
      const out = stringOption(args, "out");
      if (out) {
        await writeFileAtomic(out, yaml);
        process.stderr.write(`wrote ${out} (${docs.length} document${docs.length === 1 ? "" : "s"}, ${mode} mode)\n`);
      } else process.stdout.write(yaml);
      return 0;
    } catch (err) {
      throw asCliError(err);
    }
  },
};
