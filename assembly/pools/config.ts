// The `pools` config section: an array of inference pools, each matched by authority / path
// prefix / header, with static endpoints and/or an endpoint feed, a steering mode, a failure
// mode, a scheduling profile, metrics scraping, saturation thresholds, the prefix-cache index
// size, priorities, trusted callers, session affinity, passive health and debug explanations.
// Mirrors schemas/pools.schema.json exactly; every refusal names the JSON path.
import { ConfigReader, ConfigNode, quote } from "../config/reader";
import { checkAddress } from "../endpoints/address";
import { Endpoint, Engine, engineFromName } from "../endpoints/endpoint";
import { HealthPolicy } from "../endpoints/health";
import { SaturationThresholds } from "../scheduling/saturation";
import { Profile, parseProfile } from "../scheduling/profile";
import { DEFAULT_CAPACITY, DEFAULT_PER_ENDPOINT, capacityForBudget, indexBytes } from "../prefix/index";
import { FlowControlConfig, parseFlowControl } from "../flow/config";

export const ENDPOINT_HEADER = "x-gateway-destination-endpoint";
export const ROUTE_HEADER = "x-wayroute-backend";
export const ENGINES: string[] = ["auto", "vllm", "sglang", "trtllm-serve", "triton-trtllm"];

export enum SteeringMode {
  Endpoint = 0,
  Route = 1,
}

export class HeaderMatch {
  constructor(public name: string, public value: string, public present: bool) {}
}

export class PoolMatch {
  /** Exact :authority (port ignored); "" matches any. */
  authority: string = "";
  /** :path prefix; "" matches any. */
  pathPrefix: string = "";
  headers: HeaderMatch[] = [];
}

export class EndpointFeed {
  cluster: string = "";
  path: string = "/endpoints";
  authority: string = "";
  intervalMs: i64 = 5000;
  timeoutMs: i64 = 1000;
}

export class ScrapeConfig {
  enabled: bool = false;
  path: string = "/metrics";
  intervalMs: i64 = 50;
  timeoutMs: i64 = 1000;
  engine: i32 = 0;
  /** One cluster for every endpoint (endpoint mode: the destination header picks the endpoint). */
  cluster: string = "";
  /** Per-endpoint cluster name with {backend}, {ip}, {port}, {address} placeholders. */
  clusterTemplate: string = "";
  /** :authority of scrape calls; "" uses the endpoint address. */
  authority: string = "";
  /** Consecutive scrape failures that count as one passive-health failure each (0: ignore). */
  countFailuresAsUnhealthy: bool = true;
  /** Lease length for the one worker that scrapes; another takes over when it lapses. */
  leaseMs: i64 = 1000;
  /** Read cap per scrape page; a longer page is ignored whole (and counted), never read in part. */
  maxBodyBytes: i64 = DEFAULT_SCRAPE_MAX_BODY;
  /**
   * Scrapes per second this proxy may spend on the pool. The effective interval is
   * max(intervalMs, endpoints / budgetPerSecond); see docs/picker.md.
   */
  budgetPerSecond: i64 = DEFAULT_SCRAPE_BUDGET;
  /** Ask for the wanted series only (`?name[]=`); default on for engines that serve via prometheus_client. */
  nameFilter: bool = false;
}

/**
 * Default scrape budget. Envoy's own work around each http_call (~0.1-0.2 ms of its CPU) sets the
 * cost, not the page: 100/s keeps 64 endpoints at or under 2 % of one thread (docs/picker.md §8.6);
 * pools of up to 5 endpoints keep the 50 ms interval.
 */
export const DEFAULT_SCRAPE_BUDGET: i64 = 100;

/** Engines whose /metrics is prometheus_client's exposition app (honours `?name[]=`). */
export function filtersByDefault(engine: i32): bool {
  return engine == Engine.Vllm || engine == Engine.Sglang;
}

/** Default read cap: vLLM with many LoRA adapters and histogram buckets writes megabytes. */
export const DEFAULT_SCRAPE_MAX_BODY: i64 = 4 << 20;

