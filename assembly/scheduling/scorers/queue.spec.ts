import { ep, ctxOf, runScorer } from "../testing";
import { Endpoint } from "../../endpoints/endpoint";
import { QueueScorer } from "./queue";

class Case {
  constructor(public eps: Endpoint[], public want: string) {}
}

const cases: Case[] = [
  new Case([ep(0, 0), ep(1, 5), ep(2, 10)], "1.0,0.5,0.0"),
  new Case([ep(0, 3), ep(1, 3)], "1.0,1.0"),
  new Case([ep(0, 7)], "1.0"),
  new Case([ep(0, 2), ep(1, 6)], "1.0,0.0"),
  // Unknown is missing data: neutral 0.5; with unknowns the range starts at 0.
  new Case([ep(0, 4), ep(1, -1), ep(2, 8)], "0.5,0.5,0.0"),
  new Case([ep(0, 9), ep(1, -1)], "0.0,0.5"),
  new Case([ep(0, 0), ep(1, -1)], "1.0,0.5"),
  new Case([ep(0, -1), ep(1, -1)], "0.5,0.5"),
];

describe("queue-scorer", () => {
  it("(maxQ - q) / (maxQ - minQ), 1 when all equal", () => {
    for (let i = 0; i < cases.length; i++) {
      expect(runScorer(new QueueScorer(), ctxOf(cases[i].eps))).toBe(cases[i].want);
    }
  });
});
