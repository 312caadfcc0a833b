import { parseJson } from "../json/parse";
import { ConfigReader } from "../config/reader";
import { readRulesSection } from "./rules-config";
import { Rule } from "./rule";
import { HeaderList } from "./header-list";
import { evaluateRules, RuleOutcome, RulePhase, MapPropertySource, HeaderOpKind, HeaderOp } from "./engine";

function rules(json: string): Rule[] {
  const p = parseJson(json);
  expect(p.ok).toBe(true, p.error);
  const r = new ConfigReader();
  const out = readRulesSection(r, r.root(p.value!).child("rules")!);
  expect(r.error).toBe("");
  return out!;
}

function request(method: string, path: string, authority: string): HeaderList {
  const h = new HeaderList();
  h.add(":method", method);
  h.add(":path", path);
  h.add(":authority", authority);
  return h;
}

function describeOps(ops: HeaderOp[]): string {
  let s = "";
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (i > 0) s += "; ";
    s += (op.kind == HeaderOpKind.Set ? "set " : op.kind == HeaderOpKind.Append ? "append " : "remove ") + op.name;
    if (op.kind != HeaderOpKind.Remove) s += "=" + op.value;
  }
  return s;
}

const ID = "spiffe://cluster.local/ns/team-a/sa/client";

describe("rule engine", () => {
  it("sets a tenant header from the caller's SPIFFE identity and cleans the response", () => {
    const rs = rules(`{"rules": [
      {"name": "tenant", "match": {"properties": [{"path": "connection.uri_san_peer_certificate", "prefix": "spiffe://cluster.local/"}]},
       "request": {"set": {"x-tenant": "{{property:connection.uri_san_peer_certificate|spiffe:namespace}}"}},
       "response": {"remove": ["server", "x-envoy-upstream-service-time"], "set": {"x-tenant": "{{header:x-tenant}}"}}}
    ]}`);
    const h = request("POST", "/v1/chat/completions", "llm");
    const props = new MapPropertySource().set("connection.uri_san_peer_certificate", ID);
    const out = new RuleOutcome();
    evaluateRules(rs, RulePhase.Headers, h, props, null, out);
    expect(out.matched).toBe(1);
    expect(describeOps(out.ops)).toBe("set x-tenant=team-a");
    expect(describeOps(out.responseOps)).toBe("remove server; remove x-envoy-upstream-service-time; set x-tenant=team-a");
    expect(h.get("x-tenant")).toBe("team-a");
    expect(out.routeChanged()).toBe(true);
  });

  it("reads the waypoint peer identity from filter state", () => {
    const rs = rules(`{"rules": [{"match": {"properties": [{"path": "filter_state[io.istio.peer_principal]", "prefix": "spiffe://"}]},
      "request": {"set": {"x-tenant": "{{property:filter_state[io.istio.peer_principal]|spiffe:ns}}"}}}]}`);
    const h = request("GET", "/", "a");
    const out = new RuleOutcome();
    evaluateRules(rs, RulePhase.Headers, h, new MapPropertySource().set("filter_state[io.istio.peer_principal]", ID), null, out);
    expect(describeOps(out.ops)).toBe("set x-tenant=team-a");
  });

  it("skips rules whose conditions fail", () => {
    const rs = rules(`{"rules": [
      {"match": {"path": {"glob": "/v1/*/completions"}, "methods": ["POST"],
                 "headers": [{"name": "x-debug", "present": false}, {"name": "x-env", "equals": "prod"}],
                 "authority": {"suffix": ".svc.cluster.local"},
                 "properties": [{"path": "source.address", "cidr": ["10.0.0.0/8", "fd00::/8"]}]},
       "request": {"set": {"x-hit": "1"}}}
    ]}`);
    const props = new MapPropertySource().set("source.address", "10.1.2.3:5555");
    let h = request("POST", "/v1/chat/completions", "llm.ns.svc.cluster.local");
    h.add("x-env", "prod");
    const out = new RuleOutcome();
    evaluateRules(rs, RulePhase.Headers, h, props, null, out);
    expect(out.matched).toBe(1);

    const variants: string[] = ["GET", "path", "debug", "env", "authority", "addr"];
    for (let v = 0; v < variants.length; v++) {
      const kind = variants[v];
      h = request(kind == "GET" ? "GET" : "POST", kind == "path" ? "/v1/models" : "/v1/chat/completions",
        kind == "authority" ? "llm.example.com" : "llm.ns.svc.cluster.local");
      h.add("x-env", kind == "env" ? "dev" : "prod");
      if (kind == "debug") h.add("x-debug", "1");
      const p = new MapPropertySource().set("source.address", kind == "addr" ? "192.168.0.1:1" : "[fd00::5]:80");
      out.reset();
      evaluateRules(rs, RulePhase.Headers, h, p, null, out);
      expect(out.matched).toBe(0, kind);
    }
  });

  it("applies remove, rename, set, append in order and later rules see earlier edits", () => {
    const rs = rules(`{"rules": [
      {"request": {"remove": ["x-drop"], "rename": {"x-old": "x-new"}, "set": {"x-a": "1"}, "append": {"x-a": "2"}}},
      {"match": {"headers": [{"name": "x-new", "equals": "v"}]}, "request": {"set": {"x-seen": "{{header:x-new}}"}}}
    ]}`);
    const h = request("GET", "/", "a");
    h.add("x-drop", "d");
    h.add("x-old", "v");
    const out = new RuleOutcome();
    evaluateRules(rs, RulePhase.Headers, h, new MapPropertySource(), null, out);
    expect(describeOps(out.ops)).toBe("remove x-drop; remove x-old; set x-new=v; set x-a=1; append x-a=2; set x-seen=v");
    expect(out.matched).toBe(2);
  });

  it("rewrites the path prefix keeping the query, and the authority", () => {
    const rs = rules(`{"rules": [
      {"match": {"path": {"prefix": "/v1"}}, "request": {"rewritePathPrefix": {"prefix": "/v1/", "replacement": "/openai/v1/"},
        "authority": "{{header:x-backend|default:models}}.internal"}}
    ]}`);
    const h = request("POST", "/v1/chat/completions?x=1", "front");
    const out = new RuleOutcome();
    evaluateRules(rs, RulePhase.Headers, h, new MapPropertySource(), null, out);
    expect(out.path).toBe("/openai/v1/chat/completions?x=1");
    expect(out.authority).toBe("models.internal");
    expect(h.get(":path")).toBe("/openai/v1/chat/completions?x=1");
  });

  it("never emits CR, LF or NUL and skips missing values", () => {
    const rs = rules(`{"rules": [{"request": {"set": {"x-copy": "{{header:x-evil}}", "x-none": "{{header:x-absent}}"}}}]}`);
    const h = request("GET", "/", "a");
    h.add("x-evil", "a\r\nx-injected: 1");
    const out = new RuleOutcome();
    evaluateRules(rs, RulePhase.Headers, h, new MapPropertySource(), null, out);
    expect(out.ops.length).toBe(0);
    expect(out.skippedUnsafe).toBe(1);
    expect(out.skippedMissing).toBe(1);
  });

  it("runs model rules only in the body phase", () => {
    const rs = rules(`{"rules": [
      {"match": {"models": ["llama-3"]}, "request": {"set": {"x-family": "llama"}}},
      {"request": {"set": {"x-model": "{{model}}"}}},
      {"request": {"set": {"x-always": "1"}}}
    ]}`);
    expect(rs[0].needsBody).toBe(true);
    expect(rs[1].needsBody).toBe(true);
    expect(rs[2].needsBody).toBe(false);
    const h = request("POST", "/v1/completions", "a");
    const out = new RuleOutcome();
    evaluateRules(rs, RulePhase.Headers, h, new MapPropertySource(), null, out);
    expect(describeOps(out.ops)).toBe("set x-always=1");
    out.reset();
    evaluateRules(rs, RulePhase.Body, h, new MapPropertySource(), "llama-3", out);
    expect(describeOps(out.ops)).toBe("set x-family=llama; set x-model=llama-3");
    out.reset();
    evaluateRules(rs, RulePhase.Body, h, new MapPropertySource(), null, out);
    expect(out.ops.length).toBe(0);
    expect(out.skippedMissing).toBe(1);
  });
});

