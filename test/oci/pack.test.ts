import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWasmImage } from "../../src/oci/image.js";
import { gunzip, reproducibleGzip } from "../../src/oci/gzip.js";
import { readTar, writeTar } from "../../src/oci/tar.js";
import { openLayout, readLayoutManifest, selectManifest } from "../../src/oci/layout.js";
import * as mt from "../../src/oci/media-types.js";
import { requireTool, runCli, tinyWasm, whichTool } from "./helpers.js";

let dir: string;
let wasmPath: string;
const wasm = tinyWasm(100);

afterAll(() => rm(dir, { recursive: true, force: true }));
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wayroute-pack-"));
  wasmPath = join(dir, "plugin.wasm");
  await writeFile(wasmPath, wasm);
});

const meta = ["--version", "1.2.3", "--source", "https://example.com/wayroute", "--revision", "0123abcd"];

describe("deterministic tar", () => {
  it("writes fixed metadata that system tar reads back", async () => {
    const tar = writeTar([{ name: "plugin.wasm", data: wasm }]);
    expect(tar.length % 512).toBe(0);
    expect(readTar(tar)).toEqual([{ name: "plugin.wasm", data: wasm, mode: 0o644 }]);
    const file = join(dir, "t.tar");
    await writeFile(file, tar);
    const listing = execFileSync("tar", ["--numeric-owner", "--full-time", "-tvf", file], { encoding: "utf8" });
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00:00 plugin\.wasm$/m);
    expect(execFileSync("tar", ["-xOf", file, "plugin.wasm"])).toEqual(wasm);
  });
});

