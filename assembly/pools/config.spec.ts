import { ConfigReader } from "../config/reader";
import { parseJson } from "../json/parse";
import { parsePools, PoolConfig, SteeringMode } from "./config";
import { parseEndpointFeed } from "./feed";
import { poolMatches, authorityHost } from "./match";
import { Engine } from "../endpoints/endpoint";

function pools(text: string, r: ConfigReader): PoolConfig[] {
  let j = parseJson(text);
  expect(j.ok).toBe(true, j.error);
  let root = r.root(j.value!);
  return parsePools(r, root.child("pools")!);
}

const GOOD = `{"pools":[{
  "name":"llama",
  "match":{"authority":"llm.example.com","pathPrefix":"/v1/","headers":[{"name":"x-tenant","value":"a"},{"name":"x-any"}]},
  "endpoints":[
    {"address":"10.0.0.1:8000","zone":"us-a","engine":"vllm"},
    {"address":"[::1]:8000","zone":"us-b","weight":2}
  ],
  "steering":{"mode":"endpoint","maxEndpoints":2},
  "failureMode":"FailOpen",
  "profile":{"scorers":[{"type":"queue-scorer","weight":1}]},
  "scrape":{"engine":"sglang","intervalMs":100,"cluster":"llama-pool"},
  "saturation":{"queueDepthThreshold":8,"kvCacheUtilThreshold":0.9,"metricsStalenessMs":500},
  "prefixCache":{"maxTotalBlocks":1000},
  "priority":{"default":0,"models":{"batch":-1},"objectives":{"critical":5}},
  "trustedCallers":[{"property":"source.principal","prefix":"spiffe://cluster.local/ns/gw/"}],
  "sessionAffinity":{"header":"x-session-id"},
  "health":{"failureThreshold":3},
  "locality":{"zone":"us-a"},
  "debug":{"explain":true}
}]}`;

class PrefixCase {
  constructor(public json: string, public blockSize: i32, public maxBlocks: i32, public leadingRun: bool) {}
}

// prefixCache defaults follow the EPP: 64 tokens of 4 bytes, 131,072 tokens / block tokens blocks.
const PREFIX_CASES: PrefixCase[] = [
  new PrefixCase(`{}`, 256, 2048, false),
  new PrefixCase(`{"blockSizeTokens":128}`, 512, 1024, false),
  new PrefixCase(`{"blockSizeTokens":16}`, 64, 2048, false),
  new PrefixCase(`{"blockSize":64,"maxBlocks":256,"matching":"leading-run"}`, 64, 256, true),
];

describe("prefixCache settings", () => {
  it("derive the EPP's block size and block cap", () => {
    for (let i = 0; i < PREFIX_CASES.length; i++) {
      let c = PREFIX_CASES[i];
      let r = new ConfigReader();
      let ps = pools(`{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"prefixCache":` + c.json + `}]}`, r);
      expect(r.ok).toBe(true, r.error);
      expect(ps[0].prefix.blockSize).toBe(c.blockSize, c.json);
      expect(ps[0].prefix.maxBlocks).toBe(c.maxBlocks, c.json);
      expect(ps[0].prefix.matching == 1).toBe(c.leadingRun, c.json);
    }
  });

  it("refuses conflicting size settings, naming the field", () => {
    let r = new ConfigReader();
    pools(`{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"prefixCache":{"blockSize":64,"blockSizeTokens":16}}]}`, r);
    expect(r.ok).toBe(false);
    expect(r.error.startsWith("$.pools[0].prefixCache.blockSize:")).toBe(true, r.error);
    let r2 = new ConfigReader();
    pools(`{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"prefixCache":{"maxTotalBlocks":10,"memoryBudgetBytes":1000000}}]}`, r2);
    expect(r2.ok).toBe(false);
    expect(r2.error.startsWith("$.pools[0].prefixCache.memoryBudgetBytes:")).toBe(true, r2.error);
  });
});

