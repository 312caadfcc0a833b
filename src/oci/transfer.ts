/**
 * Push a packed layout to a registry; pull or inspect an image from a registry or a layout,
 * verifying every digest and extracting the module the way Istio would.
 */
import { stat } from "node:fs/promises";
import { resolveCredentials } from "./credentials.js";
import { type Digest, digestHex, isDigest } from "./digest.js";
import { OciError } from "./errors.js";
import type { OciDescriptor, OciManifest } from "./image.js";
import { type AcceptedFormat, type ExtractLimits, extractWasmLikeIstio } from "./istio-rules.js";
import { checkOutputTarget, openLayout, readLayoutManifest, selectManifest, writeLayoutDir } from "./layout.js";
import { OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { formatReference, type ImageReference, parseReference } from "./reference.js";
import { RegistryClient, type RegistryClientOptions } from "./registry-client.js";
import { escapeControl } from "./terminal-text.js";

/** Network options shared by push, pull and inspect. */
export interface TransferOptions extends Omit<RegistryClientOptions, "credentials">, ExtractLimits {
  /**
   * Environment for credential lookup (default `process.env`): `WAYROUTE_REGISTRY` with
   * `_USERNAME`/`_PASSWORD`, `DOCKER_CONFIG`, and `WAYROUTE_REGISTRY_TOKEN_REALM` (comma-separated
   * token service origins on another host that may receive the credentials).
   */
  env?: NodeJS.ProcessEnv;
}

/** Result of a push. */
export interface PushResult {
  reference: string;
  manifestDigest: Digest;
  /** Blobs uploaded (the rest were already present). */
  uploaded: number;
  skipped: number;
  /** Every tag the manifest was put under. */
  tags: string[];
}

/** What a WasmPlugin needs to know about an image. */
export interface ImageSummary {
  /** `oci://registry/repo@sha256:…` pinned by digest (absent for a local layout). */
  url?: string;
  manifestDigest: Digest;
  /** `WasmPlugin.spec.sha256` for an oci:// URL: the manifest digest's hex. */
  sha256: string;
  format: AcceptedFormat;
  wasmSha256: string;
  wasmSize: number;
  annotations: Record<string, string>;
}

async function clientFor(ref: ImageReference, opts: TransferOptions): Promise<RegistryClient> {
  const env = opts.env ?? process.env;
  const credentials = await resolveCredentials(ref.registry, env);
  const fromEnv = (env.WAYROUTE_REGISTRY_TOKEN_REALM ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return new RegistryClient(ref.registry, { ...opts, credentials, trustedTokenRealms: [...(opts.trustedTokenRealms ?? []), ...fromEnv] });
}

function parseManifest(bytes: Buffer, what: string): OciManifest {
  let m: OciManifest & { manifests?: unknown };
  try {
    m = JSON.parse(bytes.toString("utf8")) as OciManifest & { manifests?: unknown };
  } catch {
    throw new OciError("E_BAD_IMAGE", `${what} is not valid JSON`);
  }
  if (m.mediaType === OCI_INDEX || Array.isArray(m.manifests)) {
    throw new OciError("E_BAD_IMAGE", `${what} is an image index; Istio needs a single image manifest`);
  }
  if (m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new OciError("E_BAD_IMAGE", `${what} is not a schema 2 image manifest`);
  }
  return m;
}

/** Pushes the layout at `layoutPath` (directory or .tar) to `reference`. */
export async function pushLayout(
  layoutPath: string,
  reference: string,
  opts: TransferOptions & { tag?: string; extraTags?: string[] } = {},
): Promise<PushResult> {
  const ref = parseReference(reference);
  const layout = await openLayout(layoutPath, opts);
  const entry = selectManifest(layout, layoutPath, opts.tag);
  const { bytes, manifest } = await readLayoutManifest(layout, entry);
  parseManifest(bytes, `manifest ${entry.descriptor.digest} in ${layoutPath}`);
  const digest = entry.descriptor.digest as Digest;
  if (ref.digest && ref.digest !== digest) {
    throw new OciError("E_DIGEST_MISMATCH", `reference pins ${ref.digest} but the layout's manifest is ${digest}`);
  }
  const target = ref.tag ?? (ref.digest ? digest : entry.tag);
  if (!target) throw new OciError("E_BAD_REFERENCE", `give ${reference} a tag (the layout's manifest has none)`);
  const client = await clientFor(ref, opts);
  let uploaded = 0;
  let skipped = 0;
  const seen = new Set<string>();
  for (const d of [manifest.config, ...manifest.layers]) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const data = await layout.readBlob(d.digest, d.size);
    if (await client.pushBlob(ref.repository, data, d.digest)) uploaded++;
    else skipped++;
  }
  const mediaType = manifest.mediaType ?? entry.descriptor.mediaType ?? OCI_MANIFEST;
  const manifestDigest = await client.putManifest(ref.repository, target, bytes, mediaType);
  for (const extra of opts.extraTags ?? []) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(extra)) throw new OciError("E_BAD_REFERENCE", `'${extra}' is not a valid tag`);
    await client.putManifest(ref.repository, extra, bytes, mediaType);
  }
  const tag = target === digest ? undefined : target;
  return {
    reference: formatReference({ ...ref, tag, digest: manifestDigest }),
    manifestDigest,
    uploaded,
    skipped,
    tags: [...(tag ? [tag] : []), ...(opts.extraTags ?? [])],
  };
}

