/**
 * Configuration of the local proxy (`wayroute serve`): where to listen, which plugin to run, how
 * to pick an upstream when the plugin does not steer, route-mode backends, and the cluster map
 * for the plugin's http calls.
 */
import { readFileSync } from "node:fs";
import { jsonDepth, MAX_JSON_DEPTH } from "../scenario/json-depth.js";

export type FailStrategy = "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";

export interface ServePluginConfig {
  /** Path of the `.wasm` (or its bytes). */
  wasm: string | Uint8Array;
  /** Plugin configuration (an object is sent as JSON), as Istio's `pluginConfig`. */
  config?: unknown;
  /** Envoy root id (Istio: `pluginName`). */
  rootId?: string;
  /** VM id: shared data and queues are per VM id. */
  vmId?: string;
  /** What a plugin trap does (Istio `failStrategy`). Default FAIL_CLOSE. */
  failStrategy?: FailStrategy;
}

export interface ServeConfig {
  /** Port on 127.0.0.1 (0 picks a free one). */
  port: number;
  /** Number of workers (one plugin VM each, like Envoy's worker threads). */
  workers: number;
  plugin?: ServePluginConfig;
  /** The cluster requests go to when no steering header is set: the proxy's own load balancer. */
  defaultCluster: { name: string; endpoints: string[]; lb: "round-robin" | "random" };
  /** Route mode: the header the plugin sets and backend name → endpoints. */
  routes?: { header: string; backends: Record<string, string[]> };
  /** Endpoint mode header (GIE: `x-gateway-destination-endpoint`). */
  endpointHeader: string;
  /** Cluster name → `ip:port` (or `http://ip:port`) for the plugin's http calls. */
  clusters: Record<string, string>;
  /** Largest request body accepted, bytes. */
  maxRequestBodyBytes: number;
  /** Upstream connect timeout per endpoint (ms). */
  connectTimeoutMs: number;
  /** Real-time tick granularity of the plugin clock (ms). */
  clockStepMs: number;
  /**
   * Host names (Host header, port ignored) the proxy answers besides localhost, 127.0.0.0/8 and
   * [::1]; other names get 421, so a web page rebinding its DNS name to 127.0.0.1 cannot drive
   * the proxy. `"*"` allows any.
   */
  allowedHosts?: string[];
}

export const DEFAULT_ENDPOINT_HEADER = "x-gateway-destination-endpoint";

/** A configuration mistake; the message names the field. */
export class ServeConfigError extends Error {
  readonly code = "E_SERVE_CONFIG";
}

const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost):\d{1,5}$/;

/** Checks `ip:port`. */
export function isAddress(s: string): boolean {
  return ADDRESS.test(s);
}

/** Fills defaults and validates. */
export function resolveServeConfig(input: Partial<ServeConfig> & Pick<ServeConfig, "defaultCluster">): ServeConfig {
  const c: ServeConfig = {
    port: 0,
    workers: 2,
    endpointHeader: DEFAULT_ENDPOINT_HEADER,
    clusters: {},
    maxRequestBodyBytes: 8 << 20,
    connectTimeoutMs: 1000,
    clockStepMs: 10,
    ...input,
  };
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new ServeConfigError(`$.port must be 0..65535, got ${String(c.port)}`);
  if (!Number.isInteger(c.workers) || c.workers < 1 || c.workers > 64) throw new ServeConfigError(`$.workers must be 1..64, got ${String(c.workers)}`);
  const dc = c.defaultCluster;
  if (!dc || !Array.isArray(dc.endpoints)) throw new ServeConfigError("$.defaultCluster.endpoints must be a list of ip:port");
  dc.endpoints.forEach((e, i) => {
    if (!isAddress(e)) throw new ServeConfigError(`$.defaultCluster.endpoints[${i}] must be ip:port, got ${JSON.stringify(e)}`);
  });
  if (dc.lb !== "round-robin" && dc.lb !== "random") throw new ServeConfigError(`$.defaultCluster.lb must be round-robin or random, got ${JSON.stringify(dc.lb)}`);
  if (c.routes) {
    if (typeof c.routes.header !== "string" || !c.routes.header) throw new ServeConfigError("$.routes.header must be a header name");
    c.routes = { header: c.routes.header.toLowerCase(), backends: c.routes.backends ?? {} };
    for (const [name, eps] of Object.entries(c.routes.backends)) {
      if (!Array.isArray(eps) || eps.length === 0) throw new ServeConfigError(`$.routes.backends.${name} must be a non-empty list of ip:port`);
      eps.forEach((e, i) => {
        if (!isAddress(e)) throw new ServeConfigError(`$.routes.backends.${name}[${i}] must be ip:port, got ${JSON.stringify(e)}`);
      });
    }
  }
  for (const [name, addr] of Object.entries(c.clusters)) {
    if (typeof addr !== "string" || !(isAddress(addr) || /^http:\/\/[^/]+$/.test(addr))) {
      throw new ServeConfigError(`$.clusters.${name} must be ip:port or http://ip:port, got ${JSON.stringify(addr)}`);
    }
  }
  if (c.allowedHosts !== undefined && (!Array.isArray(c.allowedHosts) || !c.allowedHosts.every((h) => typeof h === "string" && h !== ""))) {
    throw new ServeConfigError("$.allowedHosts must be a list of host names");
  }
  if (c.routes) {
    // A null-prototype map: backend names are looked up as own keys only.
    c.routes.backends = Object.assign(Object.create(null) as Record<string, string[]>, c.routes.backends);
  }
  c.endpointHeader = c.endpointHeader.toLowerCase();
  return c;
}

/** Reads a JSON serve config file. */
export function loadServeConfig(path: string): ServeConfig {
  let raw: unknown;
  try {
    const text = readFileSync(path, "utf8");
    const depth = jsonDepth(text);
    if (depth > MAX_JSON_DEPTH) throw new Error(`it nests JSON ${depth} levels deep (at most ${MAX_JSON_DEPTH})`);
    raw = JSON.parse(text);
  } catch (err) {
    throw new ServeConfigError(`cannot read serve config ${path}: ${(err as Error).message}; pass a JSON file`);
  }
  if (!raw || typeof raw !== "object") throw new ServeConfigError(`serve config ${path} must be a JSON object`);
  return resolveServeConfig(raw as ServeConfig);
}
