/**
 * Push/pull round trips against real `docker-registry` instances (anonymous, htpasswd basic auth,
 * and bearer tokens via a token service + proxy), cross-checked with `skopeo`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Digest, sha256Digest } from "../../src/oci/digest.js";
import type { OciManifest } from "../../src/oci/image.js";
import { writeLayoutDir } from "../../src/oci/layout.js";
import { OCI_MANIFEST, WASM_CONFIG, WASM_CONTENT_LAYER } from "../../src/oci/media-types.js";
import { REGISTRY_BIN, requireTool, runCli, startRegistry, startTokenFrontEnd, type TestRegistry, type TokenFrontEnd, tinyWasm, whichTool, freePort } from "./helpers.js";

const haveRegistry = requireTool(REGISTRY_BIN, "docker-registry");
const skopeo = whichTool("skopeo");
const USER = "wayroute";
const PASS = "s3cret-pass";

let dir: string;
let anon: TestRegistry;
let basic: TestRegistry;
let bearerUpstream: TestRegistry;
let bearer: TokenFrontEnd;
/** An empty Docker config dir so the developer's own credentials never leak into tests. */
let noDockerConfig: string;
const layouts: Record<"compat" | "artifact", { path: string; digest: string }> = {} as never;
const wasm = tinyWasm(3000, 7);

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
function env(extra: Record<string, string | undefined> = {}) {
  return { DOCKER_CONFIG: noDockerConfig, WAYROUTE_REGISTRY_USERNAME: undefined, WAYROUTE_REGISTRY_PASSWORD: undefined, ...extra };
}

