/**
 * Reads the picker's shared load state the way another worker would: one endpoint's binary load
 * record (`le/<endpoint>` under the pool's shared-data prefix; format in assembly/pools/state.ts).
 */
import type { ProxyWasmHost } from "../../src/host/index.js";

export const LOAD_MAGIC = 0x314c5257;

/** One endpoint's published load; counts -1 and kv -1 mean unknown. */
export interface LoadRecord {
  key: string;
  metricsAtMs: number;
  waiting: number;
  running: number;
  kv: number;
  maxLora: number;
  active: string[];
  waitingLoras: string[];
}

const utf8 = new TextDecoder("utf-8");

export function decodeLoadRecord(bytes: Uint8Array): LoadRecord {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== LOAD_MAGIC) throw new Error("not a load record");
  let p = 32;
  const str = (): string => {
    const n = v.getUint32(p, true);
    const s = utf8.decode(bytes.subarray(p + 4, p + 4 + n));
    p += 4 + n;
    return s;
  };
  const list = (): string[] => {
    const n = v.getUint32(p, true);
    p += 4;
    return Array.from({ length: n }, str);
  };
  const rec: LoadRecord = {
    metricsAtMs: Number(v.getBigInt64(4, true)),
    waiting: v.getInt32(12, true),
    running: v.getInt32(16, true),
    kv: v.getFloat64(20, true),
    maxLora: v.getInt32(28, true),
    key: str(),
    active: [],
    waitingLoras: [],
  };
  rec.active = list();
  rec.waitingLoras = list();
  if (p !== bytes.length) throw new Error("trailing bytes in a load record");
  return rec;
}

/** The load record endpoint `key` of `pool` has in shared data, or undefined. */
export function sharedLoad(host: ProxyWasmHost, key: string, pool = "llm", rootId = "wayroute"): LoadRecord | undefined {
  const v = host.sharedData.get("", `wayroute.picker/${rootId}/${pool}/le/${key}`);
  return v ? decodeLoadRecord(v.value) : undefined;
}
