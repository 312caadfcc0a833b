import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tinyWasm } from "../oci/helpers.js";
import { wasmPluginProblems } from "../../src/manifest/crd-schema.js";
import { configSteeringMode, configRouteHeader } from "../../src/manifest/generate.js";
import { dns1123LabelProblem, dns1123SubdomainProblem } from "../../src/manifest/k8s-names.js";
import { pluginConfigProblems } from "../../src/manifest/plugin-config.js";
import { buildRouteMode, replicaBackends } from "../../src/manifest/route-mode.js";
import { waypointServiceCluster, withWaypointScrapeClusters } from "../../src/manifest/waypoint-clusters.js";
import { findSchemasDir } from "../../src/manifest/schemas-dir.js";
import { standaloneBootstrap } from "../../src/envoy/standalone.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const IMAGE = `registry.example.com/wayroute/plugin:1@${DIGEST}`;
const schemas = findSchemasDir();
let dir: string;

afterAll(() => rm(dir, { recursive: true, force: true }));
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wayroute-manifest-"));
});

const docsOf = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS());
const route = ["manifest", "--mode", "route", "--service", "vllm", "--statefulset", "vllm", "--replicas", "3"];

describe("WasmPlugin", () => {
  it("targets the waypoint Gateway, pins the image by digest, and passes the CRD schema", async () => {
    const r = await runCli([...route, "--image", IMAGE, "--phase", "AUTHZ", "--priority", "10", "--image-pull-secret", "regcred", "--plugin-name", "wayroute-root"]);
    expect(r.code, r.stderr).toBe(0);
    const wp = docsOf(r.stdout).find((d) => d.kind === "WasmPlugin");
    expect(wp.spec.targetRefs).toEqual([{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint" }]);
    expect(wp.spec.selector).toBeUndefined();
    expect(wp.spec.url).toBe(`oci://${IMAGE}`);
    expect(wp.spec.sha256).toBe("ab".repeat(32));
    expect(wp.spec).toMatchObject({ phase: "AUTHZ", priority: 10, imagePullSecret: "regcred", pluginName: "wayroute-root", failStrategy: "FAIL_CLOSE" });
    expect(wasmPluginProblems(wp, schemas)).toEqual([]);
  });

  it("can target Services instead of the waypoint", async () => {
    const r = await runCli([...route, "--image", IMAGE, "--target-service", "vllm", "--no-gateway", "--no-namespace"]);
    expect(r.code, r.stderr).toBe(0);
    const docs = docsOf(r.stdout);
    expect(docs.map((d) => d.kind)).not.toContain("Gateway");
    expect(docs.find((d) => d.kind === "WasmPlugin").spec.targetRefs).toEqual([{ group: "", kind: "Service", name: "vllm" }]);
  });

  it("oci:// sha256 is the manifest digest taken from a packed layout", async () => {
    await writeFile(join(dir, "p.wasm"), tinyWasm(5));
    const packed = await runCli(["pack", "--wasm", join(dir, "p.wasm"), "--out", join(dir, "layout"), "--version", "1", "--revision", "x"]);
    const digest = packed.stdout.trim();
    const r = await runCli([...route, "--image", "registry.example.com/wayroute/plugin:1", "--layout", join(dir, "layout")]);
    expect(r.code, r.stderr).toBe(0);
    const wp = docsOf(r.stdout).find((d) => d.kind === "WasmPlugin");
    expect(wp.spec.sha256).toBe(digest.slice(7));
    expect(wp.spec.url).toBe(`oci://registry.example.com/wayroute/plugin:1@${digest}`);
  });

  it("https:// sha256 is the sha256 of the wasm file itself", async () => {
    const wasm = tinyWasm(9);
    await writeFile(join(dir, "h.wasm"), wasm);
    const r = await runCli([...route, "--url", "https://files.example.com/plugin.wasm", "--wasm", join(dir, "h.wasm")]);
    expect(r.code, r.stderr).toBe(0);
    const wp = docsOf(r.stdout).find((d) => d.kind === "WasmPlugin");
    expect(wp.spec.sha256).toBe(createHash("sha256").update(wasm).digest("hex"));
  });

  it("refuses an unpinned image", async () => {
    const r = await runCli([...route, "--image", "registry.example.com/wayroute/plugin:1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pin the image by digest/);
  });

  it("CRD validation names the field", () => {
    const bad = { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: { name: "w" }, spec: { url: "oci://x/y@" + DIGEST, sha256: "sha256:" + "ab".repeat(32), failStrategy: "SOMETIMES", imagePullSecret: "", selector: {}, targetRefs: [] } };
    const problems = wasmPluginProblems(bad, schemas);
    expect(problems).toContain('$.spec.sha256 must match pattern "(^$|^[a-f0-9]{64}$)"');
    expect(problems).toContain('$.spec.failStrategy must be one of "FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"');
    expect(problems).toContain("$.spec.imagePullSecret must NOT have fewer than 1 characters");
    expect(problems).toContain("$.spec only one of targetRefs or selector can be set");
    expect(wasmPluginProblems({ ...bad, spec: { url: "gopher://x" } }, schemas)).toContain("$.spec.url must have schema one of [http, https, file, oci]");
    expect(wasmPluginProblems({ ...bad, spec: {} }, schemas)).toContain("$.spec.url is required");
  });
});

describe("route mode objects", () => {
  it("per-replica Services select one pod each and the HTTPRoute maps header values to them", async () => {
    const r = await runCli([...route, "--image", IMAGE, "--route-header", "x-pick", "--port", "8080", "--target-port", "8000"]);
    const docs = docsOf(r.stdout);
    const services = docs.filter((d) => d.kind === "Service");
    expect(services.map((s) => s.metadata.name)).toEqual(["vllm-0", "vllm-1", "vllm-2"]);
    expect(services[1].spec.selector).toEqual({ "statefulset.kubernetes.io/pod-name": "vllm-1" });
    expect(services[1].spec.ports[0]).toMatchObject({ port: 8080, targetPort: 8000 });
    const httpRoute = docs.find((d) => d.kind === "HTTPRoute");
    expect(httpRoute.spec.parentRefs).toEqual([{ group: "", kind: "Service", name: "vllm", port: 8080 }]);
    expect(httpRoute.spec.rules[2]).toEqual({
      matches: [{ headers: [{ type: "Exact", name: "x-pick", value: "vllm-2" }] }],
      backendRefs: [{ name: "vllm-2", port: 8080 }],
    });
    expect(httpRoute.spec.rules[3]).toEqual({ backendRefs: [{ name: "vllm", port: 8080 }] });
  });

  it("explicit --route-backends map names to Services", async () => {
    const r = await runCli(["manifest", "--service", "models", "--image", IMAGE, "--route-backends", "llama=llama-pool,qwen=qwen-pool"]);
    expect(r.code, r.stderr).toBe(0);
    const rules = docsOf(r.stdout).find((d) => d.kind === "HTTPRoute").spec.rules;
    expect(rules.map((x: { backendRefs: { name: string }[] }) => x.backendRefs[0].name)).toEqual(["llama-pool", "qwen-pool", "models"]);
    expect(rules[0].matches[0].headers[0]).toEqual({ type: "Exact", name: "x-wayroute-backend", value: "llama" });
  });

  it("splits more than 16 rules over several HTTPRoutes (Gateway API limit)", () => {
    const docs = buildRouteMode({ namespace: "ns", service: "vllm", port: 8000, header: "x-b", backends: replicaBackends("vllm", 20) });
    const routes = docs.filter((d) => d.kind === "HTTPRoute") as { metadata: { name: string }; spec: { rules: unknown[] } }[];
    expect(routes.map((r) => r.metadata.name)).toEqual(["vllm-wayroute-0", "vllm-wayroute-1"]);
    expect(routes.map((r) => r.spec.rules.length)).toEqual([16, 5]);
  });

  it("reads the steering mode and header from pools[*].steering", () => {
    expect(configSteeringMode({ pools: [{ steering: { mode: "route", header: "x-pool" } }] })).toBe("route");
    expect(configRouteHeader({ pools: [{ steering: { mode: "route", header: "x-pool" } }] })).toBe("x-pool");
    expect(configSteeringMode({ pools: [{ steering: { mode: "endpoint" } }] })).toBe("endpoint");
    expect(configSteeringMode({})).toBeUndefined();
    expect(() => configSteeringMode({ pools: [{ steering: { mode: "route" } }, { steering: { mode: "endpoint" } }] })).toThrow(/mixes route and endpoint/);
  });
});

describe("scrape clusters a waypoint really has", () => {
  // Istio pilot (pilot/pkg/networking/core/cluster_waypoint.go): a waypoint builds
  // BuildSubsetKey(TrafficDirectionInboundVIP, "http", hostname, port) for each Service it serves.
  it("fills in inbound-vip|PORT|http|HOST for every route-mode endpoint and rewrites outbound|PORT||HOST", async () => {
    const cfg = join(dir, "scrape.json");
    await writeFile(
      cfg,
      JSON.stringify({
        pools: [
          {
            name: "qwen",
            match: { authority: "qwen.llm.svc.cluster.local" },
            steering: { mode: "route" },
            endpoints: [{ backend: "qwen-a" }, { backend: "qwen-b", metricsCluster: "outbound|8000||qwen-b.llm.svc.cluster.local" }, { backend: "qwen-c", metricsCluster: "my-own-cluster" }],
            scrape: { engine: "vllm" },
          },
        ],
      }),
    );
    const r = await runCli(["manifest", "--config", cfg, "--image", IMAGE, "--namespace", "llm", "--port", "8000"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("notice: scrape cluster outbound|8000||qwen-b.llm.svc.cluster.local -> inbound-vip|8000|http|qwen-b.llm.svc.cluster.local");
    const plugin = docsOf(r.stdout).find((d) => d.kind === "WasmPlugin");
    expect(plugin.spec.pluginConfig.pools[0].endpoints.map((e: { metricsCluster: string }) => e.metricsCluster)).toEqual([
      "inbound-vip|8000|http|qwen-a.llm.svc.cluster.local",
      "inbound-vip|8000|http|qwen-b.llm.svc.cluster.local",
      "my-own-cluster",
    ]);
  });

  it("rewrites an outbound clusterTemplate the same way", () => {
    const out = withWaypointScrapeClusters(
      { pools: [{ steering: { mode: "route" }, endpoints: [{ backend: "a" }], scrape: { clusterTemplate: "outbound|8000||{backend}.llm.svc.cluster.local" } }] },
      { namespace: "llm", port: 8000, backends: [] },
    );
    expect((out.config as any).pools[0].scrape.clusterTemplate).toBe("inbound-vip|8000|http|{backend}.llm.svc.cluster.local");
    expect((out.config as any).pools[0].endpoints[0].metricsCluster).toBeUndefined();
    expect(waypointServiceCluster("vllm-0", "llm", 8000)).toBe("inbound-vip|8000|http|vllm-0.llm.svc.cluster.local");
  });
});

describe("modes and backends from the config's pools", () => {
  it("route mode, header, parent Service and backends all come from pools[*]", async () => {
    const cfg = join(dir, "route.json");
    await writeFile(
      cfg,
      JSON.stringify({
        pools: [
          {
            name: "qwen",
            match: { authority: "qwen.llm.svc.cluster.local" },
            steering: { mode: "route", header: "x-qwen-pick" },
            endpoints: [{ backend: "qwen-a" }, { backend: "qwen-b" }],
          },
        ],
      }),
    );
    const r = await runCli(["manifest", "--config", cfg, "--image", IMAGE, "--namespace", "llm"]);
    expect(r.code, r.stderr).toBe(0);
    const docs = docsOf(r.stdout);
    const httpRoute = docs.find((d) => d.kind === "HTTPRoute");
    expect(httpRoute.spec.parentRefs[0].name).toBe("qwen");
    expect(httpRoute.spec.rules.map((x: any) => x.matches?.[0].headers[0] ?? null)).toEqual([
      { type: "Exact", name: "x-qwen-pick", value: "qwen-a" },
      { type: "Exact", name: "x-qwen-pick", value: "qwen-b" },
      null,
    ]);
    expect(docs.find((d) => d.kind === "WasmPlugin").spec.pluginConfig.pools[0].name).toBe("qwen");
  });

  it("a pools error names the JSON path of the field", async () => {
    const cfg = join(dir, "bad-pool.json");
    await writeFile(cfg, JSON.stringify({ pools: [{ name: "p", endpoints: [{ address: "10.0.0.1:8000" }, { address: "not-an-address" }] }] }));
    const r = await runCli(["manifest", "--config", cfg, "--mode", "endpoint"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\$\.pools\[0\]\.endpoints\[1\]\.address must be ip:port/);
  });

  it("endpoint mode builds one override_host cluster per pool, routed by authority, path and headers", async () => {
    const cfg = join(dir, "multi.json");
    await writeFile(
      cfg,
      JSON.stringify({
        pools: [
          { name: "llama", match: { authority: "llama.example.com", pathPrefix: "/v1/" }, endpoints: [{ address: "10.0.0.1:8000" }], scrape: { cluster: "llama-pool" } },
          { name: "qwen", match: { headers: [{ name: "x-model-family", value: "qwen" }, { name: "x-beta" }] }, endpoints: [{ address: "10.0.0.2:8000" }], steering: { mode: "endpoint", header: "x-pick" } },
        ],
      }),
    );
    const r = await runCli(["manifest", "--config", cfg]);
    expect(r.code, r.stderr).toBe(0);
    const [envoy] = docsOf(r.stdout);
    const vhosts = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts;
    expect(vhosts.map((v: any) => v.domains)).toEqual([["llama.example.com", "llama.example.com:*"], ["*"]]);
    // maxEndpoints defaults to 3: two fallback addresses, so up to two retries before a server is reached.
    expect(vhosts[0].routes[0]).toEqual({ match: { prefix: "/v1/" }, route: { cluster: "llama-pool", timeout: "0s", retry_policy: { retry_on: "connect-failure,refused-stream", num_retries: 2 } } });
    expect(vhosts[1].routes[0].match.headers).toEqual([
      { name: "x-model-family", string_match: { exact: "qwen" } },
      { name: "x-beta", present_match: true },
    ]);
    const clusters = envoy.static_resources.clusters;
    expect(clusters.map((c: any) => c.name)).toEqual(["llama-pool", "qwen"]);
    expect(clusters[1].load_balancing_policy.policies[0].typed_extension_config.typed_config.override_host_sources).toEqual([{ header: "x-pick" }]);
  });
});

describe("endpoint mode Envoy config", () => {
  it("the pool cluster, which the scrapes go through too, allows Envoy's default 1,024 connections plus one per endpoint", () => {
    const addrs = Array.from({ length: 1024 }, (_, i) => `10.2.${i >> 8}.${i & 255}:8000`);
    for (const endpointCluster of ["override_host", "original_dst"] as const) {
      for (const maxEndpoints of [1, 3]) {
        if (endpointCluster === "original_dst" && maxEndpoints > 1) continue; // one address per header
        const pluginConfig = { pools: [{ name: "p", endpoints: addrs.map((address) => ({ address })), steering: { maxEndpoints }, scrape: { cluster: "pool" } }] };
        const b = standaloneBootstrap({ pluginConfig, wasmPath: "plugin.wasm", endpointCluster }) as any;
        const cluster = b.static_resources.clusters.find((c: any) => c.name === "pool");
        // Fallbacks are retries: Envoy's default of 3 concurrent retries is raised with them.
        expect(cluster.circuit_breakers, `${endpointCluster} maxEndpoints ${maxEndpoints}`).toEqual({
          thresholds: [{ priority: "DEFAULT", max_connections: 2048, ...(maxEndpoints > 1 ? { max_retries: 1024 } : {}) }],
        });
      }
    }
    const small = standaloneBootstrap({ pluginConfig: { pools: [{ name: "p", endpoints: [{ address: "10.0.0.1:8000" }], scrape: { cluster: "pool" } }] }, wasmPath: "plugin.wasm" }) as any;
    expect(small.static_resources.clusters[0].circuit_breakers.thresholds[0].max_connections).toBe(1025);
  });

  it("wires the Wasm filter (V8, local file, StringValue config) and an override_host cluster with a fallback", async () => {
    const cfg = join(dir, "cfg.json");
    await writeFile(cfg, JSON.stringify({ logLevel: "debug" }));
    const r = await runCli(["manifest", "--mode", "endpoint", "--config", cfg, "--endpoints", "10.1.0.1:8000", "--endpoints", "[fd00::2]:8000", "--fallback", "round_robin", "--fail-strategy", "FAIL_RELOAD"]);
    expect(r.code, r.stderr).toBe(0);
    const [envoy] = docsOf(r.stdout);
    const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const [wasm, router] = hcm.http_filters;
    expect(router.name).toBe("envoy.filters.http.router");
    expect(wasm.typed_config.config.vm_config).toEqual({ vm_id: "wayroute", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "/etc/envoy/plugin.wasm" } } });
    expect(wasm.typed_config.config.configuration["@type"]).toBe("type.googleapis.com/google.protobuf.StringValue");
    expect(JSON.parse(wasm.typed_config.config.configuration.value)).toEqual({ logLevel: "debug" });
    expect(wasm.typed_config.config.failure_policy).toBe("FAIL_RELOAD");
    const cluster = envoy.static_resources.clusters[0];
    const lb = cluster.load_balancing_policy.policies[0].typed_extension_config;
    expect(lb.name).toBe("envoy.load_balancing_policies.override_host");
    expect(lb.typed_config.override_host_sources).toEqual([{ header: "x-gateway-destination-endpoint" }]);
    expect(lb.typed_config.fallback_policy.policies[0].typed_extension_config.name).toBe("envoy.load_balancing_policies.round_robin");
    expect(cluster.load_assignment.endpoints[0].lb_endpoints.map((e: any) => e.endpoint.address.socket_address.address)).toEqual(["10.1.0.1", "fd00::2"]);
  });

  it("holdHeadersForBody sets allow_on_headers_stop_iteration on the Wasm filter's PluginConfig, and only then", async () => {
    const hold = join(dir, "hold.json");
    await writeFile(hold, JSON.stringify({ holdHeadersForBody: true, bodyRouting: {} }));
    const r = await runCli(["manifest", "--mode", "endpoint", "--config", hold, "--endpoints", "10.1.0.1:8000"]);
    expect(r.code, r.stderr).toBe(0);
    const wasmConfig = (yaml: string) => docsOf(yaml)[0].static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    const config = wasmConfig(r.stdout);
    expect(config.allow_on_headers_stop_iteration).toBe(true);
    expect(JSON.parse(config.configuration.value).holdHeadersForBody).toBe(true);
    const plain = join(dir, "no-hold.json");
    await writeFile(plain, JSON.stringify({ holdHeadersForBody: false, bodyRouting: {} }));
    const r2 = await runCli(["manifest", "--mode", "endpoint", "--config", plain, "--endpoints", "10.1.0.1:8000"]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(wasmConfig(r2.stdout)).not.toHaveProperty("allow_on_headers_stop_iteration");
  });

  it("rejects endpoints that are not ip:port", async () => {
    const r = await runCli(["manifest", "--mode", "endpoint", "--endpoints", "vllm-0.vllm:8000"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/endpoint 'vllm-0\.vllm:8000' is not ip:port/);
  });
});

describe("bad input: one line, non-zero exit, nothing written", () => {
  async function expectFailure(args: string[], pattern: RegExp) {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}.yaml`);
    const before = await readdir(dir);
    const r = await runCli([...args, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
    expect(await readdir(dir)).toEqual(before);
  }

  it("a config that fails the schema names the field", async () => {
    const cfg = join(dir, "bad-config.yaml");
    await writeFile(cfg, "logLevel: loud\n");
    await expectFailure([...route, "--image", IMAGE, "--config", cfg], /fails schemas\/plugin-config\.schema\.json: \$\.logLevel must be one of/);
    const cfg2 = join(dir, "bad-config2.json");
    await writeFile(cfg2, JSON.stringify({ logLevel: "info", colour: "red" }));
    await expectFailure([...route, "--image", IMAGE, "--config", cfg2], /\$\.colour is not allowed here/);
  });

  it("holdHeadersForBody for an Istio WasmPlugin (it cannot set allow_on_headers_stop_iteration)", async () => {
    const cfg = join(dir, "hold-istio.json");
    await writeFile(cfg, JSON.stringify({ holdHeadersForBody: true, bodyRouting: {} }));
    await expectFailure([...route, "--image", IMAGE, "--config", cfg], /holdHeadersForBody: true needs Envoy's allow_on_headers_stop_iteration .* an Istio WasmPlugin cannot set/);
  });

  it("a config that does not parse", async () => {
    const cfg = join(dir, "broken.json");
    await writeFile(cfg, "{ nope");
    await expectFailure([...route, "--image", IMAGE, "--config", cfg], /config .*broken\.json does not parse/);
  });

  it("a waypoint name that is not a valid Kubernetes name", async () => {
    await expectFailure([...route, "--image", IMAGE, "--waypoint", "Way_Point"], /waypoint name 'Way_Point' is not a valid Kubernetes name \(RFC 1123 DNS label\)/);
  });

  it("other invalid names: namespace, StatefulSet, WasmPlugin", async () => {
    await expectFailure([...route, "--image", IMAGE, "--namespace", "-ns"], /namespace '-ns' is not a valid Kubernetes name/);
    await expectFailure([...route, "--image", IMAGE, "--name", "a".repeat(254)], /WasmPlugin name '.*' is not a valid Kubernetes name .*at most 253/);
    await expectFailure(["manifest", "--service", "vllm", "--statefulset", "VLLM", "--replicas", "2", "--image", IMAGE], /Service name 'VLLM-0' is not a valid/);
  });
});

describe("helpers", () => {
  it("RFC 1123 label and subdomain rules", () => {
    expect(dns1123LabelProblem("waypoint")).toBeUndefined();
    expect(dns1123LabelProblem("a".repeat(64))).toMatch(/at most 63/);
    expect(dns1123LabelProblem("a.b")).toBeDefined();
    expect(dns1123SubdomainProblem("a.b-c.d")).toBeUndefined();
    expect(dns1123SubdomainProblem("a..b")).toBeDefined();
  });

  it("the plugin config schema is loaded with every schemas/*.json so $refs resolve", () => {
    expect(pluginConfigProblems({ logLevel: "warn" }, schemas)).toEqual([]);
    expect(pluginConfigProblems([], schemas)).toEqual(["$ must be an object"]);
  });
});
