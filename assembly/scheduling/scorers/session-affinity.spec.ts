import { ep, ctxOf, runScorer } from "../testing";
import { SessionAffinityScorer } from "./session-affinity";

describe("session-affinity-scorer", () => {
  it("maps a key to one endpoint, stably, and no key to none", () => {
    let c = ctxOf([ep(0), ep(1), ep(2), ep(3)]);
    expect(runScorer(new SessionAffinityScorer(), c)).toBe("0.0,0.0,0.0,0.0");
    c.sessionKey = "user-42";
    let first = runScorer(new SessionAffinityScorer(), c);
    expect(first.split("1.0").length).toBe(2);
    expect(runScorer(new SessionAffinityScorer(), c)).toBe(first);
    // Different keys spread over endpoints.
    let seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      c.sessionKey = "k" + i.toString();
      seen.add(runScorer(new SessionAffinityScorer(), c));
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });

  it("bounded load moves the key off an overloaded endpoint and back", () => {
    let eps = [ep(0), ep(1), ep(2), ep(3)];
    let c = ctxOf(eps);
    c.sessionKey = "user-42";
    let home = runScorer(new SessionAffinityScorer(), c).split(",").indexOf("1.0");
    eps[home].inFlight = 10; // cap = ceil(1.25 * 11 / 4) = 4
    let moved = runScorer(new SessionAffinityScorer(), c).split(",").indexOf("1.0");
    expect(moved).not.toBe(home);
    eps[home].inFlight = 0;
    expect(runScorer(new SessionAffinityScorer(), c).split(",").indexOf("1.0")).toBe(home);
  });

  it("only the scored candidates are considered: keys stay put when others leave", () => {
    let eps = [ep(0), ep(1), ep(2)];
    let c = ctxOf(eps);
    c.sessionKey = "abc";
    let home = runScorer(new SessionAffinityScorer(), c).split(",").indexOf("1.0");
    let other = home == 0 ? 1 : 0;
    // Score only [home, other]: still home (rendezvous hashing keeps unaffected keys).
    let out = new Float64Array(2);
    new SessionAffinityScorer().score(c, [home, other], out);
    expect(out[0]).toBe(1.0);
  });
});