/** How a prompt's blocks are credited to endpoints (see PrefixIndex). */
export enum PrefixMatching {
  /** The EPP's: walk blocks while any endpoint holds the current one, credit every holder. */
  AnyHolder = 0,
  /** wayroute's older match: each endpoint's unbroken leading run of blocks. */
  LeadingRun = 1,
}

export const MAX_PREFIX_BLOCKS: i32 = 2048;

export class PrefixCacheConfig {
  /** Block size in bytes: the EPP's 64 estimated tokens of 4 bytes (blockSizeTokens x 4). */
  blockSize: i32 = 256;
  /** Blocks hashed per prompt: the EPP's 131,072 tokens / 64 = 2,048. */
  maxBlocks: i32 = MAX_PREFIX_BLOCKS;
  matching: PrefixMatching = PrefixMatching.AnyHolder;
  lruCapacityPerEndpoint: i32 = DEFAULT_PER_ENDPOINT;
  maxTotalBlocks: i32 = DEFAULT_CAPACITY;
  /** Share learned decisions with the other workers through shared data. */
  shareAcrossWorkers: bool = true;
}

export class PriorityRule {
  constructor(public name: string, public priority: i32) {}
}

/** The EPP's objective header (pkg/epp/metadata ObjectiveKey) and its older alias. */
export const OBJECTIVE_HEADER = "x-llm-d-inference-objective";
export const OLD_OBJECTIVE_HEADER = "x-gateway-inference-objective";

/** The EPP's candidate subset hint (pkg/epp/metadata SubsetFilterKey). */
export const SUBSET_HEADER = "x-gateway-destination-endpoint-subset";

export class PriorityConfig {
  default: i32 = 0;
  models: PriorityRule[] = [];
  objectives: PriorityRule[] = [];
  /** Request header naming an objective (EPP): honoured for trusted callers only. */
  objectiveHeader: string = OBJECTIVE_HEADER;
  /** Request header setting the priority directly: trusted callers only. */
  header: string = "x-wayroute-priority";

  /** Configured priority of `model` (exact match), or the default. */
  forModel(model: string): i32 {
    for (let i = 0; i < this.models.length; i++) if (this.models[i].name == model) return this.models[i].priority;
    return this.default;
  }

  /** Priority of objective `name`, or i32.MIN_VALUE when unknown. */
  forObjective(name: string): i32 {
    for (let i = 0; i < this.objectives.length; i++) if (this.objectives[i].name == name) return this.objectives[i].priority;
    return i32.MIN_VALUE;
  }
}

/** A caller is trusted when property `path` (dotted, e.g. source.principal) matches. */
export class TrustRule {
  constructor(public property: string, public equals: string, public prefix: string) {}

  matches(value: string | null): bool {
    if (value == null) return false;
    if (this.equals.length > 0) return value == this.equals;
    return this.prefix.length > 0 && value.startsWith(this.prefix);
  }

  /** Property path segments for proxy_get_property. */
  segments(): string[] {
    return this.property.split(".");
  }
}

export class SessionAffinityConfig {
  header: string = "";
  cookie: string = "";
}

export class DebugConfig {
  explain: bool = false;
  /** Candidates listed in the explanation (best first). */
  explainTop: i32 = 3;
  /** Decimal places of the scores in the explanation. */
  explainDigits: i32 = 3;
  /** Response header carrying the explanation. */
  header: string = "x-wayroute-explain";
}

export class PoolConfig {
  name: string = "";
  match: PoolMatch = new PoolMatch();
  endpoints: Endpoint[] = [];
  feed: EndpointFeed | null = null;
  mode: SteeringMode = SteeringMode.Endpoint;
  steeringHeader: string = ENDPOINT_HEADER;
  /** Endpoints named in the steering header: primary + fallbacks (endpoint mode). */
  maxEndpoints: i32 = 3;
  failOpen: bool = false;
  profile: Profile = new Profile();
  scrape: ScrapeConfig = new ScrapeConfig();
  saturation: SaturationThresholds = new SaturationThresholds();
  prefix: PrefixCacheConfig = new PrefixCacheConfig();
  priority: PriorityConfig = new PriorityConfig();
  trustedCallers: TrustRule[] = [];
  session: SessionAffinityConfig = new SessionAffinityConfig();
  health: HealthPolicy = new HealthPolicy();
  localZone: string = "";
  localCluster: string = "";
  debug: DebugConfig = new DebugConfig();
  /** Queue instead of shedding while the pool is full (assembly/flow); null: off. */
  flowControl: FlowControlConfig | null = null;
}

