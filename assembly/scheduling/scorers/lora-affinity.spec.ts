import { ep, ctxOf, runScorer } from "../testing";
import { LoraAffinityScorer } from "./lora-affinity";

describe("lora-affinity-scorer", () => {
  it("1.0 active, 0.8 free slot, 0.6 waiting, else 0", () => {
    let eps = [ep(0), ep(1), ep(2), ep(3)];
    eps[0].activeLoras = ["sql"]; eps[0].maxLora = 1;
    eps[1].maxLora = 1;
    eps[2].waitingLoras = ["sql"]; eps[2].maxLora = 1;
    eps[3].activeLoras = ["x"]; eps[3].maxLora = 1;
    let c = ctxOf(eps);
    c.model = "sql";
    expect(runScorer(new LoraAffinityScorer(), c)).toBe("1.0,0.8,0.6,0.0");
  });
});
