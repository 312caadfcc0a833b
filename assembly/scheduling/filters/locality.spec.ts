import { ep, ctxOf, runFilter } from "../testing";
import { Endpoint } from "../../endpoints/endpoint";
import { LocalityFilter } from "./locality";

function at(i: i32, zone: string, cluster: string, waiting: i32 = 0): Endpoint {
  let e = ep(i, waiting);
  e.zone = zone;
  e.cluster = cluster;
  return e;
}

describe("locality-filter", () => {
  it("prefers the local zone, spills to the local cluster, then anywhere", () => {
    let eps = [at(0, "a", "c1"), at(1, "b", "c1"), at(2, "a", "c2"), at(3, "", "")];
    let c = ctxOf(eps);
    c.localZone = "a";
    c.localCluster = "c1";
    expect(runFilter(new LocalityFilter(), c)).toBe("0");
    eps[0].waiting = 5; // local zone saturated → same cluster
    expect(runFilter(new LocalityFilter(), c)).toBe("0,1");
    eps[1].waiting = 9; // whole cluster saturated → everything
    expect(runFilter(new LocalityFilter(), c)).toBe("0,1,2,3");
  });

  it("zone-only proxies match by zone; unknown locality keeps all", () => {
    let eps = [at(0, "a", "c1"), at(1, "b", "c2"), at(2, "a", "c2")];
    let c = ctxOf(eps);
    expect(runFilter(new LocalityFilter(), c)).toBe("0,1,2");
    c.localZone = "a";
    expect(runFilter(new LocalityFilter(), c)).toBe("0,2");
  });
});
