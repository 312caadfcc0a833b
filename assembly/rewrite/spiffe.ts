/**
 * Parts of a SPIFFE ID, as Istio issues them: `spiffe://<trust-domain>/ns/<namespace>/sa/<sa>`.
 *
 * API: `spiffePart(id, part): string | null` where part is one of `SPIFFE_PARTS`:
 * - `trust_domain`: the authority (`cluster.local`)
 * - `namespace` (alias `ns`): the segment after `/ns/`
 * - `service_account` (alias `sa`): the segment after `/sa/`
 * - `path`: everything after the trust domain, starting with `/`
 * Returns null when `id` is not a `spiffe://` URI or the part is absent, so a template that
 * uses it is skipped rather than emitting a wrong identity.
 */
export const SPIFFE_PARTS: string[] = ["trust_domain", "namespace", "ns", "service_account", "sa", "path"];

export function spiffePart(id: string, part: string): string | null {
  if (!id.startsWith("spiffe://")) return null;
  const rest = id.substring(9);
  const slash = rest.indexOf("/");
  const trustDomain = slash < 0 ? rest : rest.substring(0, slash);
  if (trustDomain.length == 0) return null;
  if (part == "trust_domain") return trustDomain;
  if (slash < 0) return null;
  const path = rest.substring(slash);
  if (part == "path") return path;
  const key = part == "namespace" || part == "ns" ? "ns" : part == "service_account" || part == "sa" ? "sa" : "";
  if (key.length == 0) return null;
  // Walk key/value segment pairs: /ns/<x>/sa/<y>
  const segs = path.substring(1).split("/");
  for (let i = 0; i + 1 < segs.length; i += 2) {
    if (segs[i] == key) {
      const v = segs[i + 1];
      return v.length > 0 ? v : null;
    }
  }
  return null;
}