const POOL_KEYS: string[] = [
  "name", "match", "endpoints", "endpointFeed", "steering", "failureMode", "profile", "scrape",
  "saturation", "prefixCache", "priority", "trustedCallers", "sessionAffinity", "health", "locality", "debug",
  "flowControl",
];

const ENDPOINT_KEYS: string[] = ["address", "zone", "cluster", "network", "engine", "weight", "backend", "metricsCluster"];

function isTokenChar(c: i32): bool {
  // RFC 7230 tchar, lower-case only (Envoy lower-cases header names).
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95 || c == 46 ||
    c == 33 || c == 35 || c == 36 || c == 37 || c == 38 || c == 39 || c == 42 || c == 43 ||
    c == 94 || c == 96 || c == 124 || c == 126;
}

/** Reads a header name: non-empty, lower-case token. */
function headerName(r: ConfigReader, obj: ConfigNode, key: string, dflt: string): string {
  let node = obj.child(key);
  if (node == null) return dflt;
  let s = r.stringOf(node);
  if (!r.ok) return dflt;
  if (s.length == 0) { r.fail(node, "must not be empty"); return dflt; }
  for (let i = 0; i < s.length; i++) {
    if (!isTokenChar(s.charCodeAt(i))) {
      r.fail(node, "header names are lower-case tokens (got " + quote(s) + ")");
      return dflt;
    }
  }
  return s;
}

/** Parses one endpoint object (config or feed). `mode` decides which fields are required. */
export function parseEndpoint(r: ConfigReader, node: ConfigNode, mode: SteeringMode): Endpoint | null {
  if (!r.requireObject(node)) return null;
  r.rejectUnknownKeys(node, ENDPOINT_KEYS);
  let address = mode == SteeringMode.Endpoint ? r.requireString(node, "address") : r.optString(node, "address", "");
  if (!r.ok) return null;
  // Optional in route mode, but when present it must be valid (as the schema says), even "".
  if (mode == SteeringMode.Endpoint || node.child("address") != null) {
    let chk = checkAddress(address);
    if (!chk.ok) {
      r.fail(node.child("address")!, chk.error + " (got " + quote(address) + ")");
      return null;
    }
  }
  let ep = new Endpoint(address);
  ep.zone = r.optString(node, "zone", "");
  ep.cluster = r.optString(node, "cluster", "");
  ep.network = r.optString(node, "network", "");
  let engine = r.optEnum(node, "engine", ENGINES, "");
  ep.engine = engine.length > 0 ? engineFromName(engine) : -1;
  ep.weight = r.optNumber(node, "weight", 1, 0.000001, 1000000);
  ep.backend = r.optString(node, "backend", "");
  ep.metricsCluster = r.optString(node, "metricsCluster", "");
  if (r.ok && mode == SteeringMode.Route && ep.backend.length == 0) {
    r.failAt(node.path + ".backend", "required in route mode (the backend name the route header carries)");
  }
  return r.ok ? ep : null;
}

