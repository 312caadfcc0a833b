/**
 * `wayroute manifest --mode endpoint --endpoint-cluster original_dst`: an ORIGINAL_DST cluster
 * with use_http_header connects wherever the destination header says, so the command warns when
 * the config lets a client-chosen value through (trusted callers, FAIL_OPEN, a rule copying a
 * request header into it), and stays quiet when the plugin strips it on every request.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../oci/helpers.js";
import { originalDstWarnings } from "../../src/manifest/steering-warnings.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wayroute-hostile-manifest-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const POOL = { name: "p", endpoints: [{ address: "10.0.0.1:8000" }], steering: { mode: "endpoint", maxEndpoints: 1 } };

async function manifest(config: Record<string, unknown>, extra: string[] = []) {
  const cfg = join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(cfg, JSON.stringify(config));
  return runCli(["manifest", "--mode", "endpoint", "--endpoint-cluster", "original_dst", "--config", cfg, ...extra]);
}

describe("ORIGINAL_DST + use_http_header warning", () => {
  it("is quiet when the plugin strips the header on every request (the default)", async () => {
    const r = await manifest({ pools: [POOL] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    const [envoy] = parseAllDocuments(r.stdout).map((d) => d.toJS());
    const cluster = envoy.static_resources.clusters[0];
    expect(cluster.type).toBe("ORIGINAL_DST");
    expect(cluster.original_dst_lb_config).toEqual({ use_http_header: true, http_header_name: "x-gateway-destination-endpoint" });
  });

  it("warns about trusted callers, FAIL_OPEN, and rules that copy a request header into it", async () => {
    const trusted = await manifest({ pools: [POOL], steering: { trustedCallers: [{ properties: [{ path: "source.principal", prefix: "spiffe://x/" }] }] } });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stderr).toMatch(/^warning: callers matching steering.trustedCallers keep x-gateway-destination-endpoint/m);

    const open = await manifest({ pools: [POOL] }, ["--fail-strategy", "FAIL_OPEN"]);
    expect(open.stderr).toMatch(/^warning: failStrategy FAIL_OPEN/m);

    const copy = await manifest({ pools: [POOL], rules: [{ name: "pass-through", request: { set: { "x-gateway-destination-endpoint": "{{header:x-target}}" } } }] });
    expect(copy.stderr).toMatch(/^warning: rule pass-through sets x-gateway-destination-endpoint from request header x-target/m);
  });

  it("does not warn for override_host clusters (they pick only among their own hosts)", async () => {
    const cfg = join(dir, "trusted-override.json");
    await writeFile(cfg, JSON.stringify({ pools: [POOL], steering: { trustedCallers: [{ properties: [{ path: "source.principal", equals: "x" }] }] } }));
    const r = await runCli(["manifest", "--mode", "endpoint", "--config", cfg]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
  });

  it("names a pool's own destination header and renamed headers", () => {
    const w = originalDstWarnings({ pools: [{ steering: { header: "x-pick" } }], rules: [{ request: { rename: { "x-client-pick": "x-pick" } } }] }, "FAIL_CLOSE");
    expect(w).toEqual(["rule rules[0] renames request header x-client-pick to x-pick: a client chooses the ORIGINAL_DST address"]);
    expect(originalDstWarnings({}, "FAIL_CLOSE")).toEqual([]);
  });
});
