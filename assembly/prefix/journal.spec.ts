import { encodeJournalRecord, decodeJournalRecord, JournalRecord } from "./journal";

describe("prefix journal record", () => {
  it("round-trips seq, address and hashes", () => {
    let h = new StaticArray<u64>(3);
    h[0] = 1; h[1] = 0xffffffffffffffff; h[2] = 42;
    let buf = encodeJournalRecord(77, "[::1]:8000", h, 3);
    let r = decodeJournalRecord(buf, new JournalRecord());
    expect(r.ok).toBe(true);
    expect(r.seq).toBe(77);
    expect(r.address).toBe("[::1]:8000");
    expect(r.count).toBe(3);
    expect(r.hashes[1]).toBe(0xffffffffffffffff);
  });

  it("rejects truncated, padded and foreign buffers", () => {
    let h = new StaticArray<u64>(2);
    let good = encodeJournalRecord(1, "10.0.0.1:80", h, 2);
    let rec = new JournalRecord();
    expect(decodeJournalRecord(good.slice(0, good.byteLength - 1), rec).ok).toBe(false);
    let padded = new ArrayBuffer(good.byteLength + 1);
    memory.copy(changetype<usize>(padded), changetype<usize>(good), good.byteLength);
    expect(decodeJournalRecord(padded, rec).ok).toBe(false);
    expect(decodeJournalRecord(new ArrayBuffer(0), rec).ok).toBe(false);
    expect(decodeJournalRecord(new ArrayBuffer(64), rec).ok).toBe(false);
  });
});