function parseMatch(r: ConfigReader, node: ConfigNode | null, m: PoolMatch): void {
  if (node == null) return;
  r.rejectUnknownKeys(node, ["authority", "pathPrefix", "headers"]);
  m.authority = r.optString(node, "authority", "").toLowerCase();
  m.pathPrefix = r.optString(node, "pathPrefix", "");
  if (r.ok && m.pathPrefix.length > 0 && !m.pathPrefix.startsWith("/")) {
    r.fail(node.child("pathPrefix")!, "must start with '/'");
  }
  let headers = r.optArray(node, "headers");
  if (headers == null) return;
  for (let i = 0; i < headers.length && r.ok; i++) {
    let h = headers.at(i)!;
    if (!r.requireObject(h)) return;
    r.rejectUnknownKeys(h, ["name", "value"]);
    let name = headerName(r, h, "name", "");
    if (r.ok && !h.value.has("name")) r.failAt(h.path + ".name", "required field is missing");
    let hasValue = h.value.has("value");
    let value = r.optString(h, "value", "");
    m.headers.push(new HeaderMatch(name, value, !hasValue));
  }
}

function parseSteering(r: ConfigReader, node: ConfigNode | null, p: PoolConfig): void {
  if (node == null) return;
  r.rejectUnknownKeys(node, ["mode", "header", "maxEndpoints"]);
  let mode = r.optEnum(node, "mode", ["endpoint", "route"], "endpoint");
  p.mode = mode == "route" ? SteeringMode.Route : SteeringMode.Endpoint;
  p.steeringHeader = headerName(r, node, "header", p.mode == SteeringMode.Route ? ROUTE_HEADER : ENDPOINT_HEADER);
  p.maxEndpoints = <i32>r.optInt(node, "maxEndpoints", 3, 1, 8);
  if (p.mode == SteeringMode.Route && r.ok) p.maxEndpoints = 1;
}

function parseFeed(r: ConfigReader, node: ConfigNode): EndpointFeed {
  let f = new EndpointFeed();
  r.rejectUnknownKeys(node, ["cluster", "path", "authority", "intervalMs", "timeoutMs"]);
  f.cluster = r.requireString(node, "cluster");
  if (r.ok && f.cluster.length == 0) r.fail(node.child("cluster")!, "must not be empty");
  f.path = r.optString(node, "path", "/endpoints");
  if (r.ok && !f.path.startsWith("/")) r.fail(node.child("path")!, "must start with '/'");
  f.authority = r.optString(node, "authority", "");
  f.intervalMs = r.optInt(node, "intervalMs", 5000, 100, 3_600_000);
  f.timeoutMs = r.optInt(node, "timeoutMs", 1000, 10, 60_000);
  return f;
}

function parseScrape(r: ConfigReader, node: ConfigNode | null, s: ScrapeConfig): void {
  if (node == null) return;
  r.rejectUnknownKeys(node, [
    "enabled", "path", "intervalMs", "timeoutMs", "engine", "cluster", "clusterTemplate", "authority",
    "countFailuresAsUnhealthy", "leaseMs", "maxBodyBytes", "budgetPerSecond", "nameFilter",
  ]);
  s.enabled = r.optBool(node, "enabled", true);
  s.path = r.optString(node, "path", "/metrics");
  if (r.ok && !s.path.startsWith("/")) r.fail(node.child("path")!, "must start with '/'");
  s.intervalMs = r.optInt(node, "intervalMs", 50, 10, 600_000);
  s.timeoutMs = r.optInt(node, "timeoutMs", 1000, 10, 60_000);
  s.engine = engineFromName(r.optEnum(node, "engine", ENGINES, "auto"));
  s.cluster = r.optString(node, "cluster", "");
  s.clusterTemplate = r.optString(node, "clusterTemplate", "");
  s.authority = r.optString(node, "authority", "");
  s.countFailuresAsUnhealthy = r.optBool(node, "countFailuresAsUnhealthy", true);
  s.leaseMs = r.optInt(node, "leaseMs", 1000, 100, 600_000);
  s.maxBodyBytes = r.optInt(node, "maxBodyBytes", DEFAULT_SCRAPE_MAX_BODY, 1024, 256 << 20);
  s.budgetPerSecond = r.optInt(node, "budgetPerSecond", DEFAULT_SCRAPE_BUDGET, 1, 10_000);
  s.nameFilter = r.optBool(node, "nameFilter", filtersByDefault(s.engine));
}

