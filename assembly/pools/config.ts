// The `pools` config section: an array of inference pools, each matched by authority / path
// prefix / header, with static endpoints and/or an endpoint feed, a steering mode, a failure
// mode, a scheduling profile, metrics scraping, saturation thresholds, the prefix-cache index
// size, priorities, trusted callers, session affinity, passive health and debug explanations.
// Mirrors schemas/pools.schema.json exactly; every refusal names the JSON path.
import { ConfigReader, ConfigNode, quote } from "../config/reader";
import {
  BOOL, CUSTOM, ENUM, ENUM_BOOL, HEADER, INT32, INT64, NON_EMPTY, NUMBER, PATH, REQUIRED, STRING,
} from "../config/fields";
import { checkAddress } from "../endpoints/address";
import { Endpoint, Engine } from "../endpoints/endpoint";
import { HealthPolicy } from "../endpoints/health";
import { SaturationThresholds } from "../scheduling/saturation";
import { Profile, parseProfile } from "../scheduling/profile";
import { DEFAULT_CAPACITY, DEFAULT_PER_ENDPOINT, capacityForBudget, indexBytes } from "../prefix/index";
import { FlowControlConfig, parseFlowControl } from "../flow/config";

export const ENDPOINT_HEADER = "x-gateway-destination-endpoint";
export const ROUTE_HEADER = "x-wayroute-backend";
/** Engine names, in Engine order (a field table's choices, fields.ts). */
export const ENGINES = "auto vllm sglang trtllm-serve triton-trtllm";

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

// Each reader below declares the fields of its object first (config/fields.ts): the keys in the
// order they are read, and one row per key. They are locals, not module constants: a module-level
// string constant is a collector root (a visit each in the module's root scan), a local is not.

/** Parses one endpoint object (config or feed). `mode` decides which fields are required. */
export function parseEndpoint(r: ConfigReader, node: ConfigNode, mode: SteeringMode): Endpoint | null {
  const KEYS = "address zone cluster network engine weight backend metricsCluster";
  const FIELDS = memory.data<f64>([
    CUSTOM, 0, 0, 0, // address: required in endpoint mode, checked by checkAddress
    STRING, offsetof<Endpoint>("zone"), 0, 0,
    STRING, offsetof<Endpoint>("cluster"), 0, 0,
    STRING, offsetof<Endpoint>("network"), 0, 0,
    ENUM, offsetof<Endpoint>("engine"), 0, 0, // ENGINES
    NUMBER, offsetof<Endpoint>("weight"), 0.000001, 1_000_000,
    STRING, offsetof<Endpoint>("backend"), 0, 0,
    STRING, offsetof<Endpoint>("metricsCluster"), 0, 0,
  ]);
  if (!r.requireObject(node)) return null;
  r.rejectUnknown(node, KEYS);
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
  ep.engine = -1; // absent: the pool's scrape engine (parsePool)
  r.readFields(node, ep, KEYS, FIELDS, 1, ENGINES);
  if (r.ok && mode == SteeringMode.Route && ep.backend.length == 0) {
    r.failAt(node.path + ".backend", "required in route mode (the backend name the route header carries)");
  }
  return r.ok ? ep : null;
}

function parseMatch(r: ConfigReader, node: ConfigNode | null, m: PoolMatch): void {
  const KEYS = "authority pathPrefix headers";
  const FIELDS = memory.data<f64>([
    STRING, offsetof<PoolMatch>("authority"), 0, 0,
    STRING, offsetof<PoolMatch>("pathPrefix"), 0, 0, // "" or a path
    CUSTOM, 0, 0, 0, // headers
  ]);
  const HEADER_KEYS = "name value";
  const HEADER_FIELDS = memory.data<f64>([
    HEADER + REQUIRED, offsetof<HeaderMatch>("name"), 0, 0,
    STRING, offsetof<HeaderMatch>("value"), 0, 0,
  ]);
  if (node == null) return;
  r.readObject(node, m, KEYS, FIELDS);
  if (r.ok && m.pathPrefix.length > 0 && !m.pathPrefix.startsWith("/")) {
    r.fail(node.child("pathPrefix")!, "must start with '/'");
  }
  m.authority = m.authority.toLowerCase();
  let headers = r.optArray(node, "headers");
  if (headers == null) return;
  for (let i = 0; i < headers.length && r.ok; i++) {
    let h = headers.at(i)!;
    if (!r.requireObject(h)) return;
    let hm = new HeaderMatch("", "", !h.value.has("value"));
    r.readObject(h, hm, HEADER_KEYS, HEADER_FIELDS);
    m.headers.push(hm);
  }
}

