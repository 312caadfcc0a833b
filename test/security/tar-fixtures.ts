/**
 * Tar archives built byte by byte for the security suites: ustar or GNU headers with any name,
 * type, size field and prefix (a bad checksum on request), and PAX extended-header records.
 */
import { gzipSync } from "node:zlib";
import { sha256Digest } from "../../src/oci/digest.js";
import type { OciDescriptor, OciManifest } from "../../src/oci/image.js";
import { extractWasmLikeIstio } from "../../src/oci/istio-rules.js";
import * as mt from "../../src/oci/media-types.js";

/** One header and its data. */
export interface Raw {
  name: string;
  data?: Buffer;
  type?: string;
  /** Size field, when it should differ from the data length. */
  size?: number;
  gnu?: boolean;
  prefix?: string;
  badChecksum?: boolean;
}

export function header(e: Raw): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, "latin1");
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write((e.size ?? e.data?.length ?? 0).toString(8).padStart(11, "0") + "\0", 124);
  h.write("00000000000\0", 136);
  h.fill(0x20, 148, 156);
  h.write(e.type ?? "0", 156, 1, "latin1");
  if (e.gnu) h.write("ustar  \0", 257, "latin1");
  else {
    h.write("ustar\0", 257, "latin1");
    h.write("00", 263);
    if (e.prefix) h.write(e.prefix, 345, 155, "latin1");
  }
  let sum = 0;
  for (const b of h) sum += b;
  if (e.badChecksum) sum += 1;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return h;
}

export function tar(entries: Raw[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(header(e), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function pax(records: Record<string, string>): Buffer {
  let out = "";
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let n = body.length + 1;
    while (String(n).length + body.length !== n) n = String(n).length + body.length;
    out += `${n}${body}`;
  }
  return Buffer.from(out, "latin1");
}


/** Runs `archive` (gzipped as a compat layer) through our Istio rules. */
export async function extract(archive: Buffer) {
  const layer = gzipSync(archive);
  const config = Buffer.from("{}");
  const blobs = new Map([
    [sha256Digest(config), config],
    [sha256Digest(layer), layer],
  ]);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: mt.OCI_MANIFEST,
    config: { mediaType: mt.OCI_IMAGE_CONFIG, digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: mt.OCI_LAYER_TAR_GZIP, digest: sha256Digest(layer), size: layer.length }],
  };
  return extractWasmLikeIstio(manifest, mt.OCI_MANIFEST, async (d: OciDescriptor) => blobs.get(d.digest)!);
}

