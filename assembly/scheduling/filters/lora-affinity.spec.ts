import { ep, ctxOf, runFilter } from "../testing";
import { LoraAffinityFilter } from "./lora-affinity";

describe("lora-affinity-filter", () => {
  it("prefers endpoints with the adapter, then ones with a free slot", () => {
    let eps = [ep(0), ep(1), ep(2), ep(3)];
    eps[0].activeLoras = ["other"]; eps[0].maxLora = 1; // full, no affinity
    eps[1].activeLoras = ["sql"]; eps[1].maxLora = 1;   // active
    eps[2].waitingLoras = ["sql"]; eps[2].maxLora = 1;  // waiting
    eps[3].maxLora = 2;                                  // free slot
    let c = ctxOf(eps);
    c.model = "sql";
    expect(runFilter(new LoraAffinityFilter(1.0), c)).toBe("1,2");
    expect(runFilter(new LoraAffinityFilter(0.0), c)).toBe("3");
    c.model = "new";
    expect(runFilter(new LoraAffinityFilter(1.0), c)).toBe("3");
  });

  it("keeps everything when no endpoint serves LoRA", () => {
    let c = ctxOf([ep(0), ep(1)]);
    c.model = "base";
    expect(runFilter(new LoraAffinityFilter(), c)).toBe("0,1");
  });
});
