/**
 * OCI image layout (image-spec `image-layout.md`): a directory with `oci-layout`, `index.json`
 * and `blobs/sha256/<hex>`, and the same tree as a `.tar` (what `skopeo` calls `oci-archive:`).
 */
import { constants as fsc } from "node:fs";
import { lstat, open, readdir, readFile, stat, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { checkDirTarget, writeDirAtomic, writeFileAtomic } from "./atomic-fs.js";
import { type Digest, digestHex, isDigest, verifyDigest } from "./digest.js";
import { OciError } from "./errors.js";
import type { OciDescriptor, OciManifest, WasmImage } from "./image.js";
import { jsonBytes } from "./image.js";
import { ANNOTATION_REF_NAME, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { checkDescriptorSize, DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_MANIFEST_BYTES } from "./registry-client.js";
import { readTar, type TarEntry, writeTar } from "./tar.js";

/** What a layout stores: one manifest and the blobs it references. */
export type StoredImage = Pick<WasmImage, "manifest" | "manifestBytes" | "manifestDigest" | "blobs">;

/** The `oci-layout` marker file. */
const OCI_LAYOUT_FILE = jsonBytes({ imageLayoutVersion: "1.0.0" });

/** The files of a layout holding `image` tagged `tag`, in a fixed order (for a reproducible tar). */
export function layoutEntries(image: StoredImage, tag: string): TarEntry[] {
  const index = jsonBytes({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: image.manifest.mediaType ?? OCI_MANIFEST,
        digest: image.manifestDigest,
        size: image.manifestBytes.length,
        annotations: { [ANNOTATION_REF_NAME]: tag },
      },
    ],
  });
  const blobs: TarEntry[] = [{ name: `blobs/sha256/${digestHex(image.manifestDigest)}`, data: image.manifestBytes }];
  for (const [digest, data] of [...image.blobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    blobs.push({ name: `blobs/sha256/${digestHex(digest)}`, data });
  }
  return [{ name: "oci-layout", data: OCI_LAYOUT_FILE }, { name: "index.json", data: index }, ...blobs];
}

/**
 * True when `dir` holds exactly what {@link writeLayoutDir} writes: `oci-layout`, `index.json`
 * and `blobs/sha256/<64 hex>` regular files, nothing else and no symbolic links.
 */
export async function isWrittenLayout(dir: string): Promise<boolean> {
  const entries = async (p: string) => (await readdir(p, { withFileTypes: true }).catch(() => undefined)) ?? [];
  const top = await entries(dir);
  const names = new Set(top.map((e) => e.name));
  if (!names.has("oci-layout") || !names.has("index.json")) return false;
  for (const e of top) {
    if ((e.name === "oci-layout" || e.name === "index.json") && e.isFile()) continue;
    if (e.name === "blobs" && e.isDirectory()) continue;
    return false;
  }
  if (!names.has("blobs")) return true;
  const algs = await entries(join(dir, "blobs"));
  if (algs.some((e) => e.name !== "sha256" || !e.isDirectory())) return false;
  const blobs = algs.length ? await entries(join(dir, "blobs", "sha256")) : [];
  return blobs.every((e) => e.isFile() && /^[a-f0-9]{64}$/.test(e.name));
}

/** Where a layout directory may be written: see {@link checkDirTarget}. */
export async function checkOutputTarget(dir: string, force: boolean): Promise<void> {
  await checkDirTarget(dir, { force, replaceable: isWrittenLayout, kind: "OCI layout" });
}

/**
 * Writes `image` as a layout directory at `dir` (atomically). An existing non-empty `dir` is
 * replaced only with `force`, and only when it is a layout of the shape written here.
 */
export async function writeLayoutDir(dir: string, image: StoredImage, tag: string, opts: { force?: boolean } = {}): Promise<void> {
  const entries = layoutEntries(image, tag);
  await writeDirAtomic(
    dir,
    async (tmp) => {
      await mkdir(join(tmp, "blobs", "sha256"), { recursive: true });
      for (const e of entries) await writeFile(join(tmp, e.name), e.data);
    },
    { force: opts.force === true, replaceable: isWrittenLayout, kind: "OCI layout" },
  );
}

/** Writes `image` as a layout tar at `file` (atomically). */
export async function writeLayoutTar(file: string, image: StoredImage, tag: string): Promise<void> {
  await writeFileAtomic(file, writeTar(layoutEntries(image, tag)));
}

/** A manifest listed in a layout's index. */
export interface LayoutManifestRef {
  descriptor: OciDescriptor;
  /** The `org.opencontainers.image.ref.name` tag, if any. */
  tag?: string;
}

/** A layout opened for reading: the index entries and a digest-verifying blob reader. */
export interface OciLayout {
  manifests: LayoutManifestRef[];
  /**
   * Reads a blob and verifies its digest. With `size` (the descriptor's) the blob must be exactly
   * that long; without it, at most `maxBytes` (default: the blob cap). Symbolic links and
   * anything but a regular file are refused before a byte is read.
   */
  readBlob(digest: string, size?: number, maxBytes?: number): Promise<Buffer>;
}

/** Caps on what reading a layout may cost. */
export interface LayoutLimits {
  /** Largest blob (default 256 MiB). */
  maxBlobBytes?: number;
  /** Largest manifest or index.json (default 4 MiB). */
  maxManifestBytes?: number;
}

/** Largest layout `.tar` read into memory. */
const MAX_LAYOUT_TAR = 1 << 30;

/** Reads a regular file of a layout directory without following a symbolic link at any step. */
async function readLayoutFile(root: string, name: string, cap: number, exact?: number): Promise<Buffer | undefined> {
  const parts = name.split("/");
  for (let i = 1; i < parts.length; i++) {
    const dir = join(root, ...parts.slice(0, i));
    const st = await lstat(dir).catch(() => undefined);
    if (!st) return undefined;
    if (!st.isDirectory()) throw new OciError("E_BAD_LAYOUT", `${dir} is not a plain directory (a symbolic link or special file); refusing to read through it`);
  }
  const path = join(root, name);
  let fh;
  try {
    fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new OciError("E_BAD_LAYOUT", `${path} is a symbolic link; layouts hold blobs as regular files`);
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new OciError("E_BAD_LAYOUT", `${path} is not a regular file`);
    if (st.size > cap) throw new OciError("E_TOO_LARGE", `${path} is ${st.size} bytes, over the ${cap} bytes allowed`);
    if (exact !== undefined && st.size !== exact) throw new OciError("E_BAD_LAYOUT", `${path} is ${st.size} bytes but its descriptor says ${exact}`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}

function parseJson<T>(data: Uint8Array, what: string): T {
  try {
    return JSON.parse(Buffer.from(data).toString("utf8")) as T;
  } catch {
    throw new OciError("E_BAD_LAYOUT", `${what} is not valid JSON`);
  }
}

function checkedDigest(d: string, where: string): Digest {
  if (!isDigest(d)) throw new OciError("E_BAD_LAYOUT", `${where} has an unsupported digest '${d}' (only sha256 is supported)`);
  return d;
}

/** Opens a layout directory or a layout `.tar`. Throws E_BAD_LAYOUT when it is neither. */
export async function openLayout(path: string, limits: LayoutLimits = {}): Promise<OciLayout> {
  const maxBlob = limits.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  const maxManifest = limits.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new OciError("E_BAD_LAYOUT", `no OCI layout at ${path} (run 'wayroute pack --out ${path}' first)`);
  }
  let readRaw: (name: string, cap: number, exact?: number) => Promise<Buffer | undefined>;
  if (info.isDirectory()) {
    readRaw = (name, cap, exact) => readLayoutFile(path, name, cap, exact);
  } else {
    if (!info.isFile()) throw new OciError("E_BAD_LAYOUT", `${path} is neither a directory nor a regular file`);
    if (info.size > MAX_LAYOUT_TAR) throw new OciError("E_TOO_LARGE", `${path} is ${info.size} bytes, over the ${MAX_LAYOUT_TAR} bytes a layout tar may have`);
    const entries = new Map(readTar(await readFile(path)).map((e) => [e.name.replace(/^\.\//, ""), Buffer.from(e.data)]));
    readRaw = async (name, cap, exact) => {
      const data = entries.get(name);
      if (data && data.length > cap) throw new OciError("E_TOO_LARGE", `${path}:${name} is ${data.length} bytes, over the ${cap} bytes allowed`);
      if (data && exact !== undefined && data.length !== exact) throw new OciError("E_BAD_LAYOUT", `${path}:${name} is ${data.length} bytes but its descriptor says ${exact}`);
      return data;
    };
  }
  const marker = await readRaw("oci-layout", 4096);
  if (!marker) throw new OciError("E_BAD_LAYOUT", `${path} is not an OCI image layout (no oci-layout file)`);
  const indexBytes = await readRaw("index.json", maxManifest);
  if (!indexBytes) throw new OciError("E_BAD_LAYOUT", `${path} has no index.json`);
  const index = parseJson<{ manifests?: OciDescriptor[] }>(indexBytes, `${path}/index.json`);
  const manifests = (index.manifests ?? []).map((d, i) => {
    checkedDigest(d.digest, `${path}/index.json manifests[${i}]`);
    return { descriptor: d, tag: d.annotations?.[ANNOTATION_REF_NAME] };
  });
  return {
    manifests,
    async readBlob(digest, size, maxBytes) {
      const d = checkedDigest(digest, path);
      const cap = maxBytes ?? maxBlob;
      if (size !== undefined) checkDescriptorSize(size, cap, `blob ${d} in ${path}`);
      const data = await readRaw(`blobs/sha256/${digestHex(d)}`, size ?? cap, size);
      if (!data) throw new OciError("E_BAD_LAYOUT", `${path} is missing blob ${d}`);
      verifyDigest(data, d, `blob ${d} in ${path}`);
      return data;
    },
  };
}

/** Picks one manifest from a layout: the one tagged `tag`, or the only one. */
export function selectManifest(layout: OciLayout, path: string, tag?: string): LayoutManifestRef {
  if (tag !== undefined) {
    const found = layout.manifests.find((m) => m.tag === tag);
    if (!found) throw new OciError("E_BAD_LAYOUT", `${path} has no manifest tagged '${tag}'`);
    return found;
  }
  if (layout.manifests.length !== 1) {
    throw new OciError("E_BAD_LAYOUT", `${path} holds ${layout.manifests.length} manifests; name one with --tag`);
  }
  return layout.manifests[0];
}

/** Reads the manifest `ref` of `layout`, verifying its digest. */
export async function readLayoutManifest(layout: OciLayout, ref: LayoutManifestRef): Promise<{ bytes: Buffer; manifest: OciManifest }> {
  const size = typeof ref.descriptor.size === "number" ? ref.descriptor.size : undefined;
  const bytes = await layout.readBlob(ref.descriptor.digest, size, DEFAULT_MAX_MANIFEST_BYTES);
  return { bytes, manifest: parseJson<OciManifest>(bytes, `manifest ${ref.descriptor.digest}`) };
}

