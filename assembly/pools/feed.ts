// Endpoint feed body: the JSON a pool's `endpointFeed` cluster returns, either a bare array of
// endpoint objects or `{"endpoints": [...]}`; each object has the fields of a config endpoint.
// Unlike config, a feed is live data: a malformed body is refused as a whole (the previous list
// stays), but a malformed entry is skipped and counted so one bad row cannot drain the pool.
import { parseJson } from "../json/parse";
import { ConfigReader, ConfigNode } from "../config/reader";
import { Endpoint } from "../endpoints/endpoint";
import { SteeringMode, parseEndpoint } from "./config";

/** Upper bound on endpoints accepted from one feed body. */
export const MAX_FEED_ENDPOINTS: i32 = 4096;

export class FeedResult {
  ok: bool = false;
  error: string = "";
  endpoints: Endpoint[] = [];
  /** Entries skipped (invalid, duplicate, or over the limit). */
  skipped: i32 = 0;
  /** First skipped entry's reason, for the log. */
  firstSkip: string = "";
}

export function parseEndpointFeed(text: string, mode: SteeringMode): FeedResult {
  let res = new FeedResult();
  let parsed = parseJson(text);
  if (!parsed.ok) {
    res.error = "invalid JSON: " + parsed.error;
    return res;
  }
  let root = new ConfigNode(parsed.value!, "$");
  let list: ConfigNode | null = null;
  if (root.value.isArray()) {
    list = root;
  } else if (root.value.isObject()) {
    let child = root.child("endpoints");
    if (child != null && child.value.isArray()) list = child;
  }
  if (list == null) {
    res.error = "expected an array of endpoints or {\"endpoints\": [...]}";
    return res;
  }
  // Keys seen so far → endpoint index: a Map of the instantiation PoolRuntime uses, not a
  // Set<string> (one hash table's code fewer in the module).
  let seen = new Map<string, i32>();
  for (let i = 0; i < list.length; i++) {
    if (res.endpoints.length >= MAX_FEED_ENDPOINTS) {
      res.skipped += list.length - i;
      if (res.firstSkip.length == 0) res.firstSkip = "more than " + MAX_FEED_ENDPOINTS.toString() + " endpoints";
      break;
    }
    let r = new ConfigReader();
    let node = list.at(i)!;
    let ep = parseEndpoint(r, node, mode);
    if (ep == null) {
      res.skipped++;
      if (res.firstSkip.length == 0) res.firstSkip = r.error;
      continue;
    }
    let key = ep.address.length > 0 ? ep.address : ep.backend;
    if (seen.has(key)) {
      res.skipped++;
      if (res.firstSkip.length == 0) res.firstSkip = node.path + ": duplicate endpoint " + key;
      continue;
    }
    seen.set(key, res.endpoints.length);
    ep.index = res.endpoints.length;
    res.endpoints.push(ep);
  }
  res.ok = true;
  return res;
}