function parseRules(r: ConfigReader, node: ConfigNode | null, into: PriorityRule[]): void {
  if (node == null) return;
  if (!r.requireObject(node)) return;
  for (let i = 0; i < node.length && r.ok; i++) {
    let key = node.value.keyAt(i);
    let child = node.child(key)!;
    into.push(new PriorityRule(key, <i32>r.intOf(child, -1000, 1000)));
  }
}

function parsePriority(r: ConfigReader, node: ConfigNode | null, p: PriorityConfig): void {
  if (node == null) return;
  r.rejectUnknownKeys(node, ["default", "models", "objectives", "objectiveHeader", "header"]);
  p.default = <i32>r.optInt(node, "default", 0, -1000, 1000);
  parseRules(r, r.optObject(node, "models"), p.models);
  parseRules(r, r.optObject(node, "objectives"), p.objectives);
  p.objectiveHeader = headerName(r, node, "objectiveHeader", p.objectiveHeader);
  p.header = headerName(r, node, "header", p.header);
}

function parseTrusted(r: ConfigReader, node: ConfigNode | null, into: TrustRule[]): void {
  if (node == null) return;
  for (let i = 0; i < node.length && r.ok; i++) {
    let t = node.at(i)!;
    if (!r.requireObject(t)) return;
    r.rejectUnknownKeys(t, ["property", "equals", "prefix"]);
    let prop = r.requireString(t, "property");
    let eq = r.optString(t, "equals", "");
    let pre = r.optString(t, "prefix", "");
    if (!r.ok) return;
    if (prop.length == 0 || prop.startsWith(".") || prop.endsWith(".")) {
      r.fail(t.child("property")!, "a dotted property path such as source.principal");
      return;
    }
    if ((eq.length == 0) == (pre.length == 0)) {
      r.fail(t, "exactly one of equals or prefix (non-empty) is required");
      return;
    }
    into.push(new TrustRule(prop, eq, pre));
  }
}

