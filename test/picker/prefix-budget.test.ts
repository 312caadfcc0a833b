/**
 * The prefix indexes of all pools must fit in 256 MiB of the VM (Envoy caps a VM at 1 GiB; the
 * rest is for bodies and state): a config over that is refused at the pool's memoryBudgetBytes or
 * maxTotalBlocks, naming the field and the largest value that still fits; pools without the
 * prefix-cache scorer allocate no index and do not count.
 */
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { wasmBytes } from "../build/wasm-files.js";

const LIMIT = 268_435_456;

/** The index's array bytes for `capacity` entries (mirror of assembly/prefix/index.ts). */
function indexBytes(capacity: number): number {
  let buckets = 1;
  while (buckets < capacity * 2) buckets *= 2;
  return capacity * 32 + buckets * 4;
}

/** Largest capacity whose arrays fit in `budget` bytes. */
function capacityForBudget(budget: number): number {
  let lo = 1;
  let hi = 1 << 26;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo + 1) / 2);
    if (indexBytes(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const PREFIX_PROFILE = { scorers: [{ type: "prefix-cache-scorer", weight: 1 }], picker: { type: "max-score-picker" } };
const QUEUE_PROFILE = { scorers: [{ type: "queue-scorer", weight: 1 }], picker: { type: "max-score-picker" } };

function pool(name: string, prefixCache: Record<string, unknown> | undefined, profile: object = PREFIX_PROFILE) {
  return { name, endpoints: [{ address: "10.0.0.1:8000" }], profile, ...(prefixCache ? { prefixCache } : {}) };
}

async function configure(pools: unknown[]): Promise<{ configured: boolean; refused: string | undefined }> {
  const host = await ProxyWasmHost.create({ module: wasmBytes("plugin.wasm"), rootId: "wayroute", pluginConfig: { pools } });
  try {
    const refused = host.logEntries().find((e) => e.message.startsWith("plugin configuration refused"))?.message;
    return { configured: host.configured, refused };
  } finally {
    host.close();
  }
}

describe("prefix index memory budget across pools", () => {
  it("refuses a memoryBudgetBytes past what is left, with the largest value that fits", async () => {
    const first = 200 * 1_048_576;
    const room = LIMIT - indexBytes(capacityForBudget(first));
    const r = await configure([pool("a", { memoryBudgetBytes: first }), pool("b", { memoryBudgetBytes: 100 * 1_048_576 })]);
    expect(r.configured).toBe(false);
    // The value named is exact: an index of that budget fills the room and no more.
    expect(indexBytes(capacityForBudget(room))).toBeLessThanOrEqual(room);
    expect(r.refused).toBe(
      `plugin configuration refused: $.pools[1].prefixCache.memoryBudgetBytes: the prefix indexes of all pools must fit in ${LIMIT} bytes ` +
        `(Envoy caps a VM at 1 GiB); at most ${room} fits here`,
    );
  });

  it("names maxTotalBlocks (or the pool, for the default size) with the largest block count that fits", async () => {
    const big = 4_194_304; // 160 MiB of index each
    const room = LIMIT - indexBytes(big);
    const r = await configure([pool("a", { maxTotalBlocks: big }), pool("b", { maxTotalBlocks: big })]);
    expect(r.refused).toBe(
      `plugin configuration refused: $.pools[1].prefixCache.maxTotalBlocks: the prefix indexes of all pools must fit in ${LIMIT} bytes ` +
        `(Envoy caps a VM at 1 GiB); at most maxTotalBlocks ${capacityForBudget(room)} (or memoryBudgetBytes ${room}) fits here`,
    );
    const full = await configure([pool("a", { memoryBudgetBytes: LIMIT }), pool("b", undefined)]);
    expect(full.refused).toContain("$.pools[1]: the prefix indexes of all pools must fit in");
    expect(full.refused).toContain("the pools before this one use it all");
  });

  it("pools without the prefix-cache scorer do not count", async () => {
    const r = await configure([pool("a", { maxTotalBlocks: 4_194_304 }, QUEUE_PROFILE), pool("b", { maxTotalBlocks: 4_194_304 }, QUEUE_PROFILE), pool("c", { memoryBudgetBytes: 65_536 })]);
    expect(r).toEqual({ configured: true, refused: undefined });
  });
});
