/**
 * Builds the two Wasm image formats Istio's fetcher accepts, byte for byte reproducibly:
 *
 * - **compat**: an ordinary OCI image whose only layer is a tar+gzip holding `plugin.wasm`,
 *   with the manifest annotation `module.wasm.image/variant: compat` the compat spec asks for.
 * - **artifact**: an OCI artifact with exactly two layers, the raw wasm
 *   (`application/vnd.module.wasm.content.layer.v1+wasm`) and the runtime config
 *   (`application/vnd.module.wasm.config.v1+json`), which is also the manifest's config.
 *
 * JSON documents are serialised with a fixed key order and no whitespace; the tar and gzip are
 * written with fixed metadata. Same wasm + same options => same manifest digest.
 */
import { type Digest, sha256Digest } from "./digest.js";
import { reproducibleGzip } from "./gzip.js";
import * as mt from "./media-types.js";
import { writeTar } from "./tar.js";
import { assertWasm } from "./wasm.js";

/** The two packaging formats. */
export type WasmImageFormat = "compat" | "artifact";
export const WASM_IMAGE_FORMATS: readonly WasmImageFormat[] = ["compat", "artifact"];

/** An OCI content descriptor. */
export interface OciDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
}

/** An OCI (or Docker schema 2) image manifest. */
export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

/** What goes into an image besides the wasm. Absent fields are left out, not defaulted. */
export interface PackOptions {
  format: WasmImageFormat;
  /** `org.opencontainers.image.version`, e.g. the package version. */
  version?: string;
  /** `org.opencontainers.image.source`, e.g. the repository URL. */
  source?: string;
  /** `org.opencontainers.image.revision`, e.g. a git commit. */
  revision?: string;
  /** `org.opencontainers.image.created` (RFC 3339). Omitted by default: it would break reproducibility. */
  created?: string;
  /** Root id recorded in the artifact runtime config (Istio's `pluginName`). Default `wayroute`. */
  rootId?: string;
}

/** A built image: its manifest, every blob it references, and the facts a WasmPlugin needs. */
export interface WasmImage {
  format: WasmImageFormat;
  manifest: OciManifest;
  manifestBytes: Buffer;
  manifestDigest: Digest;
  /** Config and layer blobs by digest. */
  blobs: Map<Digest, Buffer>;
  wasmDigest: Digest;
  wasmSize: number;
}

function descriptor(mediaType: string, data: Buffer, annotations?: Record<string, string>): OciDescriptor {
  const d: OciDescriptor = { mediaType, digest: sha256Digest(data), size: data.length };
  if (annotations) d.annotations = annotations;
  return d;
}

function manifestAnnotations(opts: PackOptions): Record<string, string> {
  const a: Record<string, string> = {};
  if (opts.format === "compat") a[mt.ANNOTATION_VARIANT] = "compat";
  if (opts.created) a[mt.ANNOTATION_CREATED] = opts.created;
  if (opts.source) a[mt.ANNOTATION_SOURCE] = opts.source;
  if (opts.revision) a[mt.ANNOTATION_REVISION] = opts.revision;
  a[mt.ANNOTATION_TITLE] = "wayroute";
  if (opts.version) a[mt.ANNOTATION_VERSION] = opts.version;
  return a;
}

/** Serialises a JSON document canonically enough for us: insertion-ordered keys, no spaces. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

/** Builds the compat or artifact image for `wasm`. Throws E_NOT_WASM if it is not a module. */
export function buildWasmImage(wasm: Uint8Array, opts: PackOptions): WasmImage {
  assertWasm(wasm, "the input");
  const wasmBuf = Buffer.from(wasm);
  const blobs = new Map<Digest, Buffer>();
  const annotations = manifestAnnotations(opts);
  let manifest: OciManifest;

  if (opts.format === "compat") {
    const tar = writeTar([{ name: mt.COMPAT_WASM_FILE, data: wasmBuf, mode: 0o644 }]);
    const layer = reproducibleGzip(tar);
    // A minimal image config: Go's GOARCH/GOOS names for a wasm module, the layer's diff id,
    // and the annotations repeated as labels so `skopeo inspect` shows them.
    const config = jsonBytes({
      architecture: "wasm",
      os: "wasip1",
      config: { Labels: annotations },
      rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
    });
    const configDesc = descriptor(mt.OCI_IMAGE_CONFIG, config);
    const layerDesc = descriptor(mt.OCI_LAYER_TAR_GZIP, layer);
    blobs.set(configDesc.digest, config);
    blobs.set(layerDesc.digest, layer);
    manifest = { schemaVersion: 2, mediaType: mt.OCI_MANIFEST, config: configDesc, layers: [layerDesc], annotations };
  } else {
    const runtimeConfig = jsonBytes({
      type: "envoy_proxy",
      abiVersions: ["proxy_abi_version_0_2_1"],
      config: { root_ids: [opts.rootId ?? "wayroute"] },
    });
    const configDesc = descriptor(mt.WASM_CONFIG, runtimeConfig);
    const wasmDesc = descriptor(mt.WASM_CONTENT_LAYER, wasmBuf, { [mt.ANNOTATION_TITLE]: mt.COMPAT_WASM_FILE });
    const configLayerDesc = descriptor(mt.WASM_CONFIG, runtimeConfig, { [mt.ANNOTATION_TITLE]: "runtime-config.json" });
    blobs.set(configDesc.digest, runtimeConfig);
    blobs.set(wasmDesc.digest, wasmBuf);
    // Exactly two layers: Istio rejects a one-layer artifact ("number of layers must be 2").
    manifest = {
      schemaVersion: 2,
      mediaType: mt.OCI_MANIFEST,
      config: configDesc,
      layers: [wasmDesc, configLayerDesc],
      annotations,
    };
  }
  const manifestBytes = jsonBytes(manifest);
  return {
    format: opts.format,
    manifest,
    manifestBytes,
    manifestDigest: sha256Digest(manifestBytes),
    blobs,
    wasmDigest: sha256Digest(wasmBuf),
    wasmSize: wasmBuf.length,
  };
}
