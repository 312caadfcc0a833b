import { Template, TemplateContext, SourceKind } from "./template";
import { spiffePart } from "./spiffe";

class Ctx extends TemplateContext {
  header(name: string): string | null {
    if (name == "x-tenant") return "Acme";
    return null;
  }
  property(path: string): string | null {
    if (path == "connection\0uri_san_peer_certificate") return "spiffe://cluster.local/ns/team-a/sa/client";
    if (path == "filter_state\0io.istio.peer_principal") return "spiffe://cluster.local/ns/team-b/sa/x";
    return null;
  }
  model(): string | null {
    return "llama-3";
  }
}
const ctx = new Ctx();

function render(text: string): string | null {
  const t = Template.compile(text);
  expect(t.error).toBe("", text);
  return t.render(ctx, "POST", "/v1/chat/completions", "api.local");
}

function errorOf(text: string): string {
  return Template.compile(text).error;
}

describe("spiffePart", () => {
  it("extracts parts", () => {
    const id = "spiffe://cluster.local/ns/team-a/sa/client";
    expect(spiffePart(id, "trust_domain")).toBe("cluster.local");
    expect(spiffePart(id, "namespace")).toBe("team-a");
    expect(spiffePart(id, "ns")).toBe("team-a");
    expect(spiffePart(id, "service_account")).toBe("client");
    expect(spiffePart(id, "sa")).toBe("client");
    expect(spiffePart(id, "path")).toBe("/ns/team-a/sa/client");
    expect(spiffePart("https://x/ns/a", "ns")).toBeNull();
    expect(spiffePart("spiffe://td", "ns")).toBeNull();
    expect(spiffePart("spiffe://td/ns/", "ns")).toBeNull();
    expect(spiffePart("spiffe:///ns/a", "ns")).toBeNull();
  });
});

describe("Template", () => {
  it("renders literals and sources", () => {
    expect(render("plain")).toBe("plain");
    expect(render("{{header:x-tenant}}")).toBe("Acme");
    expect(render("t-{{ header:x-tenant | lower }}-x")).toBe("t-acme-x");
    expect(render("{{property:connection.uri_san_peer_certificate|spiffe:namespace}}")).toBe("team-a");
    expect(render("{{property:filter_state[io.istio.peer_principal]|spiffe:ns}}")).toBe("team-b");
    expect(render("{{model}}|{{method}} {{path}} {{authority|upper}}")).toBe("llama-3|POST /v1/chat/completions API.LOCAL");
  });
  it("is missing when a value is absent, unless defaulted", () => {
    expect(render("{{header:x-none}}")).toBeNull();
    expect(render("a{{header:x-none}}b")).toBeNull();
    expect(render("{{header:x-none|default:anon}}")).toBe("anon");
    expect(render("{{property:nope|spiffe:ns|default:none}}")).toBe("none");
    expect(render("{{header:x-tenant|spiffe:ns}}")).toBeNull();
  });
  it("reports what it reads", () => {
    expect(Template.compile("{{model}}").uses(SourceKind.Model)).toBe(true);
    expect(Template.compile("x").isLiteral()).toBe(true);
    expect(Template.compile("{{path}}").isLiteral()).toBe(false);
  });
  it("rejects bad templates", () => {
    expect(errorOf("{{header:x")).toBe("unclosed \"{{\" at character 0");
    expect(errorOf("{{header:X-A}}")).toBe("invalid header name \"X-A\" in {{header:X-A}} (lowercase token expected)");
    expect(errorOf("{{cookie:a}}")).toBe("unknown source \"cookie:a\" in {{cookie:a}} (header:<name>, property:<path>, model, method, path, authority)");
    expect(errorOf("{{model|trim}}")).toBe("unknown filter \"trim\" in {{model|trim}} (spiffe:<part>, lower, upper, default:<text>)");
    expect(errorOf("{{model|spiffe:team}}")).toBe("unknown SPIFFE part \"team\" in {{model|spiffe:team}} (trust_domain, namespace, ns, service_account, sa, path)");
    expect(errorOf("{{property:a..b}}")).toBe("invalid property path \"a..b\" in {{property:a..b}} (e.g. source.address, filter_state[io.istio.peer_principal])");
  });
});
