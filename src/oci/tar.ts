/**
 * A minimal, deterministic ustar writer and a reader for regular files. We write the tar
 * ourselves so that every metadata field (mtime, uid, gid, owner names, mode) is fixed and the
 * same input always gives the same bytes, hence the same layer digest.
 */
import { OciError } from "./errors.js";

const BLOCK = 512;

/** One regular file in an archive. */
export interface TarEntry {
  /** Path inside the archive, at most 100 bytes (we never need the ustar prefix field). */
  name: string;
  data: Uint8Array;
  /** Permission bits; defaults to 0o644. Directories are not supported. */
  mode?: number;
}

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > length) throw new OciError("E_BAD_LAYOUT", `tar field too long: ${value}`);
  bytes.copy(header, offset);
}

/** Octal number, zero padded to `length - 1` digits and NUL terminated, as ustar expects. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new OciError("E_BAD_LAYOUT", `tar numeric field overflow: ${value}`);
  writeString(header, offset, length, digits.padStart(length - 1, "0") + "\0");
}

function headerFor(entry: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  writeString(h, 0, 100, entry.name); // name
  writeOctal(h, 100, 8, entry.mode ?? 0o644); // mode
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, entry.data.length); // size
  writeOctal(h, 136, 12, 0); // mtime: the epoch, for reproducibility
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h[156] = 0x30; // typeflag '0': regular file
  writeString(h, 257, 6, "ustar\0"); // magic
  writeString(h, 263, 2, "00"); // version
  // uname/gname stay empty, devmajor/devminor zero: nothing host-specific leaks in.
  writeOctal(h, 329, 8, 0);
  writeOctal(h, 337, 8, 0);
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** Serialises `entries` in the given order into a ustar archive with the two-block trailer. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(headerFor(entry), Buffer.from(entry.data));
    const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

function readString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? length : nul).toString("utf8");
}

function readOctal(buf: Buffer, offset: number, length: number): number {
  const s = readString(buf, offset, length).trim();
  if (!/^[0-7]*$/.test(s)) throw new OciError("E_BAD_IMAGE", "malformed tar header (bad octal field)");
  return s ? parseInt(s, 8) : 0;
}

/**
 * Reads the regular files (typeflag '0' or NUL) of a ustar/GNU archive, with the ustar prefix
 * joined to the name. Other entry types are skipped. Throws E_BAD_IMAGE on a truncated archive.
 */
export function readTar(archive: Uint8Array): TarEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const out: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = readOctal(h, 124, 12);
    const type = h[156];
    const prefix = readString(h, 257, 6) === "ustar" ? readString(h, 345, 155) : "";
    const base = readString(h, 0, 100);
    const name = prefix ? `${prefix}/${base}` : base;
    const start = off + BLOCK;
    if (start + size > buf.length) throw new OciError("E_BAD_IMAGE", `truncated tar archive at ${name}`);
    if (type === 0x30 || type === 0) {
      out.push({ name, data: buf.subarray(start, start + size), mode: readOctal(h, 100, 8) });
    }
    off = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
