import { ConfigReader } from "../config/reader";
import { parseJson } from "../json/parse";
import { parsePools } from "./config";
import { PoolRuntime, PickRequest, Decision, hostOf, subsetNames } from "./runtime";
import { Admission } from "../scheduling/admission";
import { Endpoint, UNKNOWN_COUNT } from "../endpoints/endpoint";
import { encodeLoadRecord, decodeLoadRecord, applyLoadRecord, loadRecordSize, LoadRecord, encodeHealth, applyHealth, encodeInFlight, decodeInFlight, adjustInFlight, keyHash, Lease, encodeLease, decodeLease } from "./state";

function runtime(json: string): PoolRuntime {
  let r = new ConfigReader();
  let ps = parsePools(r, r.root(parseJson(json).value!));
  expect(r.ok).toBe(true, r.error);
  return new PoolRuntime(ps[0]);
}

const THREE = `[{"name":"p","endpoints":[{"address":"10.0.0.1:8000"},{"address":"10.0.0.2:8000"},{"address":"10.0.0.3:8000"}],"steering":{"maxEndpoints":2}}]`;

function prompt(s: string, req: PickRequest): ArrayBuffer {
  let b = String.UTF8.encode(s, false);
  req.promptBase = changetype<usize>(b);
  req.promptLen = b.byteLength;
  return b;
}

describe("PoolRuntime", () => {
  it("steers to the least loaded endpoint with a fallback", () => {
    let rt = runtime(THREE);
    for (let i = 0; i < 3; i++) rt.endpoints[i].metricsAtMs = 1000;
    rt.endpoints[0].waiting = 4;
    rt.endpoints[1].waiting = 0;
    rt.endpoints[2].waiting = 2;
    let d = new Decision();
    rt.decide(new PickRequest(), 1000, d);
    expect(d.admission).toBe(Admission.Route);
    expect(d.headerValue).toBe("10.0.0.2:8000,10.0.0.3:8000");
  });

  it("learns prefixes from its own decisions", () => {
    let rt = runtime(THREE);
    let req = new PickRequest();
    req.model = "m";
    let text = "";
    for (let i = 0; i < 10; i++) text += "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let keep = prompt(text, req);
    let d = new Decision();
    rt.decide(req, 1000, d);
    // 640 bytes: two 256-byte blocks and a partial one (counted, as in the EPP).
    expect(d.hashCount).toBe(3);
    let first = d.picks[0];
    rt.learn(first, rt.hashes, d.hashCount);
    // Make the learned endpoint slightly busier: prefix (3) still outweighs queue (2).
    rt.endpoints[first].waiting = 1;
    for (let i = 0; i < 5; i++) {
      rt.decide(req, 1000, d);
      expect(d.picks[0]).toBe(first);
    }
    expect(keep.byteLength).toBe(640);
  });

  it("sheds sheddable requests when saturated, 503 or pass-through when nothing is eligible", () => {
    let rt = runtime(`[{"name":"p","endpoints":[{"address":"10.0.0.1:8000"}],"scrape":{"cluster":"c"}}]`);
    let d = new Decision();
    let req = new PickRequest();
    req.priority = -1;
    rt.decide(req, 1000, d); // never scraped: stale → saturated
    expect(d.admission).toBe(Admission.Shed);
    req.priority = 0;
    rt.decide(req, 1000, d);
    expect(d.admission).toBe(Admission.Route);
    rt.endpoints[0].ejectedUntilMs = 5000;
    rt.decide(req, 1000, d);
    expect(d.admission).toBe(Admission.Unavailable);
    let open = runtime(`[{"name":"p","endpoints":[{"address":"10.0.0.1:8000"}],"failureMode":"FailOpen"}]`);
    open.endpoints[0].ejectedUntilMs = 5000;
    open.decide(req, 1000, d);
    expect(d.admission).toBe(Admission.PassThrough);
  });

  it("route mode writes the backend name", () => {
    let rt = runtime(`[{"name":"p","steering":{"mode":"route"},"endpoints":[{"backend":"b0"},{"backend":"b1"}]}]`);
    rt.endpoints[0].inFlight = 3;
    let d = new Decision();
    rt.decide(new PickRequest(), 1000, d);
    expect(d.headerValue.startsWith("b")).toBe(true);
  });

  it("keeps state across feed refreshes and frees prefix slots of removed endpoints", () => {
    let rt = runtime(`[{"name":"p","endpoints":[{"address":"10.0.0.1:8000"}],"endpointFeed":{"cluster":"feed"}}]`);
    let a = new Endpoint("10.0.0.5:8000");
    let b = new Endpoint("10.0.0.6:8000");
    rt.setEndpoints([a, b]);
    expect(rt.endpoints.length).toBe(3);
    rt.endpoints[1].waiting = 7;
    let slotB = b.slot;
    let a2 = new Endpoint("10.0.0.5:8000");
    a2.zone = "z";
    rt.setEndpoints([a2]);
    expect(rt.endpoints.length).toBe(2);
    expect(rt.endpoints[1].waiting).toBe(7);
    expect(rt.endpoints[1].zone).toBe("z");
    expect(rt.find("10.0.0.6:8000")).toBe(-1);
    let c = new Endpoint("10.0.0.7:8000");
    rt.setEndpoints([a2, c]);
    expect(c.slot).toBe(slotB);
  });
});

