import { replaceFirst } from "./replace-first";

// Against String#replace on the same inputs.

describe("replaceFirst", () => {
  it("replaces what String#replace replaces", () => {
    let searches: string[] = ["{ip}", "{port}", "{backend}", "{address}", ":", "::", "a", "10.0.0.1:8000"];
    let templates: string[] = ["", ":", "a", "10.0.0.1:8000", "[::1]:80", "host", "é:ü", "outbound|{port}||{backend}.llm.svc.cluster.local", "{ip}-{ip}", "{ip}", "x{port}", "{ip}{port}{ip}", "{addr{address}}"];
    let bys: string[] = ["", "10.0.0.1", "8000", "{ip}", "$&"];
    for (let i = 0; i < templates.length; i++) {
      for (let k = 0; k < searches.length; k++) {
        for (let b = 0; b < bys.length; b++) {
          expect(replaceFirst(templates[i], searches[k], bys[b])).toBe(templates[i].replace(searches[k], bys[b]), templates[i] + " / " + searches[k] + " / " + bys[b]);
        }
      }
    }
  });
});