function parseSteering(r: ConfigReader, node: ConfigNode | null, p: PoolConfig): void {
  const KEYS = "mode header maxEndpoints";
  const FIELDS = memory.data<f64>([
    ENUM, offsetof<PoolConfig>("mode"), 0, 0, // endpoint route
    HEADER, offsetof<PoolConfig>("steeringHeader"), 0, 0, // absent: the mode's header
    INT32, offsetof<PoolConfig>("maxEndpoints"), 1, 8,
  ]);
  if (node == null) return;
  r.readObject(node, p, KEYS, FIELDS, "endpoint route");
  if (p.mode == SteeringMode.Route && node.child("header") == null) p.steeringHeader = ROUTE_HEADER;
  if (p.mode == SteeringMode.Route && r.ok) p.maxEndpoints = 1;
}

function parseFeed(r: ConfigReader, node: ConfigNode): EndpointFeed {
  const KEYS = "cluster path authority intervalMs timeoutMs";
  const FIELDS = memory.data<f64>([
    STRING + REQUIRED + NON_EMPTY, offsetof<EndpointFeed>("cluster"), 0, 0,
    PATH, offsetof<EndpointFeed>("path"), 0, 0,
    STRING, offsetof<EndpointFeed>("authority"), 0, 0,
    INT64, offsetof<EndpointFeed>("intervalMs"), 100, 3_600_000,
    INT64, offsetof<EndpointFeed>("timeoutMs"), 10, 60_000,
  ]);
  let f = new EndpointFeed();
  r.readObject(node, f, KEYS, FIELDS);
  return f;
}

function parseScrape(r: ConfigReader, node: ConfigNode | null, s: ScrapeConfig): void {
  const KEYS = `enabled path intervalMs timeoutMs engine cluster clusterTemplate authority
    countFailuresAsUnhealthy leaseMs maxBodyBytes budgetPerSecond nameFilter`;
  const FIELDS = memory.data<f64>([
    BOOL, offsetof<ScrapeConfig>("enabled"), 0, 0,
    PATH, offsetof<ScrapeConfig>("path"), 0, 0,
    INT64, offsetof<ScrapeConfig>("intervalMs"), 10, 600_000,
    INT64, offsetof<ScrapeConfig>("timeoutMs"), 10, 60_000,
    ENUM, offsetof<ScrapeConfig>("engine"), 0, 0, // ENGINES
    STRING, offsetof<ScrapeConfig>("cluster"), 0, 0,
    STRING, offsetof<ScrapeConfig>("clusterTemplate"), 0, 0,
    STRING, offsetof<ScrapeConfig>("authority"), 0, 0,
    BOOL, offsetof<ScrapeConfig>("countFailuresAsUnhealthy"), 0, 0,
    INT64, offsetof<ScrapeConfig>("leaseMs"), 100, 600_000,
    INT64, offsetof<ScrapeConfig>("maxBodyBytes"), 1024, 268_435_456, // 256 MiB
    INT64, offsetof<ScrapeConfig>("budgetPerSecond"), 1, 10_000,
    BOOL, offsetof<ScrapeConfig>("nameFilter"), 0, 0, // absent: filtersByDefault(engine)
  ]);
  if (node == null) return;
  s.enabled = true; // a scrape block turns scraping on unless it says otherwise
  r.readObject(node, s, KEYS, FIELDS, ENGINES);
  if (node.child("nameFilter") == null) s.nameFilter = filtersByDefault(s.engine);
}

