import { Endpoint } from "./endpoint";
import { HealthPolicy, recordFailure, recordSuccess, isFailureStatus } from "./health";

describe("passive health", () => {
  it("ejects after the threshold of consecutive failures and recovers after the backoff", () => {
    let p = new HealthPolicy();
    p.failureThreshold = 3;
    p.baseEjectionMs = 1000;
    p.maxEjectionMs = 3000;
    let ep = new Endpoint("10.0.0.1:8000");
    expect(recordFailure(ep, p, 0)).toBe(false);
    expect(recordFailure(ep, p, 1)).toBe(false);
    expect(recordFailure(ep, p, 2)).toBe(true);
    expect(ep.isEjected(2)).toBe(true);
    expect(ep.isEjected(1001)).toBe(true);
    expect(ep.isEjected(1002)).toBe(false);
    // Failures while ejected are not counted.
    expect(ep.consecutiveFailures).toBe(0);
    // Second ejection doubles, third is capped.
    recordFailure(ep, p, 2000);
    recordFailure(ep, p, 2001);
    expect(recordFailure(ep, p, 2002)).toBe(true);
    expect(ep.ejectedUntilMs).toBe(4002);
    recordFailure(ep, p, 5000);
    recordFailure(ep, p, 5001);
    expect(recordFailure(ep, p, 5002)).toBe(true);
    expect(ep.ejectedUntilMs).toBe(8002);
  });

  it("a success resets the consecutive count and walks the backoff down", () => {
    let p = new HealthPolicy();
    p.failureThreshold = 2;
    let ep = new Endpoint("10.0.0.1:8000");
    recordFailure(ep, p, 0);
    recordSuccess(ep, 1);
    expect(recordFailure(ep, p, 2)).toBe(false);
    expect(recordFailure(ep, p, 3)).toBe(true);
    expect(ep.ejectionCount).toBe(1);
    recordSuccess(ep, ep.ejectedUntilMs + 1);
    expect(ep.ejectionCount).toBe(0);
  });

  it("classifies statuses", () => {
    expect(isFailureStatus(200)).toBe(false);
    expect(isFailureStatus(429)).toBe(false);
    expect(isFailureStatus(500)).toBe(true);
    expect(isFailureStatus(503)).toBe(true);
    expect(isFailureStatus(501)).toBe(false);
  });
});