function parsePool(r: ConfigReader, node: ConfigNode, names: string[]): PoolConfig | null {
  if (!r.requireObject(node)) return null;
  r.rejectUnknownKeys(node, POOL_KEYS);
  let p = new PoolConfig();
  p.name = r.requireString(node, "name");
  if (r.ok && p.name.length == 0) r.fail(node.child("name")!, "must not be empty");
  if (r.ok && names.includes(p.name)) r.fail(node.child("name")!, "duplicate pool name " + quote(p.name));
  if (!r.ok) return null;
  parseMatch(r, r.optObject(node, "match"), p.match);
  parseSteering(r, r.optObject(node, "steering"), p);
  let eps = r.optArray(node, "endpoints");
  if (eps != null) {
    let seen: string[] = [];
    for (let i = 0; i < eps.length && r.ok; i++) {
      let en = eps.at(i)!;
      let ep = parseEndpoint(r, en, p.mode);
      if (ep == null) break;
      let key = ep.address.length > 0 ? ep.address : ep.backend;
      if (seen.includes(key)) {
        r.fail(en, "duplicate endpoint " + quote(key));
        break;
      }
      seen.push(key);
      ep.index = p.endpoints.length;
      p.endpoints.push(ep);
    }
  }
  let feed = r.optObject(node, "endpointFeed");
  if (feed != null && r.ok) p.feed = parseFeed(r, feed);
  if (r.ok && p.endpoints.length == 0 && p.feed == null) {
    r.fail(node, "needs endpoints, an endpointFeed, or both");
  }
  let fm = r.optEnum(node, "failureMode", ["FailClose", "FailOpen"], "FailClose");
  p.failOpen = fm == "FailOpen";
  if (r.ok) p.profile = parseProfile(r, node.child("profile"));
  parseScrape(r, r.optObject(node, "scrape"), p.scrape);
  let sat = r.optObject(node, "saturation");
  if (sat != null) {
    r.rejectUnknownKeys(sat, ["queueDepthThreshold", "kvCacheUtilThreshold", "metricsStalenessMs", "shedWhen"]);
    p.saturation.queueDepth = r.optNumber(sat, "queueDepthThreshold", 5, 0.000001, 1_000_000);
    p.saturation.kvCacheUtil = r.optNumber(sat, "kvCacheUtilThreshold", 0.8, 0.000001, 1);
    p.saturation.metricsStalenessMs = r.optInt(sat, "metricsStalenessMs", 200, 1, 3_600_000);
    p.saturation.shedWhenAllSaturated = r.optEnum(sat, "shedWhen", ["mean-saturated", "all-saturated"], "mean-saturated") == "all-saturated";
  }
  let pc = r.optObject(node, "prefixCache");
  if (pc != null) {
    r.rejectUnknownKeys(pc, [
      "blockSizeTokens", "blockSize", "maxBlocks", "matching", "lruCapacityPerEndpoint", "maxTotalBlocks", "memoryBudgetBytes", "shareAcrossWorkers",
    ]);
    if (r.ok && pc.child("blockSizeTokens") != null && pc.child("blockSize") != null) {
      r.fail(pc.child("blockSize")!, "give blockSizeTokens or blockSize (bytes), not both");
    }
    p.prefix.blockSize = <i32>r.optInt(pc, "blockSizeTokens", 64, 1, 16384) * 4;
    if (pc.child("blockSize") != null) p.prefix.blockSize = <i32>r.optInt(pc, "blockSize", 256, 1, 65536);
    // The EPP matches at most 131,072 tokens: maxBlocks = 131072 / blockSizeTokens (capped here).
    let tokensPerBlock = max(1, p.prefix.blockSize >> 2);
    let derived = <i32>min(<i64>MAX_PREFIX_BLOCKS, max(<i64>1, <i64>131_072 / <i64>tokensPerBlock));
    p.prefix.maxBlocks = <i32>r.optInt(pc, "maxBlocks", derived, 1, MAX_PREFIX_BLOCKS);
    p.prefix.matching = r.optEnum(pc, "matching", ["any-holder", "leading-run"], "any-holder") == "leading-run"
      ? PrefixMatching.LeadingRun : PrefixMatching.AnyHolder;
    p.prefix.lruCapacityPerEndpoint = <i32>r.optInt(pc, "lruCapacityPerEndpoint", DEFAULT_PER_ENDPOINT, 1, 1_000_000);
    p.prefix.maxTotalBlocks = <i32>r.optInt(pc, "maxTotalBlocks", DEFAULT_CAPACITY, 1, 4_194_304);
    if (pc.child("memoryBudgetBytes") != null) {
      if (pc.child("maxTotalBlocks") != null) r.fail(pc.child("memoryBudgetBytes")!, "give maxTotalBlocks or memoryBudgetBytes, not both");
      // The index's arrays are sized once; a budget picks the largest entry count that fits.
      p.prefix.maxTotalBlocks = capacityForBudget(r.optInt(pc, "memoryBudgetBytes", 0, 65_536, 268_435_456));
    }
    p.prefix.shareAcrossWorkers = r.optBool(pc, "shareAcrossWorkers", true);
  }
  parsePriority(r, r.optObject(node, "priority"), p.priority);
  parseTrusted(r, r.optArray(node, "trustedCallers"), p.trustedCallers);
  let sa = r.optObject(node, "sessionAffinity");
  if (sa != null) {
    r.rejectUnknownKeys(sa, ["header", "cookie"]);
    p.session.header = headerName(r, sa, "header", "");
    p.session.cookie = r.optString(sa, "cookie", "");
    if (r.ok && p.session.header.length == 0 && p.session.cookie.length == 0) {
      r.fail(sa, "needs header or cookie");
    }
  }
  let h = r.optObject(node, "health");
  if (h != null) {
    r.rejectUnknownKeys(h, ["failureThreshold", "baseEjectionMs", "maxEjectionMs"]);
    p.health.failureThreshold = <i32>r.optInt(h, "failureThreshold", 5, 1, 1000);
    p.health.baseEjectionMs = r.optInt(h, "baseEjectionMs", 10_000, 1, 3_600_000);
    p.health.maxEjectionMs = r.optInt(h, "maxEjectionMs", 300_000, 1, 86_400_000);
    if (r.ok && p.health.maxEjectionMs < p.health.baseEjectionMs) {
      r.fail(h.child("maxEjectionMs") != null ? h.child("maxEjectionMs")! : h, "must be >= baseEjectionMs");
    }
  }
  let loc = r.optObject(node, "locality");
  if (loc != null) {
    r.rejectUnknownKeys(loc, ["zone", "cluster"]);
    p.localZone = r.optString(loc, "zone", "");
    p.localCluster = r.optString(loc, "cluster", "");
  }
  let d = r.optObject(node, "debug");
  if (d != null) {
    r.rejectUnknownKeys(d, ["explain", "explainTop", "explainDigits", "header"]);
    p.debug.explain = r.optBool(d, "explain", false);
    p.debug.explainTop = <i32>r.optInt(d, "explainTop", 3, 1, 1024);
    p.debug.explainDigits = <i32>r.optInt(d, "explainDigits", 3, 1, 9);
    p.debug.header = headerName(r, d, "header", p.debug.header);
  }
  let fc = node.child("flowControl");
  if (fc != null && r.ok) p.flowControl = parseFlowControl(r, fc);
  if (r.ok) {
    // The saturation filter/detector only has something to go on when load is observed.
    p.saturation.metricsRequired = p.scrape.enabled;
    for (let i = 0; i < p.endpoints.length; i++) {
      if (p.endpoints[i].engine < 0) p.endpoints[i].engine = p.scrape.engine;
    }
  }
  return r.ok ? p : null;
}

