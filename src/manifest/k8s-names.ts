/**
 * Kubernetes object-name rules (apimachinery `validation.IsDNS1123Label` / `IsDNS1123Subdomain`).
 */
import { ManifestError } from "./errors.js";

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `name` is not an RFC 1123 DNS label (≤ 63 chars), or undefined when it is one. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > 63) return `it is ${name.length} characters long (at most 63)`;
  if (!LABEL.test(name)) return "it must consist of lower-case letters, digits and '-', and start and end with a letter or digit";
  return undefined;
}

/** Why `name` is not an RFC 1123 DNS subdomain (≤ 253 chars), or undefined when it is one. */
export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > 253) return `it is ${name.length} characters long (at most 253)`;
  if (!SUBDOMAIN.test(name)) return "it must consist of lower-case letters, digits, '-' and '.', and start and end with a letter or digit";
  return undefined;
}

/** Throws E_BAD_NAME naming `what` unless `name` is a DNS label. */
export function assertDnsLabel(name: string, what: string): void {
  const p = dns1123LabelProblem(name);
  if (p) throw new ManifestError("E_BAD_NAME", `${what} '${name}' is not a valid Kubernetes name (RFC 1123 DNS label): ${p}`);
}

/** Throws E_BAD_NAME naming `what` unless `name` is a DNS subdomain. */
export function assertDnsSubdomain(name: string, what: string): void {
  const p = dns1123SubdomainProblem(name);
  if (p) throw new ManifestError("E_BAD_NAME", `${what} '${name}' is not a valid Kubernetes name (RFC 1123 DNS subdomain): ${p}`);
}
