import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { credentialsFromDockerConfig, resolveCredentials } from "../../src/oci/credentials.js";
import { parseReference, isLoopbackRegistry } from "../../src/oci/reference.js";
import { RegistryClient } from "../../src/oci/registry-client.js";
import { parseChallenge } from "../../src/oci/www-authenticate.js";

describe("image references", () => {
  it("parses host, port, nested repository, tag and digest; strips oci://", () => {
    const d = `sha256:${"0".repeat(64)}`;
    expect(parseReference(`oci://127.0.0.1:5000/team/wayroute:1.0@${d}`)).toEqual({ registry: "127.0.0.1:5000", repository: "team/wayroute", tag: "1.0", digest: d });
    expect(parseReference("registry.example.com/w")).toEqual({ registry: "registry.example.com", repository: "w", tag: undefined, digest: undefined });
    expect(parseReference("localhost/w:x").registry).toBe("localhost");
  });

  it("rejects references without a registry host or with bad parts", () => {
    expect(() => parseReference("wayroute:1.0")).toThrow(/no registry host/);
    expect(() => parseReference("library/wayroute")).toThrow(/'library' is not a registry host/);
    expect(() => parseReference("host.example/Upper")).toThrow(/not a valid repository/);
    expect(() => parseReference("host.example/a@sha256:123")).toThrow(/not a sha256 digest/);
  });

  it("uses plain HTTP only for loopback registries or with insecure", () => {
    expect(isLoopbackRegistry("127.0.0.1:5000")).toBe(true);
    expect(isLoopbackRegistry("localhost:5000")).toBe(true);
    expect(isLoopbackRegistry("[::1]:5000")).toBe(true);
    expect(isLoopbackRegistry("10.0.0.1:5000")).toBe(false);
    expect(new RegistryClient("127.0.0.1:5000").baseUrl).toBe("http://127.0.0.1:5000");
    expect(new RegistryClient("registry.example.com").baseUrl).toBe("https://registry.example.com");
    expect(new RegistryClient("registry.example.com", { insecure: true }).baseUrl).toBe("http://registry.example.com");
  });
});

describe("WWW-Authenticate", () => {
  it("parses a Bearer challenge with quoted, comma-bearing values", () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: "basic", params: { realm: "x" } });
    expect(parseChallenge(null)).toBeUndefined();
  });
});

describe("credentials", () => {
  const auth = Buffer.from("alice:pa:ss").toString("base64");
  it("reads auths[host].auth (password may contain ':') and matches https:// keys", () => {
    expect(credentialsFromDockerConfig({ auths: { "reg.example:5000": { auth } } }, "reg.example:5000", "cfg")).toMatchObject({ username: "alice", password: "pa:ss" });
    expect(credentialsFromDockerConfig({ auths: { "https://reg.example/v2/": { auth } } }, "reg.example", "cfg")).toMatchObject({ username: "alice" });
    expect(credentialsFromDockerConfig({ auths: { "other.example": { auth } } }, "reg.example", "cfg")).toBeUndefined();
  });

  it("environment wins over the Docker config; DOCKER_CONFIG locates the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wayroute-cred-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, "d"));
    await writeFile(join(dir, "d", "config.json"), JSON.stringify({ auths: { "reg.example": { auth } } }));
    expect(await resolveCredentials("reg.example", { DOCKER_CONFIG: join(dir, "d") })).toMatchObject({ username: "alice", source: join(dir, "d", "config.json") });
    expect(
      await resolveCredentials("reg.example", { DOCKER_CONFIG: join(dir, "d"), WAYROUTE_REGISTRY: "reg.example", WAYROUTE_REGISTRY_USERNAME: "bob", WAYROUTE_REGISTRY_PASSWORD: "x" }),
    ).toMatchObject({ username: "bob" });
    expect(await resolveCredentials("reg.example", { HOME: join(dir, "nohome") })).toBeUndefined();
    await expect(resolveCredentials("reg.example", { WAYROUTE_REGISTRY_USERNAME: "bob" })).rejects.toThrow(/set both/);
  });
});

describe("the real executable", () => {
  it("exits 1 with one line on stderr for a non-wasm input", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wayroute-exe-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "x.wasm"), "not wasm at all");
    const r = spawnSync("npx", ["tsx", "src/cli.ts", "pack", "--wasm", join(dir, "x.wasm"), "--out", join(dir, "o")], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^wayroute pack: .*x\.wasm is not a WebAssembly module/)]);
    expect(r.stdout).toBe("");
  });
});
