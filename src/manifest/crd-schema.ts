/**
 * Validates generated WasmPlugins against the CRD's OpenAPI v3 schema (schemas/istio/
 * wasmplugin-crd.yaml). The structural schema is converted to JSON Schema for ajv: `nullable`
 * becomes a null type, `int32` becomes bounds, objects without `x-kubernetes-preserve-unknown-fields`
 * reject unknown fields (as `kubectl apply --validate=strict` would), and the CRD's CEL rules that
 * matter for what we generate are checked in code.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";
import { ManifestError } from "./errors.js";
import { describeAjvError } from "./json-path.js";
import { dns1123SubdomainProblem } from "./k8s-names.js";

type Schema = Record<string, unknown>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Converts a Kubernetes structural schema node to plain JSON Schema. */
export function structuralToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structuralToJsonSchema);
  if (!node || typeof node !== "object") return node;
  const src = node as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith("x-kubernetes-") || k === "description" || k === "nullable") continue;
    if (k === "format" && v === "int32") continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, structuralToJsonSchema(s)])) : structuralToJsonSchema(v);
  }
  if (src.format === "int32") Object.assign(out, { minimum: -2147483648, maximum: 2147483647 });
  if (src.nullable === true && typeof src.type === "string") out.type = [src.type, "null"];
  if (src.type === "object" && src.properties && src["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  return out;
}

let cached: ValidateFunction | undefined;

/** Loads and compiles the WasmPlugin v1alpha1 schema from `schemasDir/istio/wasmplugin-crd.yaml`. */
export function wasmPluginValidator(schemasDir: string): ValidateFunction {
  if (cached) return cached;
  const crd = parse(readFileSync(join(schemasDir, "istio", "wasmplugin-crd.yaml"), "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === "v1alpha1");
  if (!version) throw new ManifestError("E_SCHEMAS_MISSING", "the WasmPlugin CRD copy has no v1alpha1 version");
  const root = structuralToJsonSchema(version.schema.openAPIV3Schema) as Schema;
  // The API server owns apiVersion/kind/metadata; describe what we emit for them.
  root.properties = {
    apiVersion: { const: "extensions.istio.io/v1alpha1" },
    kind: { const: "WasmPlugin" },
    metadata: {
      type: "object",
      required: ["name"],
      properties: {
        name: { type: "string" },
        namespace: { type: "string" },
        labels: { type: "object", additionalProperties: { type: "string" } },
        annotations: { type: "object", additionalProperties: { type: "string" } },
      },
      additionalProperties: false,
    },
    ...(root.properties as Schema),
  };
  root.required = ["apiVersion", "kind", "metadata", ...((root.required as string[]) ?? [])];
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  cached = ajv.compile(root);
  return cached;
}

/** The CEL rules of the CRD that bear on generated objects, checked in code. */
function celProblems(obj: Record<string, any>): string[] {
  const problems: string[] = [];
  const spec = obj.spec ?? {};
  const selectors = ["selector", "targetRef", "targetRefs"].filter((k) => spec[k] !== undefined);
  if (selectors.length > 1) problems.push("$.spec only one of targetRefs or selector can be set");
  if (typeof spec.url === "string") {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec.url)?.[1]?.toLowerCase() ?? "";
    if (!["", "http", "https", "oci", "file"].includes(scheme)) problems.push("$.spec.url must have schema one of [http, https, file, oci]");
  }
  const refs = [...(spec.targetRefs ?? []), ...(spec.targetRef ? [spec.targetRef] : [])];
  refs.forEach((r: Record<string, unknown>, i: number) => {
    if (typeof r.namespace === "string" && r.namespace.length) problems.push(`$.spec.targetRefs[${i}].namespace cross namespace referencing is not currently supported`);
  });
  const name = obj.metadata?.name;
  if (typeof name === "string") {
    const p = dns1123SubdomainProblem(name);
    if (p) problems.push(`$.metadata.name '${name}' is not a valid Kubernetes name: ${p}`);
  }
  return problems;
}

/** All problems with `obj` as a WasmPlugin, each naming the field; empty when valid. */
export function wasmPluginProblems(obj: unknown, schemasDir: string): string[] {
  const validate = wasmPluginValidator(schemasDir);
  const problems = validate(obj) ? [] : (validate.errors ?? []).map((e) => describeAjvError(e));
  if (obj && typeof obj === "object") problems.push(...celProblems(obj as Record<string, unknown>));
  return problems;
}

/** Throws E_CRD_SCHEMA with the first problem (and a count of the rest) unless `obj` is valid. */
export function assertValidWasmPlugin(obj: unknown, schemasDir: string): void {
  const problems = wasmPluginProblems(obj, schemasDir);
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new ManifestError("E_CRD_SCHEMA", `generated WasmPlugin fails the Istio CRD schema: ${problems[0]}${more}`);
  }
}
