/**
 * Finding 1: where the registry client sends credentials. Each case runs a push or a pull against
 * fake registries on loopback (HTTPS with a self-signed certificate) that try to lure the
 * credentials elsewhere: a plain-HTTP upload Location, a Location or redirect on another origin,
 * a Bearer realm on another host, and environment credentials meant for another registry.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OciError } from "../../src/oci/errors.js";
import { buildWasmImage } from "../../src/oci/image.js";
import { writeLayoutDir } from "../../src/oci/layout.js";
import { pullImage, pushLayout, type TransferOptions } from "../../src/oci/transfer.js";
import { tinyWasm } from "../oci/helpers.js";
import { BASIC, type FakeServer, PASSWORD, registryError, selfSignedCert, startServer, USER } from "./helpers.js";

const tls = selfSignedCert();
const image = buildWasmImage(tinyWasm(64, 3), { format: "artifact", version: "1" });
let layout: string;
let tmp: string | undefined;
const servers: FakeServer[] = [];

async function server(...args: Parameters<typeof startServer>): Promise<FakeServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

/** Environment credentials for `registry` and nothing else from the developer's machine. */
function env(registry: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { DOCKER_CONFIG: "/nonexistent", WAYROUTE_REGISTRY: registry, WAYROUTE_REGISTRY_USERNAME: USER, WAYROUTE_REGISTRY_PASSWORD: PASSWORD, ...extra };
}

function opts(registry: string, extra: Record<string, string> = {}): TransferOptions {
  return { env: env(registry, extra), plainHttp: false, ca: tls!.cert, attempts: 1, backoffMs: 1, timeoutMs: 5000 };
}

/**
 * A registry that demands `Basic` (or the bearer token `acceptBearer`) and otherwise behaves:
 * HEAD blob 404, POST upload 202 with `uploadLocation()`, PUT upload 201, manifests stored.
 */
function registry(
  uploadLocation: () => string,
  auth: { bearer?: { realm: string; token: string } } = {},
  blobGet?: (res: ServerResponse, digest: string) => boolean,
) {
  const manifests = new Map<string, Buffer>();
  return (req: { method?: string; url?: string; headers: Record<string, unknown> }, res: ServerResponse, body: Buffer) => {
    const authz = req.headers.authorization;
    const ok = auth.bearer ? authz === `Bearer ${auth.bearer.token}` : authz === BASIC;
    if (!ok) {
      const challenge = auth.bearer ? `Bearer realm="${auth.bearer.realm}",service="reg",scope="repository:team/w:pull,push"` : 'Basic realm="reg"';
      return registryError(res, 401, { "www-authenticate": challenge }, "authentication required");
    }
    const url = req.url ?? "";
    const m = /^\/v2\/team\/w\/(blobs|manifests)\/(.+)$/.exec(url.split("?")[0]!);
    if (req.method === "HEAD" && m?.[1] === "blobs") return res.writeHead(404).end();
    if (req.method === "POST" && url.startsWith("/v2/team/w/blobs/uploads/")) return res.writeHead(202, { location: uploadLocation() }).end();
    if (req.method === "PUT" && url.startsWith("/upload/")) return res.writeHead(201).end();
    if (req.method === "PUT" && m?.[1] === "manifests") {
      manifests.set(m[2]!, body);
      return res.writeHead(201).end();
    }
    if (req.method === "GET" && m?.[1] === "manifests") {
      const bytes = manifests.get(m[2]!) ?? image.manifestBytes;
      return res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": bytes.length }).end(bytes);
    }
    if (req.method === "GET" && m?.[1] === "blobs") {
      if (blobGet?.(res, m[2]!)) return;
      const blob = image.blobs.get(m[2] as never);
      if (!blob) return registryError(res, 404);
      return res.writeHead(200, { "content-length": blob.length }).end(blob);
    }
    registryError(res, 400, {}, `unexpected ${req.method} ${url}`);
  };
}

/** An upload endpoint that accepts every PUT. */
const uploadSink = (_req: unknown, res: ServerResponse) => res.writeHead(201).end();

async function rejection(p: Promise<unknown>): Promise<OciError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected the operation to fail").toBeInstanceOf(OciError);
  // No secret ever appears in an error.
  expect((err as Error).message).not.toContain(PASSWORD);
  expect((err as Error).message).not.toContain(BASIC.slice(6));
  return err as OciError;
}

