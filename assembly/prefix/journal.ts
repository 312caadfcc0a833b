// Cross-worker prefix learning: every VM publishes each routing decision (endpoint address +
// the request's block hashes) as one record into a ring of shared-data slots, and every VM
// replays records it has not seen into its own PrefixIndex (on its next request or tick). This
// file is the pure record codec; the entry owns the shared-data keys and the sequence counter.
//
// Record (little-endian): u32 magic "WRPJ", u32 version 1, u64 seq, u16 address length,
// address bytes (UTF-8), u16 hash count (<= 256), count x u64 hash.
// The address (not a VM-local slot number) names the endpoint, so VMs whose endpoint lists were
// refreshed at different times still agree.

export const JOURNAL_MAGIC: u32 = 0x4a505257; // "WRPJ"
export const JOURNAL_VERSION: u32 = 1;
export const JOURNAL_MAX_HASHES: i32 = 256;

export class JournalRecord {
  ok: bool = false;
  seq: u64 = 0;
  address: string = "";
  count: i32 = 0;
  hashes: StaticArray<u64> = new StaticArray<u64>(JOURNAL_MAX_HASHES);
}

export function encodeJournalRecord(seq: u64, address: string, hashes: StaticArray<u64>, n: i32): ArrayBuffer {
  let addr = String.UTF8.encode(address, false);
  let alen = min(addr.byteLength, 0xffff);
  let count = min(min(n, hashes.length), JOURNAL_MAX_HASHES);
  let size = 4 + 4 + 8 + 2 + alen + 2 + count * 8;
  let buf = new ArrayBuffer(size);
  let p = changetype<usize>(buf);
  store<u32>(p, JOURNAL_MAGIC);
  store<u32>(p + 4, JOURNAL_VERSION);
  store<u64>(p + 8, seq);
  store<u16>(p + 16, <u16>alen);
  memory.copy(p + 18, changetype<usize>(addr), alen);
  let q = p + 18 + alen;
  store<u16>(q, <u16>count);
  q += 2;
  for (let i = 0; i < count; i++) store<u64>(q + (<usize>i << 3), unchecked(hashes[i]));
  return buf;
}

/** Decodes into `into` (reused: no allocation but the address). `into.ok` false on any defect. */
export function decodeJournalRecord(buf: ArrayBuffer, into: JournalRecord): JournalRecord {
  into.ok = false;
  let len = buf.byteLength;
  if (len < 20) return into;
  let p = changetype<usize>(buf);
  if (load<u32>(p) != JOURNAL_MAGIC || load<u32>(p + 4) != JOURNAL_VERSION) return into;
  into.seq = load<u64>(p + 8);
  let alen = <i32>load<u16>(p + 16);
  if (18 + alen + 2 > len) return into;
  let count = <i32>load<u16>(p + 18 + alen);
  if (count > JOURNAL_MAX_HASHES || 18 + alen + 2 + count * 8 != len) return into;
  into.address = String.UTF8.decodeUnsafe(p + 18, alen, false);
  let q = p + 20 + alen;
  for (let i = 0; i < count; i++) unchecked((into.hashes[i] = load<u64>(q + (<usize>i << 3))));
  into.count = count;
  into.ok = true;
  return into;
}