async function summarize(
  manifest: OciManifest,
  mediaType: string | undefined,
  manifestDigest: Digest,
  readBlob: (d: Digest, size: number) => Promise<Buffer>,
  limits: ExtractLimits,
): Promise<{ summary: Omit<ImageSummary, "url">; blobs: Map<Digest, Buffer> }> {
  const blobs = new Map<Digest, Buffer>();
  const cached = async (desc: OciDescriptor) => {
    const d = desc?.digest;
    if (typeof d !== "string" || !isDigest(d)) throw new OciError("E_BAD_IMAGE", `unsupported digest '${escapeControl(String(d))}' (only sha256)`);
    let b = blobs.get(d);
    if (!b) {
      b = await readBlob(d, desc.size);
      blobs.set(d, b);
    } else if (b.length !== desc.size) {
      throw new OciError("E_BAD_IMAGE", `blob ${d} is ${b.length} bytes but a descriptor says ${escapeControl(String(desc.size))}`);
    }
    return b;
  };
  // Every digest is fetched and verified, not only the layer holding the module.
  for (const d of [manifest.config, ...manifest.layers]) await cached(d);
  const extracted = await extractWasmLikeIstio(manifest, mediaType, cached, limits);
  return {
    blobs,
    summary: {
      manifestDigest,
      sha256: digestHex(manifestDigest),
      format: extracted.format,
      wasmSha256: digestHex(extracted.wasmDigest),
      wasmSize: extracted.wasm.length,
      annotations: stringAnnotations(manifest.annotations),
    },
  };
}

/** Annotations as a plain string map (anything else an image carries there is dropped). */
function stringAnnotations(a: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!a || typeof a !== "object" || Array.isArray(a)) return out;
  for (const [k, v] of Object.entries(a)) if (typeof v === "string") out[k] = v;
  return out;
}

/** Inspects a registry image or a local layout (a path that exists), verifying every digest. */
export async function inspectImage(target: string, opts: TransferOptions & { tag?: string } = {}): Promise<ImageSummary> {
  const local = await stat(target).then(
    () => true,
    () => false,
  );
  if (local) {
    const layout = await openLayout(target, opts);
    const entry = selectManifest(layout, target, opts.tag);
    const { bytes, manifest } = await readLayoutManifest(layout, entry);
    parseManifest(bytes, `manifest in ${target}`);
    const { summary } = await summarize(manifest, manifest.mediaType ?? entry.descriptor.mediaType, entry.descriptor.digest as Digest, (d, size) => layout.readBlob(d, size), opts);
    return summary;
  }
  return (await pullImage(target, opts)).summary;
}

/** Pulls `reference`, verifies it, and optionally writes it as a layout at `out`. */
export async function pullImage(reference: string, opts: TransferOptions & { out?: string; force?: boolean } = {}): Promise<{ summary: ImageSummary; wasm?: Buffer }> {
  const ref = parseReference(reference);
  const client = await clientFor(ref, opts);
  const fetched = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? "latest");
  if (ref.digest && fetched.digest !== ref.digest) {
    throw new OciError("E_DIGEST_MISMATCH", `manifest digest is ${fetched.digest}, reference pins ${ref.digest}`);
  }
  const manifest = parseManifest(fetched.bytes, `manifest of ${reference}`);
  if (opts.out) await checkOutputTarget(opts.out, opts.force === true);
  const { summary, blobs } = await summarize(
    manifest,
    fetched.mediaType || manifest.mediaType,
    fetched.digest,
    (d, size) => client.getBlob(ref.repository, d, size),
    opts,
  );
  if (opts.out) {
    await writeLayoutDir(opts.out, { manifest, manifestBytes: fetched.bytes, manifestDigest: fetched.digest, blobs }, ref.tag ?? "latest", { force: opts.force === true });
  }
  const url = `oci://${formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag, digest: fetched.digest })}`;
  return { summary: { url, ...summary } };
}
