/**
 * Warnings for an Envoy config whose upstream is an `ORIGINAL_DST` cluster with
 * `use_http_header`: Envoy connects to whatever `ip:port` the destination header names, so a
 * client that gets its own value past the plugin can send the proxy anywhere (SSRF). The plugin
 * removes the header from every request (docs/rewriting.md, "Steering headers from clients");
 * these are the configurations in which a client-chosen value can still arrive.
 */

/** The destination header Envoy reads (the GIE one unless a pool names another). */
const DESTINATION_HEADER = "x-gateway-destination-endpoint";

/** Header names a pool of `config` steers with in endpoint mode (each one read by ORIGINAL_DST). */
function destinationHeaders(config: Record<string, unknown>): string[] {
  const names = new Set([DESTINATION_HEADER]);
  const pools = Array.isArray(config.pools) ? (config.pools as Array<{ steering?: { header?: unknown } }>) : [];
  for (const p of pools) if (typeof p?.steering?.header === "string") names.add(p.steering.header);
  return [...names];
}

/** `{{header:NAME}}` sources in a template. */
function templateHeaders(template: unknown): string[] {
  if (typeof template !== "string") return [];
  return [...template.matchAll(/\{\{\s*header:([^|}\s]+)/g)].map((m) => m[1]!.toLowerCase());
}

/**
 * What lets a client-chosen destination reach an ORIGINAL_DST + use_http_header cluster under
 * this plugin config and Wasm failure policy; empty when the plugin strips it on every request.
 */
export function originalDstWarnings(config: Record<string, unknown>, failStrategy: string | undefined): string[] {
  const out: string[] = [];
  const headers = destinationHeaders(config);
  const list = headers.join(", ");
  const steering = config.steering as { trustedCallers?: unknown[] } | undefined;
  if (Array.isArray(steering?.trustedCallers) && steering.trustedCallers.length > 0) {
    out.push(`callers matching steering.trustedCallers keep ${list}: with an ORIGINAL_DST + use_http_header cluster they can send the proxy to any address`);
  }
  if (failStrategy === "FAIL_OPEN") {
    out.push(`failStrategy FAIL_OPEN: while the plugin is failed Envoy skips it, so a client's ${list} is not removed and the ORIGINAL_DST cluster connects where it says`);
  }
  // A rule or a static edit that writes the destination header from a request header hands the
  // choice back to the client.
  const rules = Array.isArray(config.rules) ? (config.rules as Array<{ name?: unknown; request?: { set?: unknown; append?: unknown; rename?: unknown } }>) : [];
  rules.forEach((rule, i) => {
    const name = typeof rule?.name === "string" ? rule.name : `rules[${i}]`;
    for (const kind of ["set", "append"] as const) {
      const map = rule?.request?.[kind];
      if (!map || typeof map !== "object") continue;
      for (const [target, template] of Object.entries(map as Record<string, unknown>)) {
        if (headers.includes(target.toLowerCase()) && templateHeaders(template).length > 0) {
          out.push(`rule ${name} sets ${target} from request header ${templateHeaders(template).join(", ")}: a client chooses the ORIGINAL_DST address`);
        }
      }
    }
    const rename = rule?.request?.rename;
    if (rename && typeof rename === "object") {
      for (const [from, to] of Object.entries(rename as Record<string, unknown>)) {
        if (typeof to === "string" && headers.includes(to.toLowerCase())) {
          out.push(`rule ${name} renames request header ${from} to ${to}: a client chooses the ORIGINAL_DST address`);
        }
      }
    }
  });
  return out;
}
