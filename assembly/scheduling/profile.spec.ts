import { ep, ctxOf } from "./testing";
import { Profile, PickResult, defaultProfile, parseProfile } from "./profile";
import { explainPick } from "./explain";
import { SaturationFilter } from "./filters/saturation";
import { ConfigReader } from "../config/reader";
import { parseJson } from "../json/parse";

function parse(text: string, r: ConfigReader): Profile {
  let j = parseJson(text);
  let root = r.root(j.value!);
  return parseProfile(r, root);
}

describe("default profile (GIE: queue 2, kv 2, prefix 3, max-score)", () => {
  it("prefix affinity outweighs a small queue difference, load wins without it", () => {
    let eps = [ep(0, 0, 0.1), ep(1, 2, 0.1), ep(2, 4, 0.1)];
    let c = ctxOf(eps);
    let p = defaultProfile();
    expect(p.needsPrefix).toBe(true);
    let res = new PickResult();
    p.run(c, 1, res);
    expect(res.picks.join(",")).toBe("0");
    // Endpoint 1 holds the whole prompt: 2*0.5 + 2*0.9 + 3*1 = 5.8 > 2*1 + 2*0.9 = 3.8.
    c.prefixTotal = 4;
    c.prefixMatched[1] = 4;
    p.run(c, 3, res);
    expect(res.picks.join(",")).toBe("1,0,2");
  });

  it("ejected endpoints are never picked; none left means no pick", () => {
    let eps = [ep(0), ep(1)];
    eps[0].ejectedUntilMs = 99999;
    let c = ctxOf(eps);
    let res = new PickResult();
    defaultProfile().run(c, 2, res);
    expect(res.picks.join(",")).toBe("1");
    eps[1].ejectedUntilMs = 99999;
    defaultProfile().run(c, 2, res);
    expect(res.picks.length).toBe(0);
  });
});

describe("explanations", () => {
  it("names scorer scores for the top endpoints and the filter that dropped others", () => {
    let eps = [ep(0, 0, 0.5), ep(1, 9, 0.1), ep(2, 1, 0.1)];
    let c = ctxOf(eps);
    c.explain = true;
    let p = defaultProfile();
    p.filters.push(new SaturationFilter());
    let res = new PickResult();
    p.run(c, 1, res);
    let s = explainPick(c, p, res);
    expect(s).toBe(
      "pick=10.0.0.1:8000 | 10.0.0.1:8000 t=3 queue=1 kv-cache-utilization=0.5 prefix-cache=0" +
        " | 10.0.0.3:8000 t=1.8 queue=0 kv-cache-utilization=0.9 prefix-cache=0 | drop 10.0.0.2:8000<saturation",
    );
  });
});

describe("profile config", () => {
  it("parses filters, weighted scorers and a picker", () => {
    let r = new ConfigReader();
    let p = parse(
      "{\"filters\":[{\"type\":\"saturation-filter\"},{\"type\":\"low-queue-filter\",\"params\":{\"threshold\":3}}]," +
        "\"scorers\":[{\"type\":\"queue-scorer\",\"weight\":1},{\"type\":\"in-flight-scorer\",\"weight\":0.5}]," +
        "\"picker\":{\"type\":\"power-of-two-picker\"}}",
      r,
    );
    expect(r.ok).toBe(true, r.error);
    expect(p.filters.length).toBe(2);
    expect(p.scorers[1].weight).toBe(0.5);
    expect(p.picker.typeName).toBe("power-of-two-picker");
    expect(p.needsPrefix).toBe(false);
  });

  it("refuses unknown names, bad weights and bad params with the JSON path", () => {
    let bad: string[] = [
      "{\"scorers\":[{\"type\":\"nope\"}]}",
      "{\"scorers\":[{\"type\":\"queue-scorer\",\"weight\":-1}]}",
      "{\"scorers\":[{\"type\":\"queue-scorer\",\"weight\":1000}]}",
      "{\"filters\":[{\"type\":\"low-queue-filter\",\"params\":{\"threshold\":\"x\"}}]}",
      "{\"filters\":[{\"type\":\"low-queue-filter\",\"params\":{\"bogus\":1}}]}",
      "{\"picker\":{\"type\":\"best\"}}",
      "{\"scorers\":[{\"weight\":1}]}",
      "{\"extra\":1}",
    ];
    let paths: string[] = [
      "$.scorers[0].type: unknown scorer \"nope\"",
      "$.scorers[0].weight: must be between 0 and 100",
      "$.scorers[0].weight: must be between 0 and 100",
      "$.filters[0].params.threshold: expected integer",
      "$.filters[0].params.bogus: unknown field",
      "$.picker.type: unknown picker \"best\"",
      "$.scorers[0].type: required field is missing",
      "$.extra: unknown field",
    ];
    for (let i = 0; i < bad.length; i++) {
      let r = new ConfigReader();
      parse(bad[i], r);
      expect(r.ok).toBe(false, bad[i]);
      expect(r.error.startsWith(paths[i])).toBe(true, r.error);
    }
  });

  it("absent profile is the default; absent scorers are the default scorers", () => {
    let r = new ConfigReader();
    let p = parse("{\"picker\":{\"type\":\"weighted-random-picker\"}}", r);
    expect(r.ok).toBe(true);
    expect(p.scorers.length).toBe(3);
    expect(p.scorers[2].weight).toBe(3);
    expect(p.filters[0].typeName).toBe("health-filter");
  });
});