function configError(json: string): string {
  const p = parseJson(json);
  expect(p.ok).toBe(true, p.error);
  const r = new ConfigReader();
  const out = readRulesSection(r, r.root(p.value!).child("rules")!);
  expect(out).toBeNull();
  return r.error;
}

describe("rules config errors name the field", () => {
  it("reports paths", () => {
    expect(configError('{"rules": {}}')).toBe("$.rules: expected array, got object");
    expect(configError('{"rules": [{"mtch": {}}]}')).toBe('$.rules[0].mtch: unknown field "mtch" (allowed: name, match, request, response)');
    expect(configError('{"rules": [{"match": {"path": {"glob": "v1/*"}}}]}')).toBe('$.rules[0].match.path.glob: must start with "/"');
    expect(configError('{"rules": [{"match": {"path": {"exact": "/a", "prefix": "/b"}}}]}')).toBe('$.rules[0].match.path: must have exactly one of "exact", "prefix", "glob"');
    expect(configError('{"rules": [{"match": {"methods": ["post"]}}]}')).toBe('$.rules[0].match.methods[0]: must be an upper-case HTTP method such as GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH, got "post"');
    expect(configError('{"rules": [{"match": {"headers": [{"name": "X-A", "present": true}]}}]}')).toBe('$.rules[0].match.headers[0].name: "X-A" must be a lower-case header name token (a-z 0-9 !#$%&\'*+-.^_`|~)');
    expect(configError('{"rules": [{"match": {"headers": [{"name": "x-a"}]}}]}')).toBe('$.rules[0].match.headers[0]: must have exactly one of "equals", "prefix", "suffix", "present"');
    expect(configError('{"rules": [{"match": {"properties": [{"path": "source.address", "cidr": ["10.0.0.0/40"]}]}}]}')).toBe('$.rules[0].match.properties[0].cidr[0]: invalid CIDR "10.0.0.0/40" (e.g. "10.0.0.0/8", "fd00::/8", or a single address)');
    expect(configError('{"rules": [{"request": {"set": {"x-a": "{{header:x"}}}]}')).toBe('$.rules[0].request.set["x-a"]: unclosed "{{" at character 0');
    expect(configError('{"rules": [{"request": {"set": {"x-a": "a\\nb"}}}]}')).toBe('$.rules[0].request.set["x-a"]: must not contain CR, LF or NUL');
    expect(configError('{"rules": [{"request": {"set": {"content-length": "1"}}}]}')).toBe('$.rules[0].request.set["content-length"]: "content-length" is managed by the proxy and cannot be changed by rules');
    expect(configError('{"rules": [{"response": {"rename": {"a": "b"}}}]}')).toBe('$.rules[0].response.rename: unknown field "rename" (allowed: remove, set, append)');
    expect(configError('{"rules": [{"request": {"rewritePathPrefix": {"prefix": "/v1"}}}]}')).toBe("$.rules[0].request.rewritePathPrefix.replacement: required field is missing");
    expect(configError('{"rules": [{"match": {"models": []}}]}')).toBe("$.rules[0].match.models: must list at least one model (omit the field to match any)");
    expect(configError('{"rules": [{"match": {"properties": [{"path": "filter_state[io.istio", "present": true}]}}]}')).toBe('$.rules[0].match.properties[0].path: must be a dotted Envoy property path such as "source.address" (a segment with dots in brackets: "filter_state[io.istio.peer_principal]"), got "filter_state[io.istio"');
  });
});