describe("pools config", () => {
  it("parses a full pool", () => {
    let r = new ConfigReader();
    let ps = pools(GOOD, r);
    expect(r.ok).toBe(true, r.error);
    let p = ps[0];
    expect(p.name).toBe("llama");
    expect(p.endpoints.length).toBe(2);
    expect(p.endpoints[0].engine).toBe(Engine.Vllm);
    expect(p.endpoints[1].engine).toBe(Engine.Sglang); // from scrape.engine
    expect(p.endpoints[1].weight).toBe(2);
    expect(p.maxEndpoints).toBe(2);
    expect(p.failOpen).toBe(true);
    expect(p.steeringHeader).toBe("x-gateway-destination-endpoint");
    expect(p.scrape.enabled).toBe(true);
    // Default budget: 100 scrapes/s keeps 64 endpoints at or under 2 % of an Envoy thread.
    expect(p.scrape.budgetPerSecond).toBe(100);
    expect(p.saturation.metricsRequired).toBe(true);
    expect(p.saturation.queueDepth).toBe(8);
    expect(p.priority.forModel("batch")).toBe(-1);
    expect(p.priority.forModel("other")).toBe(0);
    expect(p.priority.forObjective("critical")).toBe(5);
    expect(p.trustedCallers[0].matches("spiffe://cluster.local/ns/gw/sa/x")).toBe(true);
    expect(p.trustedCallers[0].matches("spiffe://cluster.local/ns/app/sa/x")).toBe(false);
    expect(p.trustedCallers[0].segments().join("|")).toBe("source|principal");
    expect(p.health.failureThreshold).toBe(3);
    expect(p.debug.explain).toBe(true);
    expect(p.profile.scorers.length).toBe(1);
  });

  it("route mode needs a backend per endpoint and defaults the route header", () => {
    let r = new ConfigReader();
    let ps = pools(`{"pools":[{"name":"p","steering":{"mode":"route"},"endpoints":[{"backend":"llama-0"},{"backend":"llama-1","address":"10.0.0.2:8000"}]}]}`, r);
    expect(r.ok).toBe(true, r.error);
    expect(ps[0].mode).toBe(SteeringMode.Route);
    expect(ps[0].steeringHeader).toBe("x-wayroute-backend");
    expect(ps[0].maxEndpoints).toBe(1);
    expect(ps[0].saturation.metricsRequired).toBe(false);
  });

  it("refuses bad pools naming the JSON path", () => {
    let bad: string[] = [
      `{"pools":{}}`,
      `{"pools":[{"endpoints":[{"address":"10.0.0.1:80"}]}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"},{"address":"10.0.0.1:80"},{"address":"10.0.0.300:80"}]}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"},{"address":"10.0.0.2:80"},{"address":"10.0.0.300:80"}]}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80","weight":0}]}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"profile":{"scorers":[{"type":"magic-scorer"}]}}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"profile":{"scorers":[{"type":"queue-scorer","weight":101}]}}]}`,
      `{"pools":[{"name":"a","steering":{"mode":"route"},"endpoints":[{"address":"10.0.0.1:80"}]}]}`,
      `{"pools":[{"name":"a"}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"failureMode":"failopen"}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}]},{"name":"a","endpoints":[{"address":"10.0.0.1:80"}]}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"steering":{"header":"X-Bad"}}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"trustedCallers":[{"property":"source.principal"}]}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"scrape":{"engine":"tgi"}}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"saturation":{"kvCacheUtilThreshold":2}}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"prefixCache":{"maxBlocks":5000}}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"priority":{"models":{"m":"high"}}}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"sessionAffinity":{}}]}`,
      `{"pools":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}],"endpointFeed":{"path":"/x"}}]}`,
      `{"pools":[{"name":"a","steering":{"mode":"route"},"endpoints":[{"address":"","backend":"b"}]}]}`,
    ];
    let want: string[] = [
      "$.pools: expected array",
      "$.pools[0].name: required field is missing",
      "$.pools[0].endpoints[1]: duplicate endpoint",
      "$.pools[0].endpoints[2].address: host is not a dotted-quad IPv4 address",
      "$.pools[0].endpoints[0].weight: must be between",
      "$.pools[0].profile.scorers[0].type: unknown scorer \"magic-scorer\"",
      "$.pools[0].profile.scorers[0].weight: must be between 0 and 100",
      "$.pools[0].endpoints[0].backend: required in route mode",
      "$.pools[0]: needs endpoints, an endpointFeed, or both",
      "$.pools[0].failureMode: must be one of",
      "$.pools[1].name: duplicate pool name",
      "$.pools[0].steering.header: header names are lower-case tokens",
      "$.pools[0].trustedCallers[0]: exactly one of equals or prefix",
      "$.pools[0].scrape.engine: must be one of",
      "$.pools[0].saturation.kvCacheUtilThreshold: must be between",
      "$.pools[0].prefixCache.maxBlocks: must be between 1 and 2048",
      "$.pools[0].priority.models.m: expected integer",
      "$.pools[0].sessionAffinity: needs header or cookie",
      "$.pools[0].endpointFeed.cluster: required field is missing",
      "$.pools[0].endpoints[0].address: empty address",
    ];
    for (let i = 0; i < bad.length; i++) {
      let r = new ConfigReader();
      pools(bad[i], r);
      expect(r.ok).toBe(false, bad[i]);
      expect(r.error.startsWith(want[i])).toBe(true, r.error);
    }
  });
});

