/**
 * Istio's acceptance rules for Wasm images, as its fetcher applies them (istio/istio
 * `pkg/wasm/imagefetcher.go`), in the same order:
 *
 * 1. Docker schema 2 manifest: the LAST layer must be `application/vnd.docker.image.rootfs.diff.tar.gzip`
 *    and hold a file whose base name is `plugin.wasm`.
 * 2. OCI manifest, "compat": the LAST layer must be `application/vnd.oci.image.layer.v1.tar+gzip`
 *    holding `plugin.wasm`.
 * 3. OCI manifest, "oci"/artifact: EXACTLY two layers, one of type
 *    `application/vnd.module.wasm.content.layer.v1+wasm`, whose raw bytes are the module.
 *
 * Istio itself does not check the module header; we additionally require `\0asm` so that an image
 * we call valid also loads in Envoy.
 *
 * A tar+gzip layer is inflated as a stream and walked the way Go's `archive/tar` reads it (PAX
 * and GNU long names honoured): the FIRST entry whose base name is `plugin.wasm` is the module,
 * and nothing after it is inflated. The inflated total is capped, so a gzip bomb fails early.
 */
import { OciError } from "./errors.js";
import { DEFAULT_MAX_INFLATED_BYTES, gunzipChunks } from "./gzip.js";
import type { OciDescriptor, OciManifest } from "./image.js";
import * as mt from "./media-types.js";
import { findEntryLikeIstio } from "./tar.js";
import { looksLikeWasm } from "./wasm.js";
import { type Digest, sha256Digest } from "./digest.js";

/** The format Istio would recognise the image as. */
export type AcceptedFormat = "docker" | "compat" | "artifact";

/** The module Istio would load, and how it found it. */
export interface ExtractedWasm {
  format: AcceptedFormat;
  wasm: Buffer;
  wasmDigest: Digest;
  /** Digest of the layer the module came from. */
  layerDigest: string;
}

/** Fetches a blob by its descriptor (verifying digest and size). */
export type BlobReader = (descriptor: OciDescriptor) => Promise<Buffer>;

/** Caps on what extraction may cost. */
export interface ExtractLimits {
  /** Most bytes a tar+gzip layer may inflate to before the module is found (default 512 MiB). */
  maxInflatedBytes?: number;
  /** Largest module (default 256 MiB). */
  maxModuleBytes?: number;
}

async function fromTarGzipLayer(manifest: OciManifest, readBlob: BlobReader, want: string, limits: ExtractLimits): Promise<{ wasm: Buffer; layer: string }> {
  if (manifest.layers.length === 0) throw new Error("number of layers must be greater than zero");
  const layer = manifest.layers[manifest.layers.length - 1]!;
  if (layer.mediaType !== want) throw new Error(`invalid media type ${layer.mediaType} (expect ${want})`);
  const blob = await readBlob(layer);
  let wasm: Buffer | undefined;
  try {
    wasm = await findEntryLikeIstio(gunzipChunks(blob, limits.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES), mt.COMPAT_WASM_FILE, limits.maxModuleBytes ?? 256 << 20);
  } catch (err) {
    if (err instanceof OciError) throw err;
    if ((err as NodeJS.ErrnoException).code?.startsWith("Z_")) throw new Error("failed to parse layer as tar.gz");
    throw err;
  }
  if (!wasm) throw new Error(`${mt.COMPAT_WASM_FILE} not found in the archive`);
  return { wasm, layer: layer.digest };
}

async function fromArtifact(manifest: OciManifest, readBlob: BlobReader): Promise<{ wasm: Buffer; layer: string }> {
  if (manifest.layers.length !== 2) throw new Error(`number of layers must be 2 but got ${manifest.layers.length}`);
  const layer = manifest.layers.find((l) => l.mediaType === mt.WASM_CONTENT_LAYER);
  if (!layer) throw new Error(`could not find the layer of type ${mt.WASM_CONTENT_LAYER}`);
  return { wasm: await readBlob(layer), layer: layer.digest };
}

function finish(format: AcceptedFormat, found: { wasm: Buffer; layer: string }): ExtractedWasm {
  if (!looksLikeWasm(found.wasm)) {
    throw new OciError("E_BAD_IMAGE", `the ${format} image's plugin.wasm is not a WebAssembly module (no \\0asm header)`);
  }
  return { format, wasm: found.wasm, wasmDigest: sha256Digest(found.wasm), layerDigest: found.layer };
}

/**
 * Extracts the module exactly as Istio would, or throws E_BAD_IMAGE whose message carries the
 * reason for every format tried. Registry and digest errors from `readBlob` pass through.
 */
export async function extractWasmLikeIstio(
  manifest: OciManifest,
  manifestMediaType: string | undefined,
  readBlob: BlobReader,
  limits: ExtractLimits = {},
): Promise<ExtractedWasm> {
  const type = manifestMediaType ?? manifest.mediaType;
  if (!Array.isArray(manifest.layers)) throw new OciError("E_BAD_IMAGE", "the manifest has no layers array");
  if (type === mt.DOCKER_MANIFEST_V2) {
    try {
      return finish("docker", await fromTarGzipLayer(manifest, readBlob, mt.DOCKER_LAYER_TAR_GZIP, limits));
    } catch (err) {
      if (err instanceof OciError) throw err;
      throw new OciError("E_BAD_IMAGE", `Istio would reject this Docker image: ${(err as Error).message}`);
    }
  }
  let compatError: string;
  try {
    return finish("compat", await fromTarGzipLayer(manifest, readBlob, mt.OCI_LAYER_TAR_GZIP, limits));
  } catch (err) {
    if (err instanceof OciError) throw err;
    compatError = (err as Error).message;
  }
  try {
    return finish("artifact", await fromArtifact(manifest, readBlob));
  } catch (err) {
    if (err instanceof OciError) throw err;
    throw new OciError(
      "E_BAD_IMAGE",
      `Istio would reject this image: not compat (${compatError}); not an artifact (${(err as Error).message})`,
    );
  }
}
