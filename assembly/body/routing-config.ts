/**
 * The `bodyRouting` config section. Schema: schemas/body-routing.schema.json (keep in step).
 *
 * API: `readBodyRoutingSection(r, node): BodyRoutingConfig | null` (node is `$.bodyRouting`);
 * `BodyRoutingConfig` holds the parsed values; `DEFAULT_BODY_ROUTING_PATHS`.
 *
 * Shape:
 *   { "paths"?: [string]                  exact request paths (query ignored) whose bodies are read;
 *                                         default DEFAULT_BODY_ROUTING_PATHS
 *     "maxBodyBytes"?: int                bodies above this pass unchanged (default 1 MiB, 1..64 MiB)
 *     "modelHeader"?: string              default "x-gateway-model-name"
 *     "baseModelHeader"?: string          default "x-gateway-base-model-name"
 *     "rewriteHeader"?: string            default "x-gateway-model-name-rewrite"
 *     "adapters"?: {adapter: baseModel}   LoRA adapter → base model
 *     "modelRewrites"?: [{ "matches"?: [{"model": {"type"?: "Exact", "value": string}}],
 *                          "targets": [{"modelRewrite": string, "weight"?: 1..1000000}] }]
 *     "rewriteBody"?: bool                write the chosen model into the body (default true)
 *     "clearRouteCache"?: bool            clear Envoy's route cache after setting headers
 *                                         (route mode; default true)
 *     "unsafeModel"?: "passThrough"|"reject"  a body whose model has a control character or a
 *                                         lone surrogate: pass it unchanged and unrouted
 *                                         (default) or refuse the request with 400 }
 *
 * modelRewrites follow GIE's InferenceModelRewrite: a rule matches when ANY of its `matches`
 * holds; an empty or absent `matches` is a catch-all. A rule with an exact match for the
 * request's model wins over any catch-all, whatever the order; among several candidates of the
 * same kind the first listed wins (GIE: the oldest). Weights are all set or all absent (absent
 * = equal shares), each 1..1,000,000; the target is a weighted random choice.
 */
import { ConfigNode, ConfigReader, quote } from "../config/reader";
import { BOOL, CUSTOM, ENUM_BOOL, INT32 } from "../config/fields";
import { failIf, headerNameProblem, isObjectWith, modelNameProblem, readStrings } from "../config/checks";
import { isSafeHeaderValue } from "../rewrite/header-name";

export const DEFAULT_BODY_ROUTING_PATHS: string[] = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/responses",
];
export const DEFAULT_MAX_BODY_BYTES: i32 = 1 << 20;
export const MAX_MAX_BODY_BYTES: i32 = 64 << 20;
export const MAX_WEIGHT: i64 = 1000000;

const KEYS = "paths maxBodyBytes modelHeader baseModelHeader rewriteHeader adapters modelRewrites rewriteBody clearRouteCache unsafeModel";
/** unsafeModel's choices, stored as rejectUnsafeModel (true for the second). */
const UNSAFE_MODEL_ACTIONS = "passThrough reject";
/** How readFields reads the plain fields (config/fields.ts), one row per name of KEYS. */
const FIELDS = memory.data<f64>([
  CUSTOM, 0, 0, 0, // paths
  INT32, offsetof<BodyRoutingConfig>("maxBodyBytes"), 1, MAX_MAX_BODY_BYTES,
  CUSTOM, 0, 0, 0, // modelHeader, baseModelHeader, rewriteHeader: readHeaderOption
  CUSTOM, 0, 0, 0,
  CUSTOM, 0, 0, 0,
  CUSTOM, 0, 0, 0, // adapters
  CUSTOM, 0, 0, 0, // modelRewrites
  BOOL, offsetof<BodyRoutingConfig>("rewriteBody"), 0, 0,
  BOOL, offsetof<BodyRoutingConfig>("clearRouteCache"), 0, 0,
  ENUM_BOOL, offsetof<BodyRoutingConfig>("rejectUnsafeModel"), 0, 0, // unsafeModel
]);

export class RewriteTarget {
  constructor(
    public model: string,
    public weight: i64,
  ) {}
}

export class ModelRewriteRule {
  /** Exact model names; empty means catch-all. */
  models: string[] = [];
  targets: RewriteTarget[] = [];
  totalWeight: i64 = 0;
}

export class BodyRoutingConfig {
  paths: string[] = DEFAULT_BODY_ROUTING_PATHS.slice(0);
  maxBodyBytes: i32 = DEFAULT_MAX_BODY_BYTES;
  modelHeader: string = "x-gateway-model-name";
  baseModelHeader: string = "x-gateway-base-model-name";
  rewriteHeader: string = "x-gateway-model-name-rewrite";
  adapterNames: string[] = [];
  adapterBases: string[] = [];
  rewrites: ModelRewriteRule[] = [];
  rewriteBody: bool = true;
  clearRouteCache: bool = true;
  /** Refuse (400) a body whose model is not header-safe, instead of passing it unchanged. */
  rejectUnsafeModel: bool = false;

