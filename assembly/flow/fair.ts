// Fairness across workers. Each worker keeps its own queue, but a tenant's requests may reach
// only some workers (one HTTP/2 connection stays on one worker), so round-robin per worker alone
// gives a tenant the share of the workers it reaches, not of the pool. The pool's flows therefore
// share one table per band (in shared data, see plugin/flow-fair-share.ts): per flow bucket, the
// requests waiting on any worker and the requests dispatched and not yet ended. A flow may take
// a free slot only if no waiting flow has fewer requests in flight: concurrency is shared evenly
// among the flows that want more (max-min fairness), whichever worker holds them; ties go in
// each worker's round-robin order. Pure: the table is passed in.

/** Flow buckets per band: flows are hashed into them (a collision shares one bucket's share). */
export const FAIR_BUCKETS: i32 = 32;

/** Bytes of one band's table: per bucket, waiting (i32) then in flight (i32). */
export const FAIR_TABLE_BYTES: i32 = FAIR_BUCKETS * 8;

/** The bucket of flow key `flow` (FNV-1a over its UTF-16 code units). */
export function fairBucket(flow: string): i32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < flow.length; i++) {
    h ^= <u32>flow.charCodeAt(i);
    h *= 16777619;
  }
  return <i32>(h % <u32>FAIR_BUCKETS);
}

export function fairWaiting(table: ArrayBuffer, bucket: i32): i32 {
  return load<i32>(changetype<usize>(table) + <usize>(bucket * 8));
}

export function fairInFlight(table: ArrayBuffer, bucket: i32): i32 {
  return load<i32>(changetype<usize>(table) + <usize>(bucket * 8 + 4));
}

/** Adds `dWaiting` and `dInFlight` to `bucket` (never below 0). */
export function fairMove(table: ArrayBuffer, bucket: i32, dWaiting: i32, dInFlight: i32): void {
  let p = changetype<usize>(table) + <usize>(bucket * 8);
  store<i32>(p, max<i32>(0, load<i32>(p) + dWaiting));
  store<i32>(p + 4, max<i32>(0, load<i32>(p + 4) + dInFlight));
}

/**
 * Whether a request of `bucket` may take a free slot: no bucket with requests waiting has fewer
 * in flight than `bucket` has.
 */
export function fairAllows(table: ArrayBuffer, bucket: i32): bool {
  let mine = fairInFlight(table, bucket);
  for (let g = 0; g < FAIR_BUCKETS; g++) {
    if (g != bucket && fairWaiting(table, g) > 0 && fairInFlight(table, g) < mine) return false;
  }
  return true;
}
