/**
 * Finding 4: the module `inspect` reports must be the one Istio loads. Istio's fetcher walks the
 * layer with Go's archive/tar and takes the FIRST entry whose filepath.Base is plugin.wasm. The
 * archives here are built byte by byte: PAX extended headers and GNU long names that rename an
 * innocent-looking entry, global headers, links, bad checksums, sparse files. Where python3 is
 * available, its tarfile module (which reads PAX and GNU names the same way) cross-checks the
 * names we see.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { sha256Digest } from "../../src/oci/digest.js";
import { OciError } from "../../src/oci/errors.js";
import { readTar } from "../../src/oci/tar.js";
import { tinyWasm } from "../oci/helpers.js";
import { extract, pax, tar } from "./tar-fixtures.js";

const A = tinyWasm(40, 1); // the module an attacker hides
const B = tinyWasm(40, 2); // the decoy our old reader picked

/** Names python3's tarfile gives the members, or undefined without python3. */
function pythonNames(archive: Buffer): string[] | undefined {
  const r = spawnSync("python3", ["-c", "import sys,tarfile,io\nt=tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()))\nprint('\\n'.join(m.name for m in t.getmembers()))"], { input: archive });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.toString().split("\n").filter(Boolean);
}

describe("the module Istio would run is the one we report", () => {
  it("a PAX path record renames the next entry: readme.txt is really plugin.wasm", async () => {
    const archive = tar([
      { name: "PaxHeaders/readme.txt", type: "x", data: pax({ path: "plugin.wasm" }) },
      { name: "readme.txt", data: A },
      { name: "plugin.wasm", data: B },
    ]);
    expect((await extract(archive)).wasmDigest).toBe(sha256Digest(A));
    expect(readTar(archive).map((e) => e.name)).toEqual(["plugin.wasm", "plugin.wasm"]);
    const py = pythonNames(archive);
    if (py) expect(py).toEqual(["plugin.wasm", "plugin.wasm"]);
  });

  it("a PAX record applies to the next entry only", async () => {
    const archive = tar([
      { name: "PaxHeaders/x", type: "x", data: pax({ path: "docs/notes.txt" }) },
      { name: "plugin.wasm", data: B }, // renamed away: not the module
      { name: "dir/plugin.wasm", data: A },
    ]);
    expect((await extract(archive)).wasmDigest).toBe(sha256Digest(A));
  });

  it("a GNU long name renames the next entry", async () => {
    const archive = tar([
      { name: "././@LongLink", type: "L", gnu: true, data: Buffer.from("very/long/path/plugin.wasm\0") },
      { name: "x", gnu: true, data: A },
      { name: "plugin.wasm", gnu: true, data: B },
    ]);
    expect((await extract(archive)).wasmDigest).toBe(sha256Digest(A));
    const py = pythonNames(archive);
    if (py) expect(py[0]).toBe("very/long/path/plugin.wasm");
  });

  it("a GNU long name wins over a PAX path for the same entry (Go applies it last)", async () => {
    const archive = tar([
      { name: "p", type: "x", data: pax({ path: "other.txt" }) },
      { name: "././@LongLink", type: "L", gnu: true, data: Buffer.from("plugin.wasm\0") },
      { name: "x", data: A },
      { name: "plugin.wasm", data: B },
    ]);
    expect((await extract(archive)).wasmDigest).toBe(sha256Digest(A));
  });

  it("a PAX size record overrides the header's size field", async () => {
    const archive = tar([
      { name: "p", type: "x", data: pax({ size: String(A.length) }) },
      { name: "plugin.wasm", data: A, size: 0 },
      { name: "plugin.wasm", data: B },
    ]);
    expect((await extract(archive)).wasmDigest).toBe(sha256Digest(A));
  });

  it("the ustar prefix is part of the name, and a trailing slash does not hide the base name", async () => {
    const prefixed = tar([{ name: "plugin.wasm", prefix: "some/dir", data: A }, { name: "plugin.wasm", data: B }]);
    expect(readTar(prefixed)[0]!.name).toBe("some/dir/plugin.wasm");
    expect((await extract(prefixed)).wasmDigest).toBe(sha256Digest(A));
    const slashed = tar([
      { name: "p", type: "x", data: pax({ path: "a/plugin.wasm/" }) },
      { name: "q", data: A },
      { name: "plugin.wasm", data: B },
    ]);
    expect((await extract(slashed)).wasmDigest).toBe(sha256Digest(A));
  });

  it("the first match wins whatever its type: a symlink or global header named plugin.wasm gives Istio an empty module", async () => {
    const link = tar([{ name: "plugin.wasm", type: "2" }, { name: "real/plugin.wasm", data: B }]);
    await expect(extract(link)).rejects.toThrow(/not a WebAssembly module/);
    const global = tar([{ name: "g", type: "g", data: pax({ path: "plugin.wasm" }) }, { name: "plugin.wasm", data: B }]);
    await expect(extract(global)).rejects.toThrow(/not a WebAssembly module/);
    // A directory entry with a size cannot be read by io.ReadFull: Istio fails, so do we.
    const dir = tar([{ name: "plugin.wasm/", type: "5", size: 100 }, { name: "x/plugin.wasm", data: B }]);
    await expect(extract(dir)).rejects.toThrow(/failed to read plugin.wasm/);
  });

  it("a header with a bad checksum, a malformed PAX record or a sparse file is refused", async () => {
    for (const archive of [
      tar([{ name: "plugin.wasm", data: A, badChecksum: true }]),
      tar([{ name: "p", type: "x", data: Buffer.from("99 path=plugin.wasm\n") }, { name: "x", data: A }]),
      tar([{ name: "p", type: "x", data: pax({ "GNU.sparse.map": "0,10" }) }, { name: "plugin.wasm", data: A }]),
      tar([{ name: "plugin.wasm", type: "S", gnu: true, data: A }]),
    ]) {
      const err = await extract(archive).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OciError);
      expect((err as OciError).code).toBe("E_BAD_IMAGE");
    }
  });

  it("a truncated archive before the module fails; garbage after the module does not matter", async () => {
    const full = tar([{ name: "a.txt", data: Buffer.alloc(2000, 1) }, { name: "plugin.wasm", data: A }]);
    await expect(extract(full.subarray(0, 1024))).rejects.toThrow(/unexpected end of archive/);
    const trailing = Buffer.concat([tar([{ name: "plugin.wasm", data: A }]).subarray(0, 1024), Buffer.alloc(512, 0x41)]);
    expect((await extract(trailing)).wasmDigest).toBe(sha256Digest(A));
  });
});
