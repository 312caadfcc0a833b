/**
 * Image references: `host[:port]/repository[:tag][@sha256:<hex>]`, optionally prefixed with
 * `oci://` (the form WasmPlugin URLs use). The registry host is always explicit: we do not guess
 * a default registry for bare names like `wayroute:1.0`.
 */
import { type Digest, isDigest } from "./digest.js";
import { OciError } from "./errors.js";

/** A parsed image reference. */
export interface ImageReference {
  /** `host` or `host:port`, as written. */
  registry: string;
  /** Repository path, e.g. `team/wayroute`. */
  repository: string;
  tag?: string;
  digest?: Digest;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

function bad(ref: string, why: string): OciError {
  return new OciError("E_BAD_REFERENCE", `invalid image reference '${ref}': ${why} (expected host[:port]/repository[:tag][@sha256:...])`);
}

/** Parses `ref`, throwing E_BAD_REFERENCE naming what is wrong. */
export function parseReference(ref: string): ImageReference {
  let rest = ref.startsWith("oci://") ? ref.slice("oci://".length) : ref;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad(ref, `'${d}' is not a sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf("/");
  if (slash < 0) throw bad(ref, "no registry host");
  const registry = rest.slice(0, slash);
  if (!HOST.test(registry) || !(registry.includes(".") || registry.includes(":") || registry === "localhost")) {
    throw bad(ref, `'${registry}' is not a registry host (it needs a dot, a port, or to be localhost)`);
  }
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `'${tag}' is not a valid tag`);
  }
  if (!path || !path.split("/").every((c) => COMPONENT.test(c))) {
    throw bad(ref, `'${path}' is not a valid repository (lower-case letters, digits, and . _ - separators)`);
  }
  return { registry, repository: path, tag, digest };
}

/** Formats a reference back to text (without `oci://`). */
export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The host name of a registry (`host:port` → `host`, brackets kept off IPv6). */
export function registryHostname(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const colon = registry.lastIndexOf(":");
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** True for registries on this machine, the only ones we talk plain HTTP to without --insecure. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registryHostname(registry).toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
