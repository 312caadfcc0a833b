import { parseJson } from "../json/parse";
import { ConfigReader } from "../config/reader";
import { Rng } from "../scheduling/rng";
import { BodyScan } from "./scanner";
import { readBodyRoutingSection, BodyRoutingConfig } from "./routing-config";
import { checkRequest, routeBody, chooseModel, BodyRoutingResult, SkipReason, isJsonContentType } from "./routing";

function config(json: string): BodyRoutingConfig {
  const p = parseJson(json);
  expect(p.ok).toBe(true, p.error);
  const r = new ConfigReader();
  const cfg = readBodyRoutingSection(r, r.root(p.value!).child("bodyRouting")!);
  expect(r.error).toBe("");
  return cfg!;
}

function configError(json: string): string {
  const p = parseJson(json);
  expect(p.ok).toBe(true, p.error);
  const r = new ConfigReader();
  expect(readBodyRoutingSection(r, r.root(p.value!).child("bodyRouting")!)).toBeNull();
  return r.error;
}

const scan = new BodyScan();
const result = new BodyRoutingResult();
const rng = new Rng(42);

function route(cfg: BodyRoutingConfig, body: string): BodyRoutingResult {
  const buf = String.UTF8.encode(body, false);
  routeBody(cfg, changetype<usize>(buf), buf.byteLength, rng, scan, result);
  return result;
}

const CANARY = `{"bodyRouting": {
  "adapters": {"food-review-v1": "llama-3-8b", "food-review-v2": "llama-3-8b"},
  "modelRewrites": [
    {"targets": [{"modelRewrite": "default-model"}]},
    {"matches": [{"model": {"type": "Exact", "value": "food-review"}}, {"model": {"value": "food"}}],
     "targets": [{"modelRewrite": "food-review-v1", "weight": 90}, {"modelRewrite": "food-review-v2", "weight": 10}]}
  ]}}`;

