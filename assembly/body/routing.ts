/**
 * Body-based model routing, pure: decides whether a request's body is read, and from a scanned
 * body computes the headers to set and the rewritten body.
 *
 * API summary
 * - `checkRequest(cfg, path, contentType, contentEncoding, contentLength, hasBody): SkipReason`
 *   at request-header time (`contentLength` -1 when absent). `SkipReason.None` means buffer the
 *   body and call `routeBody` at end of stream; anything else means pass unchanged.
 * - `routeBody(cfg, base, len, rng, scan, out: BodyRoutingResult)`: scans the body (into
 *   `scan`, reused), chooses the model (`chooseModel`), and fills `out`:
 *   `skip` (None, or TooLarge / InvalidJson / NoModel / UnsafeModel), `refuse` (the config
 *   asks for a 400 on UnsafeModel), `requestedModel`, `model` (effective,
 *   after the rewrite), `rewritten`, `baseModel` ("" when unknown), `headerNames/headerValues`
 *   (to set on the request, in order), `bodyChanged` + `body` (the new bytes) +
 *   `contentLength`, `clearRouteCache`.
 * - `chooseModel(cfg, model, rng): string | null`: the InferenceModelRewrite choice (null = no
 *   rule applies). Exact match before catch-all; weighted random among targets.
 *
 * Nothing is published from a body that failed: the scan validates the whole body (UTF-8 and
 * JSON) before any field is read, so an invalid body yields no header and no rewrite, and a
 * model that is not header-safe (isHeaderSafeModel) is neither sent nor rewritten.
 *
 * Headers: `modelHeader` = the effective model; `rewriteHeader` = the chosen target, set only
 * when a rewrite rule applied; `baseModelHeader` = the base model of the effective model when
 * it is a listed LoRA adapter, else the effective model itself.
 */
import { ByteBuffer } from "../json/byte-buffer";
import { Rng } from "../scheduling/rng";
import { BodyScan, scanBody, modelString } from "./scanner";
import { rewriteModelPrefix } from "./rewrite";
import { BodyRoutingConfig, ModelRewriteRule } from "./routing-config";
import { isHeaderSafeModel } from "../rewrite/header-name";
import { pathOnly } from "../rewrite/path-pattern";

export enum SkipReason {
  None = 0,
  PathNotRouted = 1,
  NoBody = 2,
  NotJson = 3,
  Encoded = 4,
  TooLarge = 5,
  InvalidJson = 6,
  NoModel = 7,
  /** The model has a control character or a lone surrogate: not sent in any header. */
  UnsafeModel = 8,
}

export function skipReasonName(reason: SkipReason): string {
  switch (reason) {
    case SkipReason.None:
      return "none";
    case SkipReason.PathNotRouted:
      return "path_not_routed";
    case SkipReason.NoBody:
      return "no_body";
    case SkipReason.NotJson:
      return "not_json";
    case SkipReason.Encoded:
      return "encoded";
    case SkipReason.TooLarge:
      return "too_large";
    case SkipReason.InvalidJson:
      return "invalid_json";
    case SkipReason.UnsafeModel:
      return "unsafe_model";
    default:
      return "no_model";
  }
}

/** The media type of a Content-Type value: parameters dropped, trimmed, lower-cased. */
export function mediaType(ct: string): string {
  let end = ct.indexOf(";");
  if (end < 0) end = ct.length;
  return ct.substring(0, end).trim().toLowerCase();
}

/** No Content-Encoding, an empty one, or `identity` (any case, blanks around). */
export function isIdentityEncoding(enc: string | null): bool {
  if (enc == null) return true;
  const e = enc.trim().toLowerCase();
  return e.length == 0 || e == "identity";
}

/** `application/json`, `application/*+json`, with parameters; absent counts as JSON. */
export function isJsonContentType(ct: string | null): bool {
  if (ct == null) return true;
  const media = mediaType(ct);
  return media == "application/json" || (media.startsWith("application/") && media.endsWith("+json"));
}

export function checkRequest(
  cfg: BodyRoutingConfig,
  path: string,
  contentType: string | null,
  contentEncoding: string | null,
  contentLength: i64,
  hasBody: bool,
): SkipReason {
  if (!cfg.paths.includes(pathOnly(path))) return SkipReason.PathNotRouted;
  if (!hasBody || contentLength == 0) return SkipReason.NoBody;
  if (!isIdentityEncoding(contentEncoding)) return SkipReason.Encoded;
  if (!isJsonContentType(contentType)) return SkipReason.NotJson;
  if (contentLength > <i64>cfg.maxBodyBytes) return SkipReason.TooLarge;
  return SkipReason.None;
}

