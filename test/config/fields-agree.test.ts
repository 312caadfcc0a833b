/**
 * The plugin's declared config fields (assembly/config/fields.ts tables) and the published
 * schemas are two implementations of one contract. Property: change any one field of a valid
 * config to any value (wrong types, bounds and one past them, enum values, header and path
 * shapes), and the plugin accepts it exactly when the schema does.
 *
 * The base config sets its cross-field checks (plugin-only: health.maxEjectionMs >=
 * baseEjectionMs, flowControl.tickMs <= maxWaitMs, one of sessionAffinity's header or cookie...)
 * so that no single change can reach them: what is compared is each field's own rule.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { pluginConfigProblems } from "../../src/manifest/plugin-config.js";
import { findSchemasDir } from "../../src/manifest/schemas-dir.js";
import { pluginModule } from "../picker/helpers.js";

const BASE = {
  logLevel: "debug",
  holdHeadersForBody: true,
  pools: [
    {
      name: "p1",
      match: { authority: "api.example.com", pathPrefix: "/v1/", headers: [{ name: "x-tenant", value: "a" }] },
      endpoints: [{ address: "10.0.0.1:8000", zone: "z1", cluster: "c1", network: "n1", engine: "vllm", weight: 2, backend: "b1", metricsCluster: "m1" }],
      endpointFeed: { cluster: "feed", path: "/eps", authority: "feed.local", intervalMs: 1000, timeoutMs: 500 },
      steering: { mode: "endpoint", header: "x-dest", maxEndpoints: 2 },
      failureMode: "FailOpen",
      profile: {
        filters: [{ type: "low-queue-filter", params: { threshold: 10 } }, { type: "lora-affinity-filter", params: { threshold: 0.5 } }],
        scorers: [{ type: "queue-scorer", weight: 2 }, { type: "session-affinity-scorer", weight: 1, params: { loadFactor: 2 } }],
        picker: { type: "max-score-picker" },
      },
      scrape: {
        enabled: true, path: "/metrics", intervalMs: 100, timeoutMs: 900, engine: "sglang", cluster: "scr", clusterTemplate: "c-{backend}",
        authority: "a", countFailuresAsUnhealthy: false, leaseMs: 2000, maxBodyBytes: 65536, budgetPerSecond: 50, nameFilter: true,
      },
      saturation: { queueDepthThreshold: 7, kvCacheUtilThreshold: 0.9, metricsStalenessMs: 300, shedWhen: "all-saturated" },
      prefixCache: { blockSizeTokens: 32, maxBlocks: 100, matching: "leading-run", lruCapacityPerEndpoint: 1000, maxTotalBlocks: 5000, shareAcrossWorkers: false },
      priority: { default: 1, models: { m1: 5 }, objectives: { o1: 10 }, objectiveHeader: "x-obj", header: "x-prio" },
      trustedCallers: [{ property: "source.principal", prefix: "spiffe://a" }],
      sessionAffinity: { header: "x-session", cookie: "sess" },
      health: { failureThreshold: 3, baseEjectionMs: 1, maxEjectionMs: 86_400_000 },
      locality: { zone: "z1", cluster: "c1" },
      debug: { explain: true, explainTop: 5, explainDigits: 4, header: "x-explain" },
      flowControl: {
        bands: [{ name: "a", minPriority: -1000, maxPriority: 1000, maxRequests: 100, maxBytes: 1_000_000, expireStatus: 503, maxInFlightShare: 0.5 }],
        flowHeader: "x-tenant", maxWaitMs: 3_600_000, dispatch: "in-flight-below", maxInFlightPerEndpoint: 4, shedSheddable: true, tickMs: 1,
      },
    },
  ],
};

type Path = (string | number)[];

/** Paths of the leaves (numbers, strings, booleans) of `v`. */
function leaves(v: unknown, path: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...path, i], out));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out);
  else out.push(path);
  return out;
}

function withValue(path: Path, value: unknown): unknown {
  const config = structuredClone(BASE) as unknown;
  let node = config as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return config;
}

const NUMBERS = [
  -1001, -1000, -1, 0, 1e-7, 1e-6, 0.5, 1, 1.5, 2, 8, 9, 10, 99, 100, 101, 429, 500, 503, 599, 600, 1000, 1001, 1023, 1024, 9999, 10_000,
  10_001, 16384, 16385, 59_999, 60_000, 60_001, 65_536, 65_537, 600_000, 600_001, 1_000_000, 1_000_001, 3_600_000, 3_600_001,
  4_194_304, 4_194_305, 86_400_000, 86_400_001, 268_435_456, 268_435_457, 2 ** 40, 2 ** 40 + 1,
];
const STRINGS = [
  "", "a", "/", "/a", "a/", "X-Tenant", "x-tenant", "a b", "x:y", ".a", "a.", "a.b", "vllm", "auto", "triton-trtllm", "route", "endpoint",
  "FailClose", "FailOpen", "trace", "critical", "loud", "mean-saturated", "all-saturated", "any-holder", "leading-run", "not-saturated", "in-flight-below",
  "health-filter", "queue-scorer", "max-score-picker", "weighted-random-picker",
];
const VALUE = fc.oneof(
  fc.constantFrom(...NUMBERS),
  fc.integer({ min: -2000, max: 70_000 }),
  fc.constantFrom(...STRINGS),
  fc.constantFrom<unknown>(true, false, null, [], {}),
);

const schemas = findSchemasDir();

async function pluginAccepts(config: unknown): Promise<boolean> {
  const host = await ProxyWasmHost.create({ module: await pluginModule(), pluginConfig: JSON.stringify(config), mainThread: false, logLevel: "critical" });
  try {
    return host.configured;
  } finally {
    host.close();
  }
}

describe("declared config fields: plugin and schema agree", () => {
  // Compiling the module and the schemas is the slow part: once, under the hook timeout.
  beforeAll(async () => {
    await pluginModule();
    pluginConfigProblems(BASE, schemas);
  });

  it("the base config is accepted by both", async () => {
    expect(pluginConfigProblems(BASE, schemas)).toEqual([]);
    expect(await pluginAccepts(BASE)).toBe(true);
  });

  it("any one field set to any value: the plugin accepts exactly when the schema does", async () => {
    const paths = leaves(BASE);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), VALUE, async (path, value) => {
        const config = withValue(path, value);
        const schemaOk = pluginConfigProblems(config, schemas).length === 0;
        expect(await pluginAccepts(config), `${path.join(".")} = ${JSON.stringify(value)}`).toBe(schemaOk);
      }),
      { numRuns: 600 },
    );
  }, 180_000);
});
