import { ep, ctxOf, runFilter } from "../testing";
import { LowQueueFilter } from "./low-queue";

describe("low-queue-filter", () => {
  it("keeps queues at or under the threshold, all when none qualifies", () => {
    let c = ctxOf([ep(0, 3), ep(1, 10), ep(2, 4)]);
    expect(runFilter(new LowQueueFilter(4), c)).toBe("0,2");
    expect(runFilter(new LowQueueFilter(2), c)).toBe("0,1,2");
    expect(runFilter(new LowQueueFilter(128), c)).toBe("0,1,2");
  });
});
