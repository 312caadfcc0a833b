/**
 * Syntax checks for option values that end up in generated manifests: a Kubernetes label
 * selector (`--selector`), an Envoy root id (`--plugin-name`) and a module URL (`--url`). A value
 * that Kubernetes, Istio or a URL parser would read differently from what the user wrote is a
 * usage error, never a manifest with surprises in it.
 */
import { UsageError } from "./command.js";

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a Kubernetes label key (`[prefix/]name`), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return "its prefix must be a DNS subdomain (lower-case letters, digits, '-' and '.') of at most 253 characters";
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return "its name must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

/** Why `value` is not a Kubernetes label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) return "it must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

/** Parses `k=v,k2=v2` into a label map (null-prototype), each key and value checked. */
export function labelSelector(text: string, option = "--selector"): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const pair of text.split(",")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`${option} entry ${JSON.stringify(pair)} is not key=value`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const kp = labelKeyProblem(key);
    if (kp) throw new UsageError(`${option} key ${JSON.stringify(key)} is not a Kubernetes label key: ${kp}`);
    const vp = labelValueProblem(value);
    if (vp) throw new UsageError(`${option} value ${JSON.stringify(value)} of ${JSON.stringify(key)} is not a Kubernetes label value: ${vp}`);
    if (key in out) throw new UsageError(`${option} names ${JSON.stringify(key)} twice`);
    out[key] = value;
  }
  if (Object.keys(out).length === 0) throw new UsageError(`${option} needs at least one key=value`);
  return out;
}

const ROOT_ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** Checks an Envoy root id (Istio `pluginName`): printable, no spaces, at most 253 characters. */
export function pluginName(name: string | undefined, option = "--plugin-name"): string | undefined {
  if (name === undefined) return undefined;
  if (!ROOT_ID.test(name)) {
    throw new UsageError(`${option} ${JSON.stringify(name)} must be 1-253 letters, digits, '.', '_' or '-', starting and ending with a letter or digit`);
  }
  return name;
}

/**
 * Checks a module URL for a WasmPlugin: `oci://`, `http://` or `https://`, parseable as a URL,
 * with a host, no user name or password (it would be written into the manifest), and no
 * whitespace or control characters.
 */
export function pluginUrl(url: string, option = "--url"): string {
  if (/[\s\u0000-\u001f\u007f]/.test(url)) throw new UsageError(`${option} must not contain spaces or control characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${option} ${JSON.stringify(url)} is not a valid URL`);
  }
  if (!["oci:", "http:", "https:"].includes(parsed.protocol)) throw new UsageError(`${option} must be oci://, http:// or https://`);
  if (!parsed.host) throw new UsageError(`${option} ${JSON.stringify(url)} names no host`);
  if (parsed.username || parsed.password) throw new UsageError(`${option} must not carry a user name or password; use imagePullSecret for registry credentials`);
  return url;
}
