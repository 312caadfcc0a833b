/**
 * OCI image layout (image-spec `image-layout.md`): a directory with `oci-layout`, `index.json`
 * and `blobs/sha256/<hex>`, and the same tree as a `.tar` (what `skopeo` calls `oci-archive:`).
 */
import { readFile, stat, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeDirAtomic, writeFileAtomic } from "./atomic-fs.js";
import { type Digest, digestHex, isDigest, verifyDigest } from "./digest.js";
import { OciError } from "./errors.js";
import type { OciDescriptor, OciManifest, WasmImage } from "./image.js";
import { jsonBytes } from "./image.js";
import { ANNOTATION_REF_NAME, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
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

/** Writes `image` as a layout directory at `dir` (atomically). */
export async function writeLayoutDir(dir: string, image: StoredImage, tag: string): Promise<void> {
  const entries = layoutEntries(image, tag);
  await writeDirAtomic(dir, async (tmp) => {
    await mkdir(join(tmp, "blobs", "sha256"), { recursive: true });
    for (const e of entries) await writeFile(join(tmp, e.name), e.data);
  });
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
  /** Reads a blob and verifies its digest. */
  readBlob(digest: string): Promise<Buffer>;
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
export async function openLayout(path: string): Promise<OciLayout> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new OciError("E_BAD_LAYOUT", `no OCI layout at ${path} (run 'wayroute pack --out ${path}' first)`);
  }
  let readRaw: (name: string) => Promise<Buffer | undefined>;
  if (info.isDirectory()) {
    readRaw = async (name) => readFile(join(path, name)).catch(() => undefined);
  } else {
    const entries = new Map(readTar(await readFile(path)).map((e) => [e.name.replace(/^\.\//, ""), Buffer.from(e.data)]));
    readRaw = async (name) => entries.get(name);
  }
  const marker = await readRaw("oci-layout");
  if (!marker) throw new OciError("E_BAD_LAYOUT", `${path} is not an OCI image layout (no oci-layout file)`);
  const indexBytes = await readRaw("index.json");
  if (!indexBytes) throw new OciError("E_BAD_LAYOUT", `${path} has no index.json`);
  const index = parseJson<{ manifests?: OciDescriptor[] }>(indexBytes, `${path}/index.json`);
  const manifests = (index.manifests ?? []).map((d, i) => {
    checkedDigest(d.digest, `${path}/index.json manifests[${i}]`);
    return { descriptor: d, tag: d.annotations?.[ANNOTATION_REF_NAME] };
  });
  return {
    manifests,
    async readBlob(digest) {
      const d = checkedDigest(digest, path);
      const data = await readRaw(`blobs/sha256/${digestHex(d)}`);
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
  const bytes = await layout.readBlob(ref.descriptor.digest);
  return { bytes, manifest: parseJson<OciManifest>(bytes, `manifest ${ref.descriptor.digest}`) };
}

