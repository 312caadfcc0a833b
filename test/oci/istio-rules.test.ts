/**
 * Istio's acceptance rules for Wasm images (istio/istio pkg/wasm/imagefetcher.go), encoded as
 * cases: our two formats pass; the shapes Istio rejects are rejected with its reasons.
 */
import { describe, expect, it } from "vitest";
import { type Digest, sha256Digest } from "../../src/oci/digest.js";
import { reproducibleGzip } from "../../src/oci/gzip.js";
import { buildWasmImage, type OciDescriptor, type OciManifest } from "../../src/oci/image.js";
import { extractWasmLikeIstio } from "../../src/oci/istio-rules.js";
import * as mt from "../../src/oci/media-types.js";
import { writeTar } from "../../src/oci/tar.js";
import { tinyWasm } from "./helpers.js";

const wasm = tinyWasm(10);

function store(blobs: Map<string, Buffer>, mediaType: string, data: Buffer): OciDescriptor {
  const digest = sha256Digest(data);
  blobs.set(digest, data);
  return { mediaType, digest, size: data.length };
}

function fixture(layers: { mediaType: string; data: Buffer }[], manifestMediaType = mt.OCI_MANIFEST) {
  const blobs = new Map<string, Buffer>();
  const config = store(blobs, mt.OCI_IMAGE_CONFIG, Buffer.from("{}"));
  const manifest: OciManifest = { schemaVersion: 2, mediaType: manifestMediaType, config, layers: layers.map((l) => store(blobs, l.mediaType, l.data)) };
  const read = async (d: OciDescriptor) => {
    const b = blobs.get(d.digest);
    if (!b) throw new Error(`missing ${d.digest}`);
    return b;
  };
  return { manifest, read };
}

const tgz = (files: Record<string, Buffer>) => reproducibleGzip(writeTar(Object.entries(files).map(([name, data]) => ({ name, data }))));

describe("Istio acceptance rules", () => {
  it("accepts our compat and artifact images and extracts the exact module", async () => {
    for (const format of ["compat", "artifact"] as const) {
      const img = buildWasmImage(wasm, { format, version: "1" });
      const got = await extractWasmLikeIstio(img.manifest, img.manifest.mediaType, async (d) => img.blobs.get(d.digest as Digest)!);
      expect(got.format).toBe(format);
      expect(got.wasm).toEqual(wasm);
      expect(got.wasmDigest).toBe(img.wasmDigest);
    }
  });

  it("compat: only the LAST layer counts, matched by base name plugin.wasm", async () => {
    const f = fixture([
      { mediaType: mt.OCI_LAYER_TAR_GZIP, data: tgz({ "other.txt": Buffer.from("x") }) },
      { mediaType: mt.OCI_LAYER_TAR_GZIP, data: tgz({ "etc/readme": Buffer.from("r"), "dir/plugin.wasm": wasm }) },
    ]);
    expect((await extractWasmLikeIstio(f.manifest, undefined, f.read)).wasm).toEqual(wasm);
    const wrongOrder = fixture([
      { mediaType: mt.OCI_LAYER_TAR_GZIP, data: tgz({ "plugin.wasm": wasm }) },
      { mediaType: mt.OCI_LAYER_TAR_GZIP, data: tgz({ "other.txt": Buffer.from("x") }) },
    ]);
    await expect(extractWasmLikeIstio(wrongOrder.manifest, undefined, wrongOrder.read)).rejects.toThrow(/plugin\.wasm not found in the archive/);
  });

  it("Docker schema 2 images need the docker rootfs tar.gzip type on the last layer", async () => {
    const ok = fixture([{ mediaType: mt.DOCKER_LAYER_TAR_GZIP, data: tgz({ "plugin.wasm": wasm }) }], mt.DOCKER_MANIFEST_V2);
    expect((await extractWasmLikeIstio(ok.manifest, mt.DOCKER_MANIFEST_V2, ok.read)).format).toBe("docker");
    const bad = fixture([{ mediaType: mt.OCI_LAYER_TAR_GZIP, data: tgz({ "plugin.wasm": wasm }) }], mt.DOCKER_MANIFEST_V2);
    await expect(extractWasmLikeIstio(bad.manifest, mt.DOCKER_MANIFEST_V2, bad.read)).rejects.toThrow(/invalid media type/);
  });

  it("rejects a one-layer artifact (Istio: number of layers must be 2)", async () => {
    const f = fixture([{ mediaType: mt.WASM_CONTENT_LAYER, data: wasm }]);
    await expect(extractWasmLikeIstio(f.manifest, undefined, f.read)).rejects.toThrow(/number of layers must be 2 but got 1/);
  });

  it("rejects a three-layer artifact and a two-layer one without the wasm media type", async () => {
    const three = fixture([
      { mediaType: mt.WASM_CONTENT_LAYER, data: wasm },
      { mediaType: mt.WASM_CONFIG, data: Buffer.from("{}") },
      { mediaType: mt.WASM_CONFIG, data: Buffer.from("{ }") },
    ]);
    await expect(extractWasmLikeIstio(three.manifest, undefined, three.read)).rejects.toThrow(/number of layers must be 2 but got 3/);
    const noWasm = fixture([
      { mediaType: "application/octet-stream", data: wasm },
      { mediaType: mt.WASM_CONFIG, data: Buffer.from("{}") },
    ]);
    await expect(extractWasmLikeIstio(noWasm.manifest, undefined, noWasm.read)).rejects.toThrow(/could not find the layer of type/);
  });

  it("rejects an uncompressed tar layer, like Istio's own invalid-image case", async () => {
    const f = fixture([{ mediaType: "application/vnd.oci.image.layer.v1.tar", data: writeTar([{ name: "not-wasm.txt", data: Buffer.from("a") }]) }]);
    await expect(extractWasmLikeIstio(f.manifest, undefined, f.read)).rejects.toThrow(
      /not compat \(invalid media type application\/vnd\.oci\.image\.layer\.v1\.tar \(expect application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip\)\); not an artifact \(number of layers must be 2 but got 1\)/,
    );
  });

  it("additionally requires the module to start with \\0asm", async () => {
    const f = fixture([{ mediaType: mt.OCI_LAYER_TAR_GZIP, data: tgz({ "plugin.wasm": Buffer.from("MZ not wasm") }) }]);
    await expect(extractWasmLikeIstio(f.manifest, undefined, f.read)).rejects.toThrow(/not a WebAssembly module/);
  });
});