describe("endpoint feed", () => {
  it("accepts an array or {endpoints}, skipping and counting bad rows", () => {
    let f = parseEndpointFeed(`[{"address":"10.0.0.1:8000"},{"address":"nope"},{"address":"10.0.0.1:8000"},{"address":"[::1]:9"}]`, SteeringMode.Endpoint);
    expect(f.ok).toBe(true);
    expect(f.endpoints.length).toBe(2);
    expect(f.skipped).toBe(2);
    expect(f.firstSkip.startsWith("$[1].address")).toBe(true, f.firstSkip);
    let g = parseEndpointFeed(`{"endpoints":[{"address":"10.0.0.2:8000","zone":"z"}]}`, SteeringMode.Endpoint);
    expect(g.endpoints[0].zone).toBe("z");
  });

  it("refuses a malformed body as a whole", () => {
    expect(parseEndpointFeed("", SteeringMode.Endpoint).ok).toBe(false);
    expect(parseEndpointFeed("{\"endpoints\":3}", SteeringMode.Endpoint).ok).toBe(false);
    expect(parseEndpointFeed("[{]", SteeringMode.Endpoint).ok).toBe(false);
    expect(parseEndpointFeed("\"x\"", SteeringMode.Endpoint).ok).toBe(false);
  });
});

describe("pool match", () => {
  it("authority (port ignored), path prefix and headers", () => {
    let r = new ConfigReader();
    let m = pools(GOOD, r)[0].match;
    let names = ["x-tenant", "x-any"];
    let vals: Array<string | null> = ["a", ""];
    expect(poolMatches(m, "LLM.example.com:443", "/v1/chat/completions", names, vals)).toBe(true);
    expect(poolMatches(m, "other.example.com", "/v1/chat/completions", names, vals)).toBe(false);
    expect(poolMatches(m, "llm.example.com", "/v2/x", names, vals)).toBe(false);
    let vals2: Array<string | null> = ["b", ""];
    expect(poolMatches(m, "llm.example.com", "/v1/x", names, vals2)).toBe(false);
    let vals3: Array<string | null> = ["a", null];
    expect(poolMatches(m, "llm.example.com", "/v1/x", names, vals3)).toBe(false);
    expect(authorityHost("[::1]:80")).toBe("[::1]");
  });
});