  /** Base model of a LoRA adapter, or null when `model` is not a listed adapter. */
  baseModelOf(model: string): string | null {
    const i = this.adapterNames.indexOf(model);
    return i < 0 ? null : unchecked(this.adapterBases[i]);
  }
}

function readHeaderOption(r: ConfigReader, node: ConfigNode, key: string, dflt: string): string {
  const child = node.child(key);
  if (child == null) return dflt;
  const s = r.stringOf(child);
  if (!r.ok) return dflt;
  failIf(r, child, headerNameProblem(s, ""));
  return s;
}

/** A model named by `obj[key]` (required), checked as a header value. */
function requireModel(r: ConfigReader, obj: ConfigNode, key: string): string {
  const s = r.requireString(obj, key);
  if (r.ok) failIf(r, obj.child(key)!, modelNameProblem(s));
  return s;
}

function pathProblem(p: string): string {
  if (p.startsWith("/") && !p.includes("?") && isSafeHeaderValue(p)) return "";
  return "must be a path starting with \"/\" without a query, got " + quote(p);
}

export function readBodyRoutingSection(r: ConfigReader, node: ConfigNode): BodyRoutingConfig | null {
  if (!isObjectWith(r, node, KEYS)) return null;
  const cfg = new BodyRoutingConfig();
  const paths = new Array<string>();
  if (readStrings(r, node, "paths", paths, pathProblem, "must list at least one path (omit the field for the defaults)") != null) cfg.paths = paths;
  r.readFields(node, cfg, KEYS, FIELDS, 1); // maxBodyBytes
  cfg.modelHeader = readHeaderOption(r, node, "modelHeader", cfg.modelHeader);
  cfg.baseModelHeader = readHeaderOption(r, node, "baseModelHeader", cfg.baseModelHeader);
  cfg.rewriteHeader = readHeaderOption(r, node, "rewriteHeader", cfg.rewriteHeader);
  r.readFields(node, cfg, KEYS, FIELDS, 7, UNSAFE_MODEL_ACTIONS); // rewriteBody .. unsafeModel

  const adapters = r.optObject(node, "adapters");
  if (adapters != null) {
    for (let i = 0; i < adapters.length && r.ok; i++) {
      const name = adapters.value.keyAt(i);
      const child = adapters.child(name)!;
      failIf(r, child, modelNameProblem(name));
      const base = r.stringOf(child);
      if (r.ok) failIf(r, child, modelNameProblem(base));
      cfg.adapterNames.push(name);
      cfg.adapterBases.push(base);
    }
  }

  const rewrites = r.optArray(node, "modelRewrites");
  if (rewrites != null) {
    for (let i = 0; i < rewrites.length && r.ok; i++) {
      const rule = readRewriteRule(r, rewrites.at(i)!);
      if (rule != null) cfg.rewrites.push(rule);
    }
  }
  return r.ok ? cfg : null;
}

// A problem found after a field's first error is never reported (the reader keeps the first),
// so the loops below go on after a failed check where that is safe.

function readRewriteRule(r: ConfigReader, node: ConfigNode): ModelRewriteRule | null {
  if (!isObjectWith(r, node, "matches targets")) return null;
  const rule = new ModelRewriteRule();
  const matches = r.optArray(node, "matches");
  if (matches != null) {
    for (let i = 0; i < matches.length && r.ok; i++) {
      const m = matches.at(i)!;
      if (!isObjectWith(r, m, "model")) return null;
      const model = r.requireObjectField(m, "model");
      if (model == null || !r.rejectUnknown(model, "type value")) return null;
      r.optEnum(model, "type", ["Exact"], "Exact");
      if (r.ok) rule.models.push(requireModel(r, model, "value"));
    }
  }
  const targets = r.requireArrayField(node, "targets");
  if (targets == null) return null;
  if (targets.length == 0) r.fail(targets, "must list at least one target");
  let weighted = 0;
  for (let i = 0; i < targets.length && r.ok; i++) {
    const t = targets.at(i)!;
    if (!isObjectWith(r, t, "modelRewrite weight")) return null;
    const model = requireModel(r, t, "modelRewrite");
    let weight: i64 = 1;
    if (r.ok && t.child("weight") != null) {
      weighted++;
      weight = r.optInt(t, "weight", 1, 1, MAX_WEIGHT);
    }
    rule.targets.push(new RewriteTarget(model, weight));
    rule.totalWeight += weight;
  }
  if (r.ok && weighted != 0 && weighted != targets.length) {
    r.fail(targets, "set \"weight\" on every target or on none (GIE InferenceModelRewrite rule)");
  }
  return r.ok ? rule : null;
}