/** Parses `$.pools`. Returns the pools, or an empty list with `r` holding the first error. */
/**
 * Bytes all pools' prefix indexes may take together. Envoy caps a VM's linear memory at 1 GiB
 * (proxy-wasm-cpp-host's PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES); a quarter of that for the
 * indexes leaves the rest for bodies, endpoint state and the collector's slack (the heap grows by
 * what it needs, runtime/heap.ts, but a VM past the cap traps).
 */
export const PREFIX_INDEXES_MAX_BYTES: i64 = 268_435_456;

export function parsePools(r: ConfigReader, node: ConfigNode): PoolConfig[] {
  let out: PoolConfig[] = [];
  if (!r.requireArray(node)) return out;
  let names: string[] = [];
  let indexTotal: i64 = 0;
  for (let i = 0; i < node.length && r.ok; i++) {
    let p = parsePool(r, node.at(i)!, names);
    if (p == null) break;
    if (p.profile.needsPrefix) {
      let bytes = indexBytes(p.prefix.maxTotalBlocks);
      if (indexTotal + bytes > PREFIX_INDEXES_MAX_BYTES) {
        refuseIndexBudget(r, node.at(i)!, PREFIX_INDEXES_MAX_BYTES - indexTotal);
        break;
      }
      indexTotal += bytes;
    }
    names.push(p.name);
    out.push(p);
  }
  return out;
}

/** Refuses a pool whose prefix index does not fit in `room` bytes, naming the largest value that does. */
function refuseIndexBudget(r: ConfigReader, pool: ConfigNode, room: i64): void {
  let pc = pool.child("prefixCache");
  let budget = pc != null ? pc.child("memoryBudgetBytes") : null;
  let blocks = pc != null ? pc.child("maxTotalBlocks") : null;
  let why = "the prefix indexes of all pools must fit in " + PREFIX_INDEXES_MAX_BYTES.toString() +
    " bytes (Envoy caps a VM at 1 GiB)";
  if (room < 65_536) {
    r.fail(budget != null ? budget : blocks != null ? blocks : pool, why + "; the pools before this one use it all");
  } else if (budget != null) {
    r.fail(budget, why + "; at most " + room.toString() + " fits here");
  } else {
    r.fail(blocks != null ? blocks : pool, why + "; at most maxTotalBlocks " + capacityForBudget(room).toString() + " (or memoryBudgetBytes " + room.toString() + ") fits here");
  }
}