describe("reproducible gzip", () => {
  it("pins mtime 0, XFL 2 and OS 255 and round-trips", () => {
    const data = Buffer.from("x".repeat(5000));
    const a = reproducibleGzip(data);
    expect([...a.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
    expect(reproducibleGzip(data)).toEqual(a);
    expect(gunzip(a)).toEqual(data);
    // The system gzip accepts it too.
    expect(execFileSync("gzip", ["-dc"], { input: a })).toEqual(data);
  });
});

describe("image formats", () => {
  it("compat: one tar+gzip layer holding plugin.wasm, variant annotation, OCI annotations", () => {
    const img = buildWasmImage(wasm, { format: "compat", version: "1.2.3", source: "s", revision: "r" });
    expect(img.manifest.mediaType).toBe(mt.OCI_MANIFEST);
    expect(img.manifest.config.mediaType).toBe(mt.OCI_IMAGE_CONFIG);
    expect(img.manifest.layers.map((l) => l.mediaType)).toEqual([mt.OCI_LAYER_TAR_GZIP]);
    expect(img.manifest.annotations).toMatchObject({
      "module.wasm.image/variant": "compat",
      "org.opencontainers.image.version": "1.2.3",
      "org.opencontainers.image.source": "s",
      "org.opencontainers.image.revision": "r",
    });
    const layer = img.blobs.get(img.manifest.layers[0].digest)!;
    expect(readTar(gunzip(layer)).map((e) => e.name)).toEqual(["plugin.wasm"]);
    const config = JSON.parse(img.blobs.get(img.manifest.config.digest)!.toString());
    expect(config.rootfs.diff_ids).toHaveLength(1);
  });

  it("artifact: exactly two layers, the raw wasm and the runtime config", () => {
    const img = buildWasmImage(wasm, { format: "artifact", version: "1.2.3" });
    expect(img.manifest.config.mediaType).toBe(mt.WASM_CONFIG);
    expect(img.manifest.layers.map((l) => l.mediaType)).toEqual([mt.WASM_CONTENT_LAYER, mt.WASM_CONFIG]);
    expect(img.blobs.get(img.manifest.layers[0].digest)).toEqual(wasm);
    expect(img.manifest.layers[0].digest).toBe(img.wasmDigest);
    const runtime = JSON.parse(img.blobs.get(img.manifest.config.digest)!.toString());
    expect(runtime).toEqual({ type: "envoy_proxy", abiVersions: ["proxy_abi_version_0_2_1"], config: { root_ids: ["wayroute"] } });
    expect(img.manifest.annotations?.["module.wasm.image/variant"]).toBeUndefined();
  });

  it("same wasm and version give the same digests; a different version does not", () => {
    for (const format of ["compat", "artifact"] as const) {
      const a = buildWasmImage(wasm, { format, version: "1.0.0" });
      const b = buildWasmImage(Buffer.from(wasm), { format, version: "1.0.0" });
      const c = buildWasmImage(wasm, { format, version: "1.0.1" });
      expect(b.manifestDigest).toBe(a.manifestDigest);
      expect(c.manifestDigest).not.toBe(a.manifestDigest);
    }
  });
});

describe("wayroute pack", () => {
  it("writes a layout directory and tar with identical bytes on a second run, and prints the digest", async () => {
    const r1 = await runCli(["pack", "--wasm", wasmPath, "--out", join(dir, "c1"), ...meta]);
    const r2 = await runCli(["pack", "--wasm", wasmPath, "--out", join(dir, "c2"), ...meta]);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(r2.stdout).toBe(r1.stdout);
    expect(await readFile(join(dir, "c1.tar"))).toEqual(await readFile(join(dir, "c2.tar")));
    const layout = await openLayout(join(dir, "c1"));
    const entry = selectManifest(layout, "c1");
    expect(entry.tag).toBe("1.2.3");
    expect(entry.descriptor.digest).toBe(r1.stdout.trim());
    const { manifest } = await readLayoutManifest(layout, entry);
    expect(manifest.layers).toHaveLength(1);
    // The tar holds the same layout.
    const fromTar = await openLayout(join(dir, "c1.tar"));
    expect(fromTar.manifests[0].descriptor.digest).toBe(r1.stdout.trim());
  });

  it("--json reports digest, wasm sha256 and size", async () => {
    const r = await runCli(["pack", "--format", "artifact", "--wasm", wasmPath, "--out", join(dir, "a1"), "--json", ...meta]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.format).toBe("artifact");
    expect(j.sha256).toBe(j.manifestDigest.slice(7));
    expect(j.wasmSize).toBe(wasm.length);
    expect(j.annotations["org.opencontainers.image.revision"]).toBe("0123abcd");
  });

  it("refuses a non-wasm input with one line, exit 1, and writes nothing", async () => {
    const bogus = join(dir, "notwasm.txt");
    await writeFile(bogus, "hello, not wasm");
    const before = await readdir(dir);
    const r = await runCli(["pack", "--wasm", bogus, "--out", join(dir, "bad")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/notwasm\.txt is not a WebAssembly module/);
    expect(existsSync(join(dir, "bad"))).toBe(false);
    expect(existsSync(join(dir, "bad.tar"))).toBe(false);
    expect(await readdir(dir)).toEqual(before);
  });

  it("reports a missing input file and an unknown format", async () => {
    const missing = await runCli(["pack", "--wasm", join(dir, "nope.wasm"), "--out", join(dir, "x")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.wasm \(ENOENT\)/);
    const usage = await runCli(["pack", "--wasm", wasmPath, "--out", join(dir, "x"), "--format", "zip"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--format must be compat or artifact/);
  });
});

describe("skopeo reads our layouts", () => {
  const skopeo = whichTool("skopeo");
  it("inspects compat (full) and artifact (raw) layouts and the layout tar", async (ctx) => {
    if (!requireTool(skopeo, "skopeo")) return ctx.skip();
    const c = await runCli(["pack", "--wasm", wasmPath, "--out", join(dir, "sk-c"), ...meta]);
    const a = await runCli(["pack", "--format", "artifact", "--wasm", wasmPath, "--out", join(dir, "sk-a"), ...meta]);
    const full = JSON.parse(execFileSync(skopeo, ["inspect", `oci:${join(dir, "sk-c")}:1.2.3`], { encoding: "utf8" }));
    expect(full.Digest).toBe(c.stdout.trim());
    expect(full.Labels["module.wasm.image/variant"]).toBe("compat");
    const rawA = execFileSync(skopeo, ["inspect", "--raw", `oci:${join(dir, "sk-a")}`]);
    expect(`sha256:${(await import("node:crypto")).createHash("sha256").update(rawA).digest("hex")}`).toBe(a.stdout.trim());
    const fromTar = JSON.parse(execFileSync(skopeo, ["inspect", `oci-archive:${join(dir, "sk-c.tar")}`], { encoding: "utf8" }));
    expect(fromTar.Digest).toBe(c.stdout.trim());
  });
});