describe.skipIf(!haveRegistry)("registry round trips", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wayroute-reg-"));
    noDockerConfig = join(dir, "docker-empty");
    await mkdir(noDockerConfig);
    await writeFile(join(dir, "plugin.wasm"), wasm);
    for (const format of ["compat", "artifact"] as const) {
      const path = join(dir, format);
      const r = await runCli(["pack", "--format", format, "--wasm", join(dir, "plugin.wasm"), "--out", path, "--version", "0.1.0", "--revision", "t"]);
      expect(r.code).toBe(0);
      layouts[format] = { path, digest: r.stdout.trim() };
    }
    [anon, basic, bearerUpstream] = await Promise.all([startRegistry(), startRegistry({ user: USER, password: PASS }), startRegistry()]);
    bearer = await startTokenFrontEnd(bearerUpstream, USER, PASS, { anonymousPull: true });
  });

  afterAll(async () => {
    await bearer?.stop();
    await Promise.all([anon?.stop(), basic?.stop(), bearerUpstream?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const format of ["compat", "artifact"] as const) {
    it(`${format}: push then pull/inspect give the packed digest and the same wasm`, async () => {
      const ref = `${anon.host}/wayroute/${format}:0.1.0`;
      const push = await runCli(["push", layouts[format].path, ref, "--json"], env());
      expect(push.code, push.stderr).toBe(0);
      const pushed = JSON.parse(push.stdout);
      expect(pushed.manifestDigest).toBe(layouts[format].digest);
      expect(pushed.reference).toBe(`${ref}@${layouts[format].digest}`);

      const out = join(dir, `pulled-${format}`);
      const pull = await runCli(["pull", ref, "--out", out, "--json"], env());
      expect(pull.code, pull.stderr).toBe(0);
      const s = JSON.parse(pull.stdout);
      expect(s).toMatchObject({ manifestDigest: layouts[format].digest, format, wasmSha256: sha(wasm).slice(7), wasmSize: wasm.length });
      expect(s.sha256).toBe(layouts[format].digest.slice(7));
      expect(s.url).toBe(`oci://${ref}@${layouts[format].digest}`);
      // The pulled layout is the same image: inspect it locally.
      const local = await runCli(["inspect", out, "--json"], env());
      expect(JSON.parse(local.stdout).manifestDigest).toBe(layouts[format].digest);

      // Pull by digest too, and the human output names the format and the wasm sha256.
      const byDigest = await runCli(["inspect", `${anon.host}/wayroute/${format}@${layouts[format].digest}`], env());
      expect(byDigest.code).toBe(0);
      expect(byDigest.stdout).toContain(`format:         ${format}`);
      expect(byDigest.stdout).toContain(sha(wasm).slice(7));
    });
  }

  it("a second push skips blobs the registry has (HEAD) and the tar layout pushes the same digest", async () => {
    const ref = `${anon.host}/wayroute/again:1`;
    const first = JSON.parse((await runCli(["push", layouts.compat.path, ref, "--json"], env())).stdout);
    expect(first.uploaded).toBe(2);
    const second = await runCli(["push", `${layouts.compat.path}.tar`, ref, "--json"], env());
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ uploaded: 0, skipped: 2, manifestDigest: layouts.compat.digest });
    // Extra tags point at the same manifest.
    const tagged = await runCli(["push", layouts.compat.path, ref, "--add-tag", "stable", "--add-tag", "latest", "--json"], env());
    expect(JSON.parse(tagged.stdout).tags).toEqual(["1", "stable", "latest"]);
    const latest = await runCli(["inspect", `${anon.host}/wayroute/again:latest`, "--json"], env());
    expect(JSON.parse(latest.stdout).manifestDigest).toBe(layouts.compat.digest);
  });

  it("uploads large blobs in chunks with progress on stderr", async () => {
    const big = tinyWasm(1_500_000, 3);
    await writeFile(join(dir, "big.wasm"), big);
    const layout = join(dir, "big");
    const packed = await runCli(["pack", "--format", "artifact", "--wasm", join(dir, "big.wasm"), "--out", layout, "--version", "9"]);
    const ref = `${anon.host}/wayroute/big:9`;
    const push = await runCli(["push", layout, ref, "--chunk-size", "400000"], env());
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/pushing sha256:.*\/ 1\.4 MiB/);
    expect(push.stderr.match(/pushing sha256:/g)!.length).toBe(4); // ceil(1.5 MB / 400 kB) chunks
    const pull = JSON.parse((await runCli(["inspect", ref, "--json"], env())).stdout);
    expect(pull.manifestDigest).toBe(packed.stdout.trim());
    expect(pull.wasmSha256).toBe(sha(big).slice(7));
  });

  it("skopeo sees the pushed manifests byte for byte and copies them with digests preserved", async (ctx) => {
    if (!requireTool(skopeo, "skopeo")) return ctx.skip();
    for (const format of ["compat", "artifact"] as const) {
      const ref = `${anon.host}/wayroute/sk-${format}:0.1.0`;
      expect((await runCli(["push", layouts[format].path, ref], env())).code).toBe(0);
      const raw = execFileSync(skopeo, ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
      expect(sha(raw)).toBe(layouts[format].digest);
      const dest = join(dir, `skopeo-${format}`);
      execFileSync(skopeo, ["copy", "--preserve-digests", "--src-tls-verify=false", `docker://${ref}`, `oci:${dest}:copied`], { stdio: "pipe" });
      const index = JSON.parse(await readFile(join(dest, "index.json"), "utf8"));
      expect(index.manifests[0].digest).toBe(layouts[format].digest);
      // And our own reader accepts skopeo's layout.
      const insp = await runCli(["inspect", dest, "--json"], env());
      expect(JSON.parse(insp.stdout).wasmSha256).toBe(sha(wasm).slice(7));
    }
  });

  it("basic auth: credentials from the environment work; wrong ones fail with one line", async () => {
    const ref = `${basic.host}/wayroute/auth:1`;
    const ok = await runCli(["push", layouts.artifact.path, ref], env({ WAYROUTE_REGISTRY: basic.host, WAYROUTE_REGISTRY_USERNAME: USER, WAYROUTE_REGISTRY_PASSWORD: PASS }));
    expect(ok.code, ok.stderr).toBe(0);
    const pulled = await runCli(["inspect", ref, "--json"], env({ WAYROUTE_REGISTRY: basic.host, WAYROUTE_REGISTRY_USERNAME: USER, WAYROUTE_REGISTRY_PASSWORD: PASS }));
    expect(JSON.parse(pulled.stdout).manifestDigest).toBe(layouts.artifact.digest);

    const wrong = await runCli(["push", layouts.artifact.path, ref], env({ WAYROUTE_REGISTRY: basic.host, WAYROUTE_REGISTRY_USERNAME: USER, WAYROUTE_REGISTRY_PASSWORD: "nope" }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    expect(wrong.stderr).toMatch(/denied .*HTTP 401.*credentials from WAYROUTE_REGISTRY_USERNAME\/_PASSWORD were rejected/);

    const none = await runCli(["inspect", ref], env());
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/requires credentials/);
  });

  it("basic auth: credentials from the Docker config.json", async () => {
    const cfgDir = join(dir, "docker-cfg");
    await mkdir(cfgDir, { recursive: true });
    const auth = Buffer.from(`${USER}:${PASS}`).toString("base64");
    await writeFile(join(cfgDir, "config.json"), JSON.stringify({ auths: { [basic.host]: { auth } } }));
    const ref = `${basic.host}/wayroute/cfg:1`;
    const r = await runCli(["push", layouts.compat.path, ref], env({ DOCKER_CONFIG: cfgDir }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${ref}@${layouts.compat.digest}`);
  });

  it("bearer token flow: 401 challenge, token request with scope, retried with the token", async () => {
    const ref = `${bearer.host}/team/wayroute:2`;
    const r = await runCli(["push", layouts.compat.path, ref], env({ WAYROUTE_REGISTRY: bearer.host, WAYROUTE_REGISTRY_TOKEN_REALM: bearer.realmOrigin, WAYROUTE_REGISTRY_USERNAME: USER, WAYROUTE_REGISTRY_PASSWORD: PASS }));
    expect(r.code, r.stderr).toBe(0);
    expect(bearer.tokenRequests.some((t) => t.service === "wayroute-test" && t.scopes.includes("repository:team/wayroute:pull,push") && t.user === USER)).toBe(true);
    const pulled = await runCli(["pull", ref, "--json"], env({ WAYROUTE_REGISTRY: bearer.host, WAYROUTE_REGISTRY_TOKEN_REALM: bearer.realmOrigin, WAYROUTE_REGISTRY_USERNAME: USER, WAYROUTE_REGISTRY_PASSWORD: PASS }));
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(JSON.parse(pulled.stdout).manifestDigest).toBe(layouts.compat.digest);
    // Anonymous callers get pull-only tokens: pulling works, pushing is refused.
    const anonPull = await runCli(["inspect", ref, "--json"], env());
    expect(anonPull.code, anonPull.stderr).toBe(0);
    expect(bearer.tokenRequests.some((t) => t.user === undefined && t.scopes.includes("repository:team/wayroute:pull"))).toBe(true);
    const anonPush = await runCli(["push", layouts.artifact.path, `${bearer.host}/team/wayroute:anon`], env());
    expect(anonPush.code).toBe(1);
    expect(anonPush.stderr).toMatch(/denied .*HTTP 401.*anonymous access was refused/);
    const bad = await runCli(["pull", ref], env({ WAYROUTE_REGISTRY: bearer.host, WAYROUTE_REGISTRY_TOKEN_REALM: bearer.realmOrigin, WAYROUTE_REGISTRY_USERNAME: USER, WAYROUTE_REGISTRY_PASSWORD: "wrong" }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/token service http:\/\/127\.0\.0\.1:\d+ rejected the credentials/);
  });

  it("an image Istio would reject (one-layer artifact) pushes fine but fails pull/inspect", async () => {
    const blobs = new Map<Digest, Buffer>();
    const config = Buffer.from("{}");
    blobs.set(sha256Digest(config), config);
    blobs.set(sha256Digest(wasm), wasm);
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: WASM_CONFIG, digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: WASM_CONTENT_LAYER, digest: sha256Digest(wasm), size: wasm.length }],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const layout = join(dir, "one-layer");
    await writeLayoutDir(layout, { manifest, manifestBytes, manifestDigest: sha256Digest(manifestBytes), blobs }, "bad");
    const ref = `${anon.host}/wayroute/one-layer:bad`;
    expect((await runCli(["push", layout, ref], env())).code).toBe(0);
    const r = await runCli(["inspect", ref], env());
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/Istio would reject this image: .*number of layers must be 2 but got 1/);
  });

  it("a missing tag is reported as such", async () => {
    const r = await runCli(["pull", `${anon.host}/wayroute/compat:no-such-tag`], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no manifest wayroute\/compat:no-such-tag \(HTTP 404: MANIFEST_UNKNOWN/);
  });

  it("an unreachable registry fails after retries with one line naming it", async () => {
    const port = await freePort();
    const r = await runCli(["push", layouts.compat.path, `127.0.0.1:${port}/x/y:1`, "--retries", "2"], env());
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port} .*ECONNREFUSED`));
  });

  describe("through a misbehaving proxy", () => {
    let proxy: Server;
    let host: string;
    let failuresLeft = 0;
    let corrupt = false;
    beforeAll(async () => {
      proxy = createServer((req, res) => {
        if (failuresLeft > 0) {
          failuresLeft--;
          req.resume();
          res.writeHead(503).end("try later");
          return;
        }
        const up = httpRequest({ host: "127.0.0.1", port: anon.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
          const isBlob = /\/blobs\/sha256:/.test(req.url ?? "") && req.method === "GET";
          if (!corrupt || !isBlob) {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
            return;
          }
          const chunks: Buffer[] = [];
          upRes.on("data", (c) => chunks.push(c));
          upRes.on("end", () => {
            const body = Buffer.concat(chunks);
            if (body.length) body[body.length - 1] ^= 0xff;
            res.writeHead(upRes.statusCode ?? 502, upRes.headers).end(body);
          });
        });
        req.pipe(up);
      });
      await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
      host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(async () => new Promise((r) => proxy.close(r)));

    it("retries 5xx with backoff and succeeds", async () => {
      failuresLeft = 2;
      const r = await runCli(["push", layouts.artifact.path, `${host}/wayroute/retry:1`], env());
      expect(r.code, r.stderr).toBe(0);
      expect(failuresLeft).toBe(0);
    });

    it("a blob whose bytes do not match its digest fails the pull and writes nothing", async () => {
      await runCli(["push", layouts.compat.path, `${anon.host}/wayroute/tamper:1`], env());
      corrupt = true;
      try {
        const out = join(dir, "tampered");
        const r = await runCli(["pull", `${host}/wayroute/tamper:1`, "--out", out], env());
        expect(r.code).toBe(1);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toMatch(/digest mismatch for blob sha256:/);
        expect(existsSync(out)).toBe(false);
      } finally {
        corrupt = false;
      }
    });
  });
});
