/** Media types and annotation keys of the two image formats Istio's Wasm fetcher accepts. */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json";
/** Compat layer: a gzip-compressed tar holding `plugin.wasm`. */
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
/** Docker's equivalent of the compat layer type, also accepted by Istio. */
export const DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/** Artifact format: the raw wasm module as a layer. */
export const WASM_CONTENT_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm";
/** Artifact format: the runtime config JSON (type, abiVersions, config.root_ids). */
export const WASM_CONFIG = "application/vnd.module.wasm.config.v1+json";

/** Manifest annotation the compat spec requires when the layer type is the OCI tar+gzip. */
export const ANNOTATION_VARIANT = "module.wasm.image/variant";
export const ANNOTATION_TITLE = "org.opencontainers.image.title";
export const ANNOTATION_VERSION = "org.opencontainers.image.version";
export const ANNOTATION_SOURCE = "org.opencontainers.image.source";
export const ANNOTATION_REVISION = "org.opencontainers.image.revision";
export const ANNOTATION_CREATED = "org.opencontainers.image.created";
/** Tag of a manifest inside an OCI image layout's index.json. */
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";

/** The file name Istio looks for inside a compat layer. */
export const COMPAT_WASM_FILE = "plugin.wasm";