function parseSaturation(r: ConfigReader, node: ConfigNode | null, s: SaturationThresholds): void {
  const KEYS = "queueDepthThreshold kvCacheUtilThreshold metricsStalenessMs shedWhen";
  const FIELDS = memory.data<f64>([
    NUMBER, offsetof<SaturationThresholds>("queueDepth"), 0.000001, 1_000_000,
    NUMBER, offsetof<SaturationThresholds>("kvCacheUtil"), 0.000001, 1,
    INT64, offsetof<SaturationThresholds>("metricsStalenessMs"), 1, 3_600_000,
    ENUM_BOOL, offsetof<SaturationThresholds>("shedWhenAllSaturated"), 0, 0, // mean-saturated all-saturated
  ]);
  if (node != null) r.readObject(node, s, KEYS, FIELDS, "mean-saturated all-saturated");
}

function parsePrefixCache(r: ConfigReader, pc: ConfigNode | null, c: PrefixCacheConfig): void {
  const KEYS = `blockSizeTokens blockSize maxBlocks matching lruCapacityPerEndpoint maxTotalBlocks
    memoryBudgetBytes shareAcrossWorkers`;
  const FIELDS = memory.data<f64>([
    CUSTOM, 0, 0, 0, // blockSizeTokens: x 4 bytes
    INT32, offsetof<PrefixCacheConfig>("blockSize"), 1, 65536,
    INT32, offsetof<PrefixCacheConfig>("maxBlocks"), 1, MAX_PREFIX_BLOCKS, // absent: from the block size
    ENUM, offsetof<PrefixCacheConfig>("matching"), 0, 0, // any-holder leading-run
    INT32, offsetof<PrefixCacheConfig>("lruCapacityPerEndpoint"), 1, 1_000_000,
    INT32, offsetof<PrefixCacheConfig>("maxTotalBlocks"), 1, 4_194_304,
    CUSTOM, 0, 0, 0, // memoryBudgetBytes: sets maxTotalBlocks
    BOOL, offsetof<PrefixCacheConfig>("shareAcrossWorkers"), 0, 0,
  ]);
  if (pc == null) return;
  r.rejectUnknown(pc, KEYS);
  if (r.ok && pc.child("blockSizeTokens") != null && pc.child("blockSize") != null) {
    r.fail(pc.child("blockSize")!, "give blockSizeTokens or blockSize (bytes), not both");
  }
  c.blockSize = <i32>r.optInt(pc, "blockSizeTokens", 64, 1, 16384) * 4;
  let next = r.readFields(pc, c, KEYS, FIELDS, 1, "any-holder leading-run"); // up to memoryBudgetBytes
  if (pc.child("maxBlocks") == null) {
    // The EPP matches at most 131,072 tokens: maxBlocks = 131072 / blockSizeTokens (capped here).
    let tokensPerBlock = max(1, c.blockSize >> 2);
    c.maxBlocks = <i32>min(<i64>MAX_PREFIX_BLOCKS, max(<i64>1, <i64>131_072 / <i64>tokensPerBlock));
  }
  if (pc.child("memoryBudgetBytes") != null) {
    if (pc.child("maxTotalBlocks") != null) r.fail(pc.child("memoryBudgetBytes")!, "give maxTotalBlocks or memoryBudgetBytes, not both");
    // The index's arrays are sized once; a budget picks the largest entry count that fits.
    c.maxTotalBlocks = capacityForBudget(r.optInt(pc, "memoryBudgetBytes", 0, 65_536, 268_435_456));
  }
  r.readFields(pc, c, KEYS, FIELDS, next + 1);
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
  const KEYS = "default models objectives objectiveHeader header";
  const FIELDS = memory.data<f64>([
    INT32, offsetof<PriorityConfig>("default"), -1000, 1000,
    CUSTOM, 0, 0, 0, // models
    CUSTOM, 0, 0, 0, // objectives
    HEADER, offsetof<PriorityConfig>("objectiveHeader"), 0, 0,
    HEADER, offsetof<PriorityConfig>("header"), 0, 0,
  ]);
  if (node == null) return;
  let next = r.readObject(node, p, KEYS, FIELDS); // stops at models
  parseRules(r, r.optObject(node, "models"), p.models);
  parseRules(r, r.optObject(node, "objectives"), p.objectives);
  r.readFields(node, p, KEYS, FIELDS, next + 2);
}