describe("body routing", () => {
  it("gates on path, body, encoding, content type and size", () => {
    const cfg = config('{"bodyRouting": {"maxBodyBytes": 100}}');
    expect(checkRequest(cfg, "/v1/chat/completions?x", "application/json", null, 10, true)).toBe(SkipReason.None);
    expect(checkRequest(cfg, "/v1/models", "application/json", null, 10, true)).toBe(SkipReason.PathNotRouted);
    expect(checkRequest(cfg, "/v1/completions", "application/json", null, -1, false)).toBe(SkipReason.NoBody);
    expect(checkRequest(cfg, "/v1/completions", "application/json", "gzip", 10, true)).toBe(SkipReason.Encoded);
    expect(checkRequest(cfg, "/v1/completions", "application/json", "identity", 10, true)).toBe(SkipReason.None);
    expect(checkRequest(cfg, "/v1/completions", "text/plain", null, 10, true)).toBe(SkipReason.NotJson);
    expect(checkRequest(cfg, "/v1/completions", "application/json", null, 101, true)).toBe(SkipReason.TooLarge);
    expect(checkRequest(cfg, "/v1/completions", "application/json", null, -1, true)).toBe(SkipReason.None);
    expect(isJsonContentType("Application/JSON; charset=utf-8")).toBe(true);
    expect(isJsonContentType("application/vnd.api+json")).toBe(true);
    expect(isJsonContentType("application/x-www-form-urlencoded")).toBe(false);
    expect(isJsonContentType(null)).toBe(true);
  });

  it("sets headers without a rewrite", () => {
    const cfg = config('{"bodyRouting": {"adapters": {"sql-lora": "llama-3-8b"}}}');
    let r = route(cfg, '{"model":"sql-lora","messages":[]}');
    expect(r.skip).toBe(SkipReason.None);
    expect(r.model).toBe("sql-lora");
    expect(r.baseModel).toBe("llama-3-8b");
    expect(r.rewritten).toBe(false);
    expect(r.bodyChanged).toBe(false);
    expect(r.headerNames.join(",")).toBe("x-gateway-model-name,x-gateway-base-model-name");
    expect(r.headerValues.join(",")).toBe("sql-lora,llama-3-8b");
    expect(r.clearRouteCache).toBe(true);
    r = route(cfg, '{"model":"llama-3-8b"}');
    expect(r.baseModel).toBe("llama-3-8b");
  });

  it("prefers an exact match over a catch-all listed earlier, and splits by weight", () => {
    const cfg = config(CANARY);
    let v1 = 0;
    let v2 = 0;
    for (let i = 0; i < 10000; i++) {
      const m = chooseModel(cfg, i % 2 == 0 ? "food-review" : "food", rng)!;
      if (m == "food-review-v1") v1++;
      else if (m == "food-review-v2") v2++;
    }
    expect(v1 + v2).toBe(10000);
    expect(v1).toBeGreaterThan(8700);
    expect(v1).toBeLessThan(9300);
    expect(chooseModel(cfg, "other", rng)).toBe("default-model");
    const none = config('{"bodyRouting": {}}');
    expect(chooseModel(none, "x", rng)).toBeNull();
  });

  it("rewrites the body model and reports the new length", () => {
    const cfg = config('{"bodyRouting": {"modelRewrites": [{"matches": [{"model": {"value": "a"}}], "targets": [{"modelRewrite": "bbb"}]}]}}');
    const r = route(cfg, '{"model" : "a", "messages":[{"role":"user","content":"model a"}]}');
    expect(r.rewritten).toBe(true);
    expect(r.requestedModel).toBe("a");
    expect(r.model).toBe("bbb");
    expect(r.bodyChanged).toBe(true);
    // The rewritten prefix ends with the model value; the original body continues from there.
    const original = '{"model" : "a", "messages":[{"role":"user","content":"model a"}]}';
    expect(r.body.toString()).toBe('{"model" : "bbb"');
    expect(r.bodyTailStart).toBe(14);
    expect(r.body.toString() + original.substring(r.bodyTailStart)).toBe('{"model" : "bbb", "messages":[{"role":"user","content":"model a"}]}');
    expect(r.contentLength).toBe(r.body.length + original.length - r.bodyTailStart);
    expect(r.headerNames.join(",")).toBe("x-gateway-model-name,x-gateway-base-model-name,x-gateway-model-name-rewrite");
  });

  it("leaves the body alone when rewriteBody is false", () => {
    const cfg = config('{"bodyRouting": {"rewriteBody": false, "modelRewrites": [{"targets": [{"modelRewrite": "z"}]}]}}');
    const r = route(cfg, '{"model":"a"}');
    expect(r.rewritten).toBe(true);
    expect(r.bodyChanged).toBe(false);
    expect(r.model).toBe("z");
  });

  it("skips invalid, model-less and oversize bodies", () => {
    const cfg = config('{"bodyRouting": {"maxBodyBytes": 64}}');
    expect(route(cfg, '{"model":').skip).toBe(SkipReason.InvalidJson);
    expect(route(cfg, '{"prompt":"x"}').skip).toBe(SkipReason.NoModel);
    expect(route(cfg, '{"model":5}').skip).toBe(SkipReason.NoModel);
    expect(route(cfg, '{"model":"a\\r\\nx: y"}').skip).toBe(SkipReason.UnsafeModel);
    expect(route(cfg, '{"model":"a\\u007f"}').skip).toBe(SkipReason.UnsafeModel);
    expect(route(cfg, '{"model":"\\udc00a"}').skip).toBe(SkipReason.UnsafeModel);
    expect(result.refuse).toBe(false);
    expect(route(cfg, '{"model":"a","pad":"' + "x".repeat(64) + '"}').skip).toBe(SkipReason.TooLarge);
    expect(result.headerNames.length).toBe(0);
  });

  it("asks for a 400 on an unsafe model when the config says reject", () => {
    const cfg = config('{"bodyRouting": {"unsafeModel": "reject"}}');
    expect(route(cfg, '{"model":"a\\u0000"}').skip).toBe(SkipReason.UnsafeModel);
    expect(result.refuse).toBe(true);
    expect(result.headerNames.length).toBe(0);
    expect(route(cfg, '{"model":"a"}').refuse).toBe(false);
  });

  it("reports config errors by path", () => {
    expect(configError('{"bodyRouting": {"maxBodyBytes": 0}}')).toBe("$.bodyRouting.maxBodyBytes: must be between 1 and 67108864, got 0");
    expect(configError('{"bodyRouting": {"paths": ["v1"]}}')).toBe('$.bodyRouting.paths[0]: must be a path starting with "/" without a query, got "v1"');
    expect(configError('{"bodyRouting": {"modelHeader": "X-Model"}}')).toBe(`$.bodyRouting.modelHeader: "X-Model" must be a lower-case header name token (a-z 0-9 !#$%&'*+-.^_\`|~)`);
    expect(configError('{"bodyRouting": {"modelRewrites": [{"targets": []}]}}')).toBe("$.bodyRouting.modelRewrites[0].targets: must list at least one target");
    expect(configError('{"bodyRouting": {"modelRewrites": [{"targets": [{"modelRewrite": "a", "weight": 0}]}]}}')).toBe("$.bodyRouting.modelRewrites[0].targets[0].weight: must be between 1 and 1000000, got 0");
    expect(configError('{"bodyRouting": {"modelRewrites": [{"targets": [{"modelRewrite": "a", "weight": 1}, {"modelRewrite": "b"}]}]}}')).toBe('$.bodyRouting.modelRewrites[0].targets: set "weight" on every target or on none (GIE InferenceModelRewrite rule)');
    expect(configError('{"bodyRouting": {"modelRewrites": [{"matches": [{"model": {"type": "Prefix", "value": "a"}}], "targets": [{"modelRewrite": "b"}]}]}}')).toBe('$.bodyRouting.modelRewrites[0].matches[0].model.type: must be one of "Exact", got "Prefix"');
    expect(configError('{"bodyRouting": {"adapters": {"a": ""}}}')).toBe("$.bodyRouting.adapters.a: must not be empty");
    expect(configError('{"bodyRouting": {"modelRewrites": [{"targets": [{"modelRewrite": "a\\tb"}]}]}}')).toBe("$.bodyRouting.modelRewrites[0].targets[0].modelRewrite: must not contain a control character (U+0000-U+001F, U+007F) or a lone surrogate (it is sent in a header)");
    expect(configError('{"bodyRouting": {"unsafeModel": "drop"}}')).toBe('$.bodyRouting.unsafeModel: must be one of "passThrough", "reject", got "drop"');
    expect(configError('{"bodyRouting": {"paths": []}}')).toBe("$.bodyRouting.paths: must list at least one path (omit the field for the defaults)");
  });
});
