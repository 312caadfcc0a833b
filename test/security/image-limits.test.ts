/**
 * Findings 2, 3 and 10: what a hostile registry or layout can make pull/inspect read, and print.
 * Fake registries stream far more than a descriptor declares; layers are gzip bombs; a layout
 * blob is a symbolic link to /dev/zero. Every cap is proved with a lowered limit or with a
 * stream that is cut off early (the bytes the server managed to send stay bounded).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { digestHex, sha256Digest } from "../../src/oci/digest.js";
import { OciError } from "../../src/oci/errors.js";
import { reproducibleGzip } from "../../src/oci/gzip.js";
import { buildWasmImage, type OciManifest } from "../../src/oci/image.js";
import { writeLayoutDir } from "../../src/oci/layout.js";
import * as mt from "../../src/oci/media-types.js";
import { inspectImage, pullImage } from "../../src/oci/transfer.js";
import { writeTar } from "../../src/oci/tar.js";
import { runCli, tinyWasm } from "../oci/helpers.js";
import { type FakeServer, registryError, startServer, streamZeros } from "./helpers.js";

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const env = { DOCKER_CONFIG: "/nonexistent" };

async function caught(p: Promise<unknown>): Promise<OciError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OciError);
  return err as OciError;
}

/** A registry serving one manifest and its blobs; `override` may answer a GET itself. */
async function fakeRegistry(manifest: Buffer, blobs: Map<string, Buffer>, override?: (path: string, res: import("node:http").ServerResponse) => boolean) {
  const s = await startServer((req, res) => {
    const path = req.url ?? "";
    if (override?.(path, res)) return;
    if (/\/manifests\//.test(path)) return res.writeHead(200, { "content-type": mt.OCI_MANIFEST, "content-length": manifest.length }).end(manifest);
    const d = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path)?.[1];
    const b = d ? blobs.get(d) : undefined;
    if (!b) return registryError(res, 404);
    res.writeHead(200, { "content-length": b.length }).end(b);
  });
  servers.push(s);
  return s;
}

function imageOf(layers: { mediaType: string; data: Buffer }[], config = Buffer.from("{}")) {
  const blobs = new Map<string, Buffer>([[sha256Digest(config), config]]);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: mt.OCI_MANIFEST,
    config: { mediaType: mt.OCI_IMAGE_CONFIG, digest: sha256Digest(config), size: config.length },
    layers: layers.map((l) => {
      blobs.set(sha256Digest(l.data), l.data);
      return { mediaType: l.mediaType, digest: sha256Digest(l.data), size: l.data.length };
    }),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { manifest, manifestBytes, manifestDigest: sha256Digest(manifestBytes), blobs };
}

