import { createHash } from "node:crypto";
import { OciError } from "./errors.js";

/** A content digest, always `sha256:<64 lower-case hex>` here. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The sha256 digest of `data` in OCI form. */
export function sha256Digest(data: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** True when `s` is a well-formed sha256 digest. */
export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** The hex part of a digest (what Istio's `WasmPlugin.spec.sha256` wants for oci:// URLs). */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}

/** Throws E_DIGEST_MISMATCH unless `data` hashes to `expected`. `what` names the object checked. */
export function verifyDigest(data: Uint8Array, expected: string, what: string): void {
  const actual = sha256Digest(data);
  if (actual !== expected) {
    throw new OciError(
      "E_DIGEST_MISMATCH",
      `digest mismatch for ${what}: expected ${expected}, got ${actual} (the content was altered or corrupted; re-push the image)`,
    );
  }
}
