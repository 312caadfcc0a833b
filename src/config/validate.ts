/**
 * Validates a wayroute plugin config the two ways that matter: against the published JSON Schema
 * (what editors and `wayroute manifest` check), and by the plugin itself — the real `.wasm` loaded
 * in the host harness, whose `proxy_on_configure` accepts or refuses it exactly as in Envoy.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MAIN_THREAD, ProxyWasmHost } from "../host/index.js";
import { findSchemasDir } from "../manifest/schemas-dir.js";
import { pluginConfigProblems } from "../manifest/plugin-config.js";
import { MAX_JSON_DEPTH, valueDepth } from "../scenario/json-depth.js";

/** The outcome of validating one config. */
export interface ConfigValidation {
  /** Both the schema and the plugin accept the config. */
  ok: boolean;
  /** Schema problems in words, each `$.path message`, the deepest (most specific) first. */
  schemaProblems: string[];
  /** The plugin's refusal (its log line, which names the field), or undefined when it accepted. */
  pluginRefusal?: string;
}

/** A plugin module could not be found to validate against. */
export class PluginNotFoundError extends Error {
  readonly code = "E_PLUGIN_NOT_FOUND";
}

/** The packaged release plugin: `build/plugin.wasm` next to this package. */
export function findPluginWasm(explicit?: string): string {
  if (explicit) {
    if (!existsSync(explicit)) throw new PluginNotFoundError(`plugin ${explicit} does not exist`);
    return explicit;
  }
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, "build", "plugin.wasm");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new PluginNotFoundError("cannot find build/plugin.wasm; run `npm run build` or pass --wasm <file>");
}

/**
 * Loads the plugin with `config` as Envoy does; returns the refusal line, if any. Envoy checks a
 * config on its configuration canary VM and reports that VM's refusal, so the line is the canary's.
 */
export async function pluginRefusal(config: unknown, wasm: string | Uint8Array): Promise<string | undefined> {
  const host = await ProxyWasmHost.create({ module: wasm, pluginConfig: JSON.stringify(config), logLevel: "warn" });
  try {
    if (host.configured) return undefined;
    // The plugin's own line names the field; the host's "Unable to configure" line follows it.
    const all = host.logs.entries.filter((e) => e.level === "error" || e.level === "critical");
    const canary = all.filter((e) => e.worker === MAIN_THREAD);
    const errors = canary.length > 0 ? canary : all;
    const own = errors.filter((e) => e.source === "plugin");
    const line = own[own.length - 1] ?? errors[errors.length - 1];
    return line ? line.message : "the plugin refused the configuration without logging why";
  } finally {
    host.close();
  }
}

/** Validates `config` against the schema and the plugin. */
export async function validateConfig(config: unknown, options: { wasm?: string | Uint8Array; schemasDir?: string } = {}): Promise<ConfigValidation> {
  // Validators and JSON.stringify recurse per level: absurd nesting is refused before them.
  if (valueDepth(config) > MAX_JSON_DEPTH) return { ok: false, schemaProblems: [`$ nests more than ${MAX_JSON_DEPTH} levels deep`] };
  const schemaProblems = pluginConfigProblems(config, findSchemasDir(options.schemasDir));
  const refusal = await pluginRefusal(config, options.wasm ?? findPluginWasm());
  return { ok: schemaProblems.length === 0 && refusal === undefined, schemaProblems, ...(refusal !== undefined ? { pluginRefusal: refusal } : {}) };
}
