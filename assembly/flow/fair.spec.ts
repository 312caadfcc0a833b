import { FAIR_BUCKETS, FAIR_TABLE_BYTES, fairAllows, fairBucket, fairInFlight, fairMove, fairWaiting } from "./fair";

class AllowCase {
  constructor(
    public name: string,
    /** [bucket, waiting, in flight] rows; the rest are 0. */
    public rows: i32[][],
    public bucket: i32,
    public want: bool,
  ) {}
}

const ALLOW: AllowCase[] = [
  new AllowCase("an empty table allows anyone", [], 3, true),
  new AllowCase("a waiting flow with fewer in flight goes first", [[1, 2, 4], [2, 5, 1]], 1, false),
  new AllowCase("the waiting flow with fewer in flight may go", [[1, 2, 4], [2, 5, 1]], 2, true),
  new AllowCase("ties go in round-robin order (allowed)", [[1, 1, 3], [2, 1, 3]], 1, true),
  new AllowCase("a flow with fewer in flight but nothing waiting does not hold others back", [[1, 2, 4], [2, 0, 0]], 1, true),
  new AllowCase("a newcomer (not waiting) with more in flight than a waiting flow waits", [[1, 0, 6], [2, 3, 2]], 1, false),
  new AllowCase("a newcomer with no more in flight than any waiting flow may go", [[1, 0, 2], [2, 3, 2]], 1, true),
];

function table(rows: i32[][]): ArrayBuffer {
  let t = new ArrayBuffer(FAIR_TABLE_BYTES);
  for (let i = 0; i < rows.length; i++) fairMove(t, rows[i][0], rows[i][1], rows[i][2]);
  return t;
}

describe("fairness across workers", () => {
  it("lets a flow take a slot only when no waiting flow has fewer in flight", () => {
    for (let i = 0; i < ALLOW.length; i++) {
      let c = ALLOW[i];
      expect(fairAllows(table(c.rows), c.bucket)).toBe(c.want, c.name);
    }
  });

  it("moves counts and never below zero", () => {
    let t = table([[4, 2, 1]]);
    fairMove(t, 4, -1, 1);
    expect(fairWaiting(t, 4)).toBe(1);
    expect(fairInFlight(t, 4)).toBe(2);
    fairMove(t, 4, -5, -5);
    expect(fairWaiting(t, 4)).toBe(0);
    expect(fairInFlight(t, 4)).toBe(0);
  });

  it("hashes flows into buckets stably and within range", () => {
    expect(fairBucket("a")).toBe(fairBucket("a"));
    expect(fairBucket("a")).not.toBe(fairBucket("b"));
    let seen = new Set<i32>();
    for (let i = 0; i < 200; i++) {
      let b = fairBucket("tenant-" + i.toString());
      expect(b >= 0 && b < FAIR_BUCKETS).toBe(true);
      seen.add(b);
    }
    expect(seen.size).toBe(FAIR_BUCKETS);
  });
});