describe("shared state codecs", () => {
  it("load record round trip (unknown values, adapter names with any character), never going back in time", () => {
    let src = new Endpoint("10.0.0.1:80");
    src.waiting = 3; src.kvUsage = 0.25; src.metricsAtMs = 500; src.activeLoras = ["a", "b\tc\nd,e\u0000\"\\é"]; src.maxLora = 2;
    let rec = new LoadRecord();
    let buf = encodeLoadRecord(src);
    expect(buf.byteLength).toBe(loadRecordSize(src));
    expect(decodeLoadRecord(buf, 0, rec)).toBe(true);
    expect(rec.key).toBe("10.0.0.1:80");
    expect(rec.running).toBe(UNKNOWN_COUNT);
    let dst = [new Endpoint("10.0.0.1:80"), new Endpoint("10.0.0.2:80")];
    let idx = new Map<string, i32>();
    idx.set("10.0.0.1:80", 0);
    idx.set("10.0.0.2:80", 1);
    expect(applyLoadRecord(rec, dst, idx)).toBe(true);
    expect(dst[0].waiting).toBe(3);
    expect(dst[0].running).toBe(UNKNOWN_COUNT);
    expect(dst[0].activeLoras.length).toBe(2);
    expect(dst[0].activeLoras[1]).toBe("b\tc\nd,e\u0000\"\\é");
    expect(dst[1].metricsAtMs).toBe(-1);
    dst[0].metricsAtMs = 900;
    dst[0].waiting = 1;
    expect(applyLoadRecord(rec, dst, idx)).toBe(false);
    expect(dst[0].waiting).toBe(1);
    // Every cut of a valid record, and bad values, are refused whole.
    for (let n = 0; n < buf.byteLength; n++) expect(decodeLoadRecord(buf.slice(0, n), 0, rec)).toBe(false);
    let bad = buf.slice(0);
    store<f64>(changetype<usize>(bad) + 20, 1.5);
    expect(decodeLoadRecord(bad, 0, rec)).toBe(false);
    let longer = new ArrayBuffer(buf.byteLength + 1);
    memory.copy(changetype<usize>(longer), changetype<usize>(buf), buf.byteLength);
    expect(decodeLoadRecord(longer, 0, rec)).toBe(false);
  });

  it("health table round trip resets absent endpoints", () => {
    let src = [new Endpoint("10.0.0.1:80"), new Endpoint("10.0.0.2:80")];
    src[1].ejectedUntilMs = 9000; src[1].ejectionCount = 1;
    let dst = [new Endpoint("10.0.0.1:80"), new Endpoint("10.0.0.2:80")];
    dst[0].consecutiveFailures = 2;
    let idx = new Map<string, i32>();
    idx.set("10.0.0.1:80", 0);
    idx.set("10.0.0.2:80", 1);
    applyHealth(encodeHealth(src), dst, idx);
    expect(dst[0].consecutiveFailures).toBe(0);
    expect(dst[1].ejectedUntilMs).toBe(9000);
  });

  it("in-flight pairs drop zero counts", () => {
    let h: u64[] = [];
    let c: i32[] = [];
    adjustInFlight(h, c, keyHash("a"), 1);
    adjustInFlight(h, c, keyHash("b"), 2);
    adjustInFlight(h, c, keyHash("a"), -1);
    adjustInFlight(h, c, keyHash("z"), -1);
    let buf = encodeInFlight(h, c);
    expect(buf.byteLength).toBe(12);
    let h2: u64[] = [];
    let c2: i32[] = [];
    expect(decodeInFlight(buf, h2, c2)).toBe(true);
    expect(h2[0]).toBe(keyHash("b"));
    expect(c2[0]).toBe(2);
    expect(decodeInFlight(new ArrayBuffer(5), h2, c2)).toBe(false);
  });

  it("lease round trip", () => {
    let l = new Lease();
    l.holder = 7; l.expiresAtMs = 123456789; l.lastRoundMs = 42;
    let m = new Lease();
    expect(decodeLease(encodeLease(l), m)).toBe(true);
    expect(m.holder).toBe(7);
    expect(m.expiresAtMs).toBe(123456789);
    expect(decodeLease(new ArrayBuffer(3), m)).toBe(false);
  });

  it("honours the candidate subset hint by IP, before shedding and scheduling", () => {
    let rt = runtime(`[{"name":"p","endpoints":[{"address":"10.0.0.1:8000"},{"address":"10.0.0.2:8000"},{"address":"10.0.0.3:8000"}],"scrape":{"cluster":"c"}}]`);
    for (let i = 0; i < 3; i++) rt.endpoints[i].metricsAtMs = 1000;
    rt.endpoints[0].waiting = 0;
    rt.endpoints[1].waiting = 20; // saturation 4
    rt.endpoints[2].waiting = 1;
    let d = new Decision();
    let req = new PickRequest();
    req.subset = "10.0.0.3, 10.0.0.2:9999";
    rt.decide(req, 1000, d);
    expect(d.headerValue).toBe("10.0.0.3:8000,10.0.0.2:8000");
    // Sheddable: mean over the located subset (4 + 0.2) / 2 >= 1 sheds, though 10.0.0.3 is idle.
    req.priority = -1;
    rt.decide(req, 1000, d);
    expect(d.admission).toBe(Admission.Shed);
    // Without the hint the mean over all three is 1.4: shed as well; with only 0 and 2, routed.
    req.subset = "10.0.0.1:8000,10.0.0.3:8000";
    rt.decide(req, 1000, d);
    expect(d.admission).toBe(Admission.Route);
    // A hint naming no endpoint leaves no candidate: 503 (or 429 when sheddable).
    req.subset = "192.0.2.1:8000";
    rt.decide(req, 1000, d);
    expect(d.admission).toBe(Admission.Shed);
    req.priority = 0;
    rt.decide(req, 1000, d);
    expect(d.admission).toBe(Admission.Unavailable);
  });

  it("parses subset items as the EPP does (port ignored)", () => {
    expect(hostOf("10.0.0.1:8000")).toBe("10.0.0.1");
    expect(hostOf("[fd00::1]:8000")).toBe("fd00::1");
    expect(subsetNames("10.0.0.1:1,10.0.0.2", "10.0.0.2")).toBe(true);
    expect(subsetNames("10.0.0.1:1", "10.0.0.1")).toBe(true);
    expect(subsetNames("10.0.0.11", "10.0.0.1")).toBe(false);
    expect(subsetNames("", "10.0.0.1")).toBe(false);
    expect(subsetNames("[fd00::1]:8000", "fd00::1")).toBe(true);
  });
});
