import { PathPattern, prefixMatches, pathOnly, globError } from "./path-pattern";

describe("PathPattern", () => {
  it("exact ignores the query", () => {
    const p = PathPattern.exact("/v1/models");
    expect(p.matches("/v1/models")).toBe(true);
    expect(p.matches("/v1/models?x=1")).toBe(true);
    expect(p.matches("/v1/models/")).toBe(false);
    expect(pathOnly("/a#f")).toBe("/a");
  });
  it("prefix is segment-aware", () => {
    expect(prefixMatches("/v1", "/v1")).toBe(true);
    expect(prefixMatches("/v1", "/v1/chat")).toBe(true);
    expect(prefixMatches("/v1", "/v1beta")).toBe(false);
    expect(prefixMatches("/v1/", "/v1/x")).toBe(true);
    expect(prefixMatches("/", "/anything")).toBe(true);
    expect(PathPattern.prefix("/v1").matches("/v1?q")).toBe(true);
  });
  it("glob: * is one segment, ** any depth", () => {
    const g = PathPattern.glob("/v1/*/completions");
    expect(g.matches("/v1/chat/completions")).toBe(true);
    expect(g.matches("/v1/completions")).toBe(false);
    expect(g.matches("/v1/a/b/completions")).toBe(false);
    expect(g.matches("/v1/chat/completions?stream=1")).toBe(true);
    const a = PathPattern.glob("/v1/**");
    expect(a.matches("/v1")).toBe(true);
    expect(a.matches("/v1/")).toBe(true);
    expect(a.matches("/v1/a/b")).toBe(true);
    expect(a.matches("/v1x")).toBe(false);
    const d = PathPattern.glob("/a/**/b");
    expect(d.matches("/a/b")).toBe(true);
    expect(d.matches("/a/x/b")).toBe(true);
    expect(d.matches("/a/x/y/b")).toBe(true);
    expect(d.matches("/a/xb")).toBe(false);
    const m = PathPattern.glob("/files/*.json");
    expect(m.matches("/files/a.json")).toBe(true);
    expect(m.matches("/files/a/b.json")).toBe(false);
    const x = PathPattern.glob("/x**y");
    expect(x.matches("/x/a/y")).toBe(true);
    expect(PathPattern.glob("/v1/models").matches("/v1/models")).toBe(true);
    expect(PathPattern.glob("/v1/models").matches("/v1/model")).toBe(false);
  });
  it("glob matching stays linear on adversarial input", () => {
    let path = "/";
    for (let i = 0; i < 2000; i++) path += "a";
    const g = PathPattern.glob("/*a*a*a*a*a*a*a*a*b");
    expect(g.matches(path)).toBe(false);
    const h = PathPattern.glob("/**a**a**a**a**b");
    expect(h.matches(path)).toBe(false);
  });
  it("rejects bad globs", () => {
    expect(globError("v1/*")).toBe("must start with \"/\"");
    expect(globError("/***")).toBe("\"***\" is not a pattern; use \"**\"");
    expect(globError("/ok/*")).toBe("");
  });
});
