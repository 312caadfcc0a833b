/** Converts an ajv instancePath (`/pools/0/endpoints/2`) to a JSON path (`$.pools[0].endpoints[2]`). */
export function jsonPath(instancePath: string, root = "$"): string {
  if (!instancePath) return root;
  let out = root;
  for (const raw of instancePath.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One ajv error as `<path> <message>`, with the offending property or allowed values spelled out. */
export function describeAjvError(e: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }, root = "$"): string {
  let path = jsonPath(e.instancePath, root);
  let msg = e.message ?? "is invalid";
  if (e.keyword === "additionalProperties") {
    path = `${path}${jsonPath("/" + String(e.params.additionalProperty), "")}`;
    msg = "is not allowed here (unknown field)";
  } else if (e.keyword === "enum") {
    msg = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  } else if (e.keyword === "required") {
    path = `${path}${jsonPath("/" + String(e.params.missingProperty), "")}`;
    msg = "is required";
  }
  return `${path} ${msg}`;
}