describe("registry reads are capped (finding 2)", () => {
  it("a manifest that never ends is cut off at the manifest cap", async () => {
    let sent: Promise<number> | undefined;
    const reg = await fakeRegistry(Buffer.alloc(0), new Map(), (path, res) => {
      if (!path.includes("/manifests/")) return false;
      res.writeHead(200, { "content-type": mt.OCI_MANIFEST });
      sent = streamZeros(res, 256 << 20);
      return true;
    });
    const err = await caught(pullImage(`${reg.host}/team/w:1`, { env, maxManifestBytes: 256 << 10, attempts: 1 }));
    expect(err.code).toBe("E_TOO_LARGE");
    // The server was stopped long before its 256 MiB: only socket buffers' worth went out.
    expect(await sent!).toBeLessThan(32 << 20);
  });

  it("a manifest over the default cap (4 MiB) is refused from its Content-Length alone", async () => {
    let sent: Promise<number> | undefined;
    const reg = await fakeRegistry(Buffer.alloc(0), new Map(), (path, res) => {
      if (!path.includes("/manifests/")) return false;
      res.writeHead(200, { "content-type": mt.OCI_MANIFEST, "content-length": String(1_500_000_000) });
      sent = streamZeros(res, 1_500_000_000);
      return true;
    });
    const err = await caught(pullImage(`${reg.host}/team/w:1`, { env, attempts: 1 }));
    expect(err.code).toBe("E_TOO_LARGE");
    expect(err.message).toMatch(/manifest .* larger than the 4194304 bytes allowed/);
    expect(await sent!).toBeLessThan(32 << 20);
  });

  it("a blob is read only up to its descriptor's size: a 2-byte config streamed endlessly is cut off", async () => {
    const img = buildWasmImage(tinyWasm(), { format: "artifact" });
    let sent: Promise<number> | undefined;
    const configPath = `/blobs/${img.manifest.config.digest}`;
    const reg = await fakeRegistry(img.manifestBytes, img.blobs as Map<string, Buffer>, (path, res) => {
      if (!path.endsWith(configPath)) return false;
      res.writeHead(200);
      sent = streamZeros(res, 512 << 20);
      return true;
    });
    const err = await caught(pullImage(`${reg.host}/team/w:1`, { env, attempts: 1 }));
    expect(err.code).toBe("E_TOO_LARGE");
    expect(await sent!).toBeLessThan(32 << 20);
  });

  it("a descriptor size over the blob cap is refused before the blob is requested", async () => {
    const big = tinyWasm(64 << 10);
    const img = imageOf([
      { mediaType: mt.WASM_CONTENT_LAYER, data: big },
      { mediaType: mt.WASM_CONFIG, data: Buffer.from("{}") },
    ]);
    const reg = await fakeRegistry(img.manifestBytes, img.blobs);
    const err = await caught(pullImage(`${reg.host}/team/w:1`, { env, attempts: 1, maxBlobBytes: 32 << 10 }));
    expect(err.code).toBe("E_TOO_LARGE");
    expect(reg.seen.some((s) => s.path.endsWith(sha256Digest(big)))).toBe(false);
  });

  it("a descriptor whose size is wrong (or not a number) is refused", async () => {
    const img = buildWasmImage(tinyWasm(), { format: "artifact" });
    const m = JSON.parse(img.manifestBytes.toString()) as OciManifest;
    m.layers[0]!.size += 10;
    const lying = Buffer.from(JSON.stringify(m));
    const reg = await fakeRegistry(lying, img.blobs as Map<string, Buffer>);
    expect((await caught(pullImage(`${reg.host}/team/w:1`, { env, attempts: 1 }))).code).toBe("E_BAD_IMAGE");
    (m.layers[0] as { size: unknown }).size = "12";
    const reg2 = await fakeRegistry(Buffer.from(JSON.stringify(m)), img.blobs as Map<string, Buffer>);
    expect((await caught(pullImage(`${reg2.host}/team/w:1`, { env, attempts: 1 }))).code).toBe("E_BAD_IMAGE");
  });

  it("a layout blob that is a symbolic link (to /dev/zero) is refused before it is read", async () => {
    const img = buildWasmImage(tinyWasm(), { format: "artifact" });
    const tmp = await mkdtemp(join(tmpdir(), "wayroute-sec-"));
    onTestFinished(() => rm(tmp, { recursive: true, force: true }));
    const dir = join(tmp, "layout");
    await writeLayoutDir(dir, img, "1");
    const blob = join(dir, "blobs", "sha256", digestHex(img.manifest.layers[0]!.digest));
    await import("node:fs/promises").then((fs) => fs.rm(blob));
    await symlink("/dev/zero", blob);
    const err = await caught(inspectImage(dir));
    expect(err.code).toBe("E_BAD_LAYOUT");
    expect(err.message).toMatch(/symbolic link/);
  });

  it("a layout blobs directory that is a symbolic link is refused", async () => {
    const img = buildWasmImage(tinyWasm(), { format: "artifact" });
    const root = await mkdtemp(join(tmpdir(), "wayroute-sec-"));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    const real = join(root, "real");
    await writeLayoutDir(real, img, "1");
    const dir = join(root, "linked");
    await mkdir(dir);
    await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await import("node:fs/promises").then((fs) => fs.copyFile(join(real, "index.json"), join(dir, "index.json")));
    await symlink(join(real, "blobs"), join(dir, "blobs"));
    expect((await caught(inspectImage(dir))).code).toBe("E_BAD_LAYOUT");
  });
});