describe.skipIf(!tls)("registry credentials go only where they belong", () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "wayroute-sec-"));
    layout = join(tmp, "layout");
    await writeLayoutDir(layout, image, "1");
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("an HTTPS registry's plain-HTTP upload Location is refused before anything is sent there", async () => {
    const plain = await server(uploadSink);
    const reg = await server(registry(() => `http://localhost:${plain.port}/upload/1`) as never, tls);
    const err = await rejection(pushLayout(layout, `${reg.host}/team/w:1`, opts(reg.host)));
    expect(err.code).toBe("E_INSECURE");
    expect(err.message).toMatch(/refusing to downgrade from HTTPS/);
    expect(plain.seen).toEqual([]);
    // The registry itself did get the credentials: it asked for them.
    expect(reg.seen.some((s) => s.authorization === BASIC)).toBe(true);
  });

  it("an upload Location on another origin gets the upload but no Authorization", async () => {
    const other = await server(uploadSink, tls);
    const reg = await server(registry(() => `https://localhost:${other.port}/upload/1`) as never, tls);
    const r = await pushLayout(layout, `${reg.host}/team/w:1`, opts(reg.host));
    expect(r.manifestDigest).toBe(image.manifestDigest);
    expect(other.seen.filter((s) => s.method === "PUT").length).toBe(image.blobs.size);
    expect(other.seen.map((s) => s.authorization)).toEqual(other.seen.map(() => undefined));
  });

  it("another origin that challenges for credentials does not get them", async () => {
    const other = await server((_req, res) => registryError(res, 401, { "www-authenticate": 'Basic realm="x"' }), tls);
    const reg = await server(registry(() => `https://localhost:${other.port}/upload/1`) as never, tls);
    const err = await rejection(pushLayout(layout, `${reg.host}/team/w:1`, opts(reg.host)));
    expect(err.code).toBe("E_AUTH");
    expect(other.seen.length).toBeGreaterThan(0);
    expect(other.seen.every((s) => s.authorization === undefined)).toBe(true);
  });

  it("a Bearer realm on another origin gets the Basic credentials only when the user trusts it", async () => {
    const tokens = await server((req, res) => {
      const token = req.headers.authorization === BASIC ? "granted" : "anonymous";
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
    }, tls);
    const realm = `https://localhost:${tokens.port}/token`;
    const reg = await server(registry(() => "/upload/1", { bearer: { realm, token: "granted" } }) as never, tls);

    const err = await rejection(pushLayout(layout, `${reg.host}/team/w:1`, opts(reg.host)));
    expect(err.code).toBe("E_AUTH");
    expect(err.message).toContain(`WAYROUTE_REGISTRY_TOKEN_REALM=https://localhost:${tokens.port}`);
    expect(tokens.seen.length).toBeGreaterThan(0);
    expect(tokens.seen.every((s) => s.authorization === undefined)).toBe(true);

    tokens.seen.length = 0;
    const r = await pushLayout(layout, `${reg.host}/team/w:1`, opts(reg.host, { WAYROUTE_REGISTRY_TOKEN_REALM: `https://localhost:${tokens.port}` }));
    expect(r.manifestDigest).toBe(image.manifestDigest);
    expect(tokens.seen.every((s) => s.authorization === BASIC)).toBe(true);
    // The registry only ever saw the token, never the password.
    expect(reg.seen.some((s) => s.authorization === BASIC)).toBe(false);
  });

  it("a plain-HTTP token realm named by an HTTPS registry is refused", async () => {
    const tokens = await server((_req, res) => res.writeHead(200).end('{"token":"x"}'));
    const reg = await server(registry(() => "/upload/1", { bearer: { realm: `${tokens.origin}/token`, token: "x" } }) as never, tls);
    const err = await rejection(pushLayout(layout, `${reg.host}/team/w:1`, opts(reg.host, { WAYROUTE_REGISTRY_TOKEN_REALM: tokens.origin })));
    expect(err.code).toBe("E_INSECURE");
    expect(tokens.seen).toEqual([]);
  });

  it("a blob redirect to another origin is followed without Authorization; a redirect to HTTP is refused", async () => {
    const wasmDigest = image.manifest.layers[0]!.digest;
    const cdn = await server((_req, res) => {
      const blob = image.blobs.get(wasmDigest)!;
      res.writeHead(200, { "content-length": blob.length }).end(blob);
    }, tls);
    let target = `https://localhost:${cdn.port}/blob`;
    const reg = await server(
      registry(
        () => "/upload/1",
        {},
        (res, digest) => {
          if (digest !== wasmDigest) return false;
          res.writeHead(307, { location: target }).end();
          return true;
        },
      ) as never,
      tls,
    );
    const pulled = await pullImage(`${reg.host}/team/w:1`, opts(reg.host));
    expect(pulled.summary.manifestDigest).toBe(image.manifestDigest);
    expect(cdn.seen.length).toBe(1);
    expect(cdn.seen[0]!.authorization).toBeUndefined();

    const plain = await server((_req, res) => res.writeHead(200).end());
    target = `http://localhost:${plain.port}/blob`;
    const err = await rejection(pullImage(`${reg.host}/team/w:1`, opts(reg.host)));
    expect(err.code).toBe("E_INSECURE");
    expect(plain.seen).toEqual([]);
  });

  it("environment credentials go only to the registry WAYROUTE_REGISTRY names", async () => {
    const reg = await server(registry(() => "/upload/1") as never, tls);
    const err = await rejection(pushLayout(layout, `${reg.host}/team/w:1`, opts("registry.other.example")));
    expect(err.code).toBe("E_AUTH");
    expect(err.message).toMatch(/requires credentials/);
    expect(reg.seen.every((s) => s.authorization === undefined)).toBe(true);

    const { WAYROUTE_REGISTRY: _dropped, ...unscoped } = env(reg.host);
    const err2 = await rejection(pushLayout(layout, `${reg.host}/team/w:1`, { ...opts(reg.host), env: unscoped }));
    expect(err2.code).toBe("E_AUTH");
    expect(err2.message).toMatch(/WAYROUTE_REGISTRY does not name the registry/);
    expect(reg.seen.every((s) => s.authorization === undefined)).toBe(true);
  });
});
