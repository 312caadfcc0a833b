/** OCI packaging of the plugin for Istio, and a registry client. */
export { OciError, type OciErrorCode, isCodedError } from "./errors.js";
export { type Digest, sha256Digest, digestHex, isDigest, verifyDigest } from "./digest.js";
export * from "./media-types.js";
export { looksLikeWasm, assertWasm } from "./wasm.js";
export { writeTar, readTar, type TarEntry } from "./tar.js";
export { reproducibleGzip, gunzip } from "./gzip.js";
export { buildWasmImage, WASM_IMAGE_FORMATS, type WasmImage, type WasmImageFormat, type PackOptions, type OciManifest, type OciDescriptor } from "./image.js";
export { writeLayoutDir, writeLayoutTar, openLayout, selectManifest, readLayoutManifest, layoutEntries, type OciLayout, type StoredImage } from "./layout.js";
export { extractWasmLikeIstio, type AcceptedFormat, type ExtractedWasm } from "./istio-rules.js";
export { parseReference, formatReference, isLoopbackRegistry, type ImageReference } from "./reference.js";
export { resolveCredentials, credentialsFromDockerConfig, dockerConfigPath, type Credentials } from "./credentials.js";
export { parseChallenge, type AuthChallenge } from "./www-authenticate.js";
export { RegistryClient, type RegistryClientOptions } from "./registry-client.js";
export { pushLayout, pullImage, inspectImage, type PushResult, type ImageSummary, type TransferOptions } from "./transfer.js";
export { writeFileAtomic, writeDirAtomic } from "./atomic-fs.js";