export class BodyRoutingResult {
  skip: SkipReason = SkipReason.None;
  /** UnsafeModel with `unsafeModel: "reject"`: answer 400 instead of passing the body. */
  refuse: bool = false;
  requestedModel: string = "";
  model: string = "";
  rewritten: bool = false;
  baseModel: string = "";
  headerNames: string[] = [];
  headerValues: string[] = [];
  bodyChanged: bool = false;
  /**
   * When bodyChanged: the rewritten body up to the end of its last model value (reused across
   * requests); the original body continues unchanged from `bodyTailStart`.
   */
  body: ByteBuffer = new ByteBuffer(1024);
  bodyTailStart: i32 = 0;
  contentLength: i32 = 0;
  clearRouteCache: bool = false;

  reset(): void {
    this.skip = SkipReason.None;
    this.refuse = false;
    this.requestedModel = "";
    this.model = "";
    this.rewritten = false;
    this.baseModel = "";
    this.headerNames.length = 0;
    this.headerValues.length = 0;
    this.bodyChanged = false;
    this.body.reset();
    this.bodyTailStart = 0;
    this.contentLength = 0;
    this.clearRouteCache = false;
  }
}

function pickTarget(rule: ModelRewriteRule, rng: Rng): string {
  const targets = rule.targets;
  if (targets.length == 1) return unchecked(targets[0]).model;
  // Uniform in [0, total): 64-bit modulo bias is negligible for totals ≤ 10^6 × targets.
  let x = <i64>(rng.nextU64() % <u64>rule.totalWeight);
  for (let i = 0, n = targets.length; i < n; i++) {
    const t = unchecked(targets[i]);
    if (x < t.weight) return t.model;
    x -= t.weight;
  }
  return unchecked(targets[targets.length - 1]).model;
}

export function chooseModel(cfg: BodyRoutingConfig, model: string, rng: Rng): string | null {
  const rules = cfg.rewrites;
  for (let i = 0, n = rules.length; i < n; i++) {
    const rule = unchecked(rules[i]);
    if (rule.models.includes(model)) return pickTarget(rule, rng);
  }
  for (let i = 0, n = rules.length; i < n; i++) {
    const rule = unchecked(rules[i]);
    if (rule.models.length == 0) return pickTarget(rule, rng);
  }
  return null;
}

export function routeBody(
  cfg: BodyRoutingConfig,
  base: usize,
  len: i32,
  rng: Rng,
  scan: BodyScan,
  out: BodyRoutingResult,
): void {
  out.reset();
  out.contentLength = len;
  if (len > cfg.maxBodyBytes) {
    out.skip = SkipReason.TooLarge;
    return;
  }
  scanBody(base, len, scan);
  if (!scan.ok) {
    out.skip = SkipReason.InvalidJson;
    return;
  }
  if (!scan.hasStringModel) {
    out.skip = SkipReason.NoModel;
    return;
  }
  const requested = modelString(base, scan);
  // Decoded text exactly as JSON.parse gives it; a name a header cannot carry as sent is not
  // cleaned up (that would be a model the client did not name): the body passes untouched.
  if (!isHeaderSafeModel(requested)) {
    out.skip = SkipReason.UnsafeModel;
    out.refuse = cfg.rejectUnsafeModel;
    return;
  }
  out.requestedModel = requested;
  let model = requested;
  const chosen = chooseModel(cfg, requested, rng);
  if (chosen != null) {
    model = chosen;
    out.rewritten = true;
  }
  out.model = model;
  const base_ = cfg.baseModelOf(model);
  out.baseModel = base_ != null ? base_ : model;

  // Rewrite targets and adapter bases were checked with the same rule when the config was read.
  if (model.length == 0) {
    out.skip = SkipReason.NoModel;
    out.rewritten = false;
    return;
  }
  if (!isHeaderSafeModel(model) || !isHeaderSafeModel(out.baseModel)) {
    out.skip = SkipReason.UnsafeModel;
    out.rewritten = false;
    return;
  }
  out.headerNames.push(cfg.modelHeader);
  out.headerValues.push(model);
  out.headerNames.push(cfg.baseModelHeader);
  out.headerValues.push(out.baseModel);
  if (out.rewritten) {
    out.headerNames.push(cfg.rewriteHeader);
    out.headerValues.push(model);
    if (cfg.rewriteBody && model != requested) {
      const tail = rewriteModelPrefix(base, len, scan, model, out.body);
      out.bodyChanged = tail >= 0;
      if (out.bodyChanged) {
        out.bodyTailStart = tail;
        out.contentLength = out.body.length + (len - tail);
      }
    }
  }
  out.clearRouteCache = cfg.clearRouteCache;
}