describe("gzip layers are inflated as a stream with a cap (finding 3)", () => {
  const wasm = tinyWasm(100, 5);
  const zeros = Buffer.alloc(24 << 20);

  it("a bomb (24 MiB of zeros before plugin.wasm) fails at the inflate cap", async () => {
    const layer = gzipSync(writeTar([{ name: "filler.bin", data: zeros }, { name: "plugin.wasm", data: wasm }]));
    expect(layer.length).toBeLessThan(100 << 10);
    const img = imageOf([{ mediaType: mt.OCI_LAYER_TAR_GZIP, data: layer }]);
    const reg = await fakeRegistry(img.manifestBytes, img.blobs);
    const err = await caught(pullImage(`${reg.host}/team/w:1`, { env, attempts: 1, maxInflatedBytes: 4 << 20 }));
    expect(err.code).toBe("E_TOO_LARGE");
    expect(err.message).toMatch(/gzip bomb/);
  });

  it("inflating stops at the first plugin.wasm: what follows it is never inflated", async () => {
    const layer = gzipSync(writeTar([{ name: "plugin.wasm", data: wasm }, { name: "filler.bin", data: zeros }]));
    const img = imageOf([{ mediaType: mt.OCI_LAYER_TAR_GZIP, data: layer }]);
    const reg = await fakeRegistry(img.manifestBytes, img.blobs);
    const { summary } = await pullImage(`${reg.host}/team/w:1`, { env, attempts: 1, maxInflatedBytes: 1 << 20 });
    expect(summary.wasmSha256).toBe(digestHex(sha256Digest(wasm)));
  });

  it("a module over the module cap is refused from its header", async () => {
    const layer = reproducibleGzip(writeTar([{ name: "plugin.wasm", data: tinyWasm(300 << 10) }]));
    const img = imageOf([{ mediaType: mt.OCI_LAYER_TAR_GZIP, data: layer }]);
    const reg = await fakeRegistry(img.manifestBytes, img.blobs);
    const err = await caught(pullImage(`${reg.host}/team/w:1`, { env, attempts: 1, maxModuleBytes: 64 << 10 }));
    expect(err.code).toBe("E_TOO_LARGE");
  });
});

describe("registry text reaches the terminal escaped (finding 10)", () => {
  it("annotations and registry error messages lose their control characters", async () => {
    const img = buildWasmImage(tinyWasm(), { format: "artifact" });
    const m = JSON.parse(img.manifestBytes.toString()) as OciManifest;
    m.annotations = { "org.example.note": "ok\u001b[2J\u001b[1;1Hpwned\rX", "k\u001b]0;title\u0007": "v" };
    const bytes = Buffer.from(JSON.stringify(m));
    const reg = await fakeRegistry(bytes, img.blobs as Map<string, Buffer>);
    const r = await runCli(["inspect", `${reg.host}/team/w:1`], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain("ok\\x1b[2J\\x1b[1;1Hpwned\\x0dX");
    // --json keeps the exact values (JSON escapes them itself).
    const j = await runCli(["inspect", `${reg.host}/team/w:1`, "--json"], env);
    expect(JSON.parse(j.stdout).annotations["org.example.note"]).toBe("ok\u001b[2J\u001b[1;1Hpwned\rX");

    const hostile = await startServer((_req, res) => registryError(res, 404, {}, "gone\u001b[31m RED \u001b]8;;http://evil\u0007link"));
    servers.push(hostile);
    const e = await runCli(["inspect", `${hostile.host}/team/w:1`, "--retries", "1"], env);
    expect(e.code).toBe(1);
    expect(e.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(e.stderr).toContain("gone\\x1b[31m RED");
  });
});