function parseTrusted(r: ConfigReader, node: ConfigNode | null, into: TrustRule[]): void {
  const KEYS = "property equals prefix";
  const FIELDS = memory.data<f64>([
    STRING + REQUIRED, offsetof<TrustRule>("property"), 0, 0,
    STRING, offsetof<TrustRule>("equals"), 0, 0,
    STRING, offsetof<TrustRule>("prefix"), 0, 0,
  ]);
  if (node == null) return;
  for (let i = 0; i < node.length && r.ok; i++) {
    let t = node.at(i)!;
    if (!r.requireObject(t)) return;
    let rule = new TrustRule("", "", "");
    r.readObject(t, rule, KEYS, FIELDS);
    if (!r.ok) return;
    let prop = rule.property;
    if (prop.length == 0 || prop.startsWith(".") || prop.endsWith(".")) {
      r.fail(t.child("property")!, "a dotted property path such as source.principal");
      return;
    }
    if ((rule.equals.length == 0) == (rule.prefix.length == 0)) {
      r.fail(t, "exactly one of equals or prefix (non-empty) is required");
      return;
    }
    into.push(rule);
  }
}

function parseSession(r: ConfigReader, node: ConfigNode | null, s: SessionAffinityConfig): void {
  const KEYS = "header cookie";
  const FIELDS = memory.data<f64>([
    HEADER, offsetof<SessionAffinityConfig>("header"), 0, 0,
    STRING, offsetof<SessionAffinityConfig>("cookie"), 0, 0,
  ]);
  if (node == null) return;
  r.readObject(node, s, KEYS, FIELDS);
  if (r.ok && s.header.length == 0 && s.cookie.length == 0) r.fail(node, "needs header or cookie");
}

function parseHealth(r: ConfigReader, node: ConfigNode | null, h: HealthPolicy): void {
  const KEYS = "failureThreshold baseEjectionMs maxEjectionMs";
  const FIELDS = memory.data<f64>([
    INT32, offsetof<HealthPolicy>("failureThreshold"), 1, 1000,
    INT64, offsetof<HealthPolicy>("baseEjectionMs"), 1, 3_600_000,
    INT64, offsetof<HealthPolicy>("maxEjectionMs"), 1, 86_400_000,
  ]);
  if (node == null) return;
  r.readObject(node, h, KEYS, FIELDS);
  if (r.ok && h.maxEjectionMs < h.baseEjectionMs) {
    r.fail(node.child("maxEjectionMs") != null ? node.child("maxEjectionMs")! : node, "must be >= baseEjectionMs");
  }
}

function parseLocality(r: ConfigReader, node: ConfigNode | null, p: PoolConfig): void {
  const KEYS = "zone cluster";
  const FIELDS = memory.data<f64>([
    STRING, offsetof<PoolConfig>("localZone"), 0, 0,
    STRING, offsetof<PoolConfig>("localCluster"), 0, 0,
  ]);
  if (node != null) r.readObject(node, p, KEYS, FIELDS);
}

function parseDebug(r: ConfigReader, node: ConfigNode | null, d: DebugConfig): void {
  const KEYS = "explain explainTop explainDigits header";
  const FIELDS = memory.data<f64>([
    BOOL, offsetof<DebugConfig>("explain"), 0, 0,
    INT32, offsetof<DebugConfig>("explainTop"), 1, 1024,
    INT32, offsetof<DebugConfig>("explainDigits"), 1, 9,
    HEADER, offsetof<DebugConfig>("header"), 0, 0,
  ]);
  if (node != null) r.readObject(node, d, KEYS, FIELDS);
}

function parsePool(r: ConfigReader, node: ConfigNode, names: string[]): PoolConfig | null {
  if (!r.requireObject(node)) return null;
  r.rejectUnknown(node, `name match endpoints endpointFeed steering failureMode profile scrape saturation prefixCache
    priority trustedCallers sessionAffinity health locality debug flowControl`);
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
  parseSaturation(r, r.optObject(node, "saturation"), p.saturation);
  parsePrefixCache(r, r.optObject(node, "prefixCache"), p.prefix);
  parsePriority(r, r.optObject(node, "priority"), p.priority);
  parseTrusted(r, r.optArray(node, "trustedCallers"), p.trustedCallers);
  parseSession(r, r.optObject(node, "sessionAffinity"), p.session);
  parseHealth(r, r.optObject(node, "health"), p.health);
  parseLocality(r, r.optObject(node, "locality"), p);
  parseDebug(r, r.optObject(node, "debug"), p.debug);
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
