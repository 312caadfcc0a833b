/**
 * A minimal, deterministic ustar writer, and a reader that walks an archive exactly as Go's
 * `archive/tar` `Reader.Next` does (the reader Istio's Wasm fetcher uses): header checksums, the
 * ustar/star prefix, octal and base-256 numbers, PAX extended headers (`path`, `linkpath`,
 * `size`, ...) applying to the next entry only, PAX global headers returned as entries of their
 * own, GNU long names and long links, header-only types carrying no data. What an entry is
 * called is therefore what Istio sees. GNU sparse files are refused rather than guessed at.
 * We write the tar ourselves so that every metadata field (mtime, uid, gid, owner names, mode)
 * is fixed and the same input always gives the same bytes, hence the same layer digest.
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

/** An entry as Go's `tar.Reader.Next` returns it (the fields we need). */
export interface TarHeader {
  name: string;
  linkname: string;
  /** Typeflag character ('0', '5', 'g', ...; '\0' for old regular files). */
  type: string;
  /** `Header.Size`: the logical size after PAX records. */
  size: number;
  /** Bytes of data that follow the header in the archive (0 for header-only types). */
  dataSize: number;
  /** Permission bits. */
  mode: number;
}

/** A request the walker makes to whatever feeds it bytes. */
export type TarOp = { kind: "read"; n: number } | { kind: "skip"; n: number };

/** Go's `maxSpecialFileSize`: PAX and GNU long-name data above this is refused. */
const MAX_SPECIAL_FILE = 1 << 20;
/** Types whose data section is empty whatever the size field says (Go's `isHeaderOnlyType`). */
const HEADER_ONLY = new Set(["1", "2", "3", "4", "5", "6"]);

function bad(why: string): OciError {
  return new OciError("E_BAD_IMAGE", `malformed tar archive: ${why}`);
}

/** NUL-terminated string, bytes kept as they are (latin1 maps each byte to one code unit). */
function cString(b: Buffer, off: number, len: number): string {
  const f = b.subarray(off, off + len);
  const nul = f.indexOf(0);
  return f.subarray(0, nul < 0 ? len : nul).toString("latin1");
}

/** Go's `parser.parseNumeric`: base-256 when the top bit is set, else octal trimmed of spaces and NULs. */
function parseNumeric(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len);
  if (f.length > 0 && f[0]! & 0x80) {
    const negative = (f[0]! & 0x40) !== 0;
    let n = 0n;
    for (let i = 0; i < f.length; i++) {
      let c = BigInt(negative ? f[i]! ^ 0xff : f[i]!);
      if (i === 0) c &= 0x7fn;
      n = (n << 8n) | c;
    }
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad("numeric field overflow");
    return negative ? -Number(n) - 1 : Number(n);
  }
  const s = f.toString("latin1").replace(/^[ \0]+|[ \0]+$/g, "");
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw bad("bad octal field");
  const n = parseInt(s, 8);
  if (!Number.isSafeInteger(n)) throw bad("numeric field overflow");
  return n;
}

/** Parses one 512-byte header block; throws on a checksum mismatch (Go: ErrHeader). */
function parseHeader(h: Buffer): TarHeader & { format: "ustar" | "star" | "gnu" | "v7" } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += c;
    signed += c < 128 ? c : c - 256;
  }
  let chksum: number;
  try {
    chksum = parseNumeric(h, 148, 8);
  } catch {
    throw bad("invalid header");
  }
  if (chksum !== unsigned && chksum !== signed) throw bad("invalid header checksum");
  const magic = h.toString("latin1", 257, 263);
  const version = h.toString("latin1", 263, 265);
  const trailer = h.toString("latin1", 508, 512);
  const format = magic === "ustar\0" ? (trailer === "tar\0" ? "star" : "ustar") : magic === "ustar " && version === " \0" ? "gnu" : "v7";
  let name = cString(h, 0, 100);
  const prefix = format === "ustar" ? cString(h, 345, 155) : format === "star" ? cString(h, 345, 131) : "";
  if (prefix) name = `${prefix}/${name}`;
  const size = parseNumeric(h, 124, 12);
  const type = String.fromCharCode(h[156]!);
  return { name, linkname: cString(h, 157, 100), type, size, dataSize: 0, mode: parseNumeric(h, 100, 8), format };
}

/** Go's `parsePAXRecord` over the whole extended header; throws on any malformed record. */
function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let s = data.toString("latin1");
  while (s.length > 0) {
    const sp = s.indexOf(" ");
    if (sp < 0) throw bad("malformed PAX record");
    const nStr = s.slice(0, sp);
    if (!/^[+-]?[0-9]+$/.test(nStr)) throw bad("malformed PAX record length");
    const n = Number(nStr);
    if (n < 5 || n > s.length) throw bad("malformed PAX record length");
    const rec = s.slice(sp + 1, n - 1);
    if (n - (sp + 1) <= 0 || s[n - 1] !== "\n") throw bad("PAX record does not end with a newline");
    const eq = rec.indexOf("=");
    if (eq < 0) throw bad("PAX record without '='");
    const k = rec.slice(0, eq);
    const v = rec.slice(eq + 1);
    if (k === "" || (["path", "linkpath", "uname", "gname"].includes(k) ? v.includes("\0") : k.includes("\0"))) throw bad("invalid PAX record");
    out.set(k, v);
    s = s.slice(n);
  }
  return out;
}

const INT = /^[+-]?[0-9]+$/;

/** Go's `mergePAX`: records override header fields; a malformed number is ErrHeader. */
function mergePax(h: TarHeader, pax: Map<string, string>): void {
  for (const [k, v] of pax) {
    if (k.startsWith("GNU.sparse.")) throw new OciError("E_BAD_IMAGE", "tar archive holds a GNU sparse file; refusing to guess what Istio would read from it");
    switch (k) {
      case "path":
        h.name = v;
        break;
      case "linkpath":
        h.linkname = v;
        break;
      case "size":
      case "uid":
      case "gid":
        if (!INT.test(v) || !Number.isSafeInteger(Number(v))) throw bad(`bad PAX ${k}`);
        if (k === "size") h.size = Number(v);
        break;
      case "atime":
      case "mtime":
      case "ctime":
        if (!/^[+-]?[0-9]+(\.[0-9]*)?$/.test(v)) throw bad(`bad PAX ${k}`);
        break;
      default:
        break;
    }
  }
}

/**
 * Walks an archive like Go's `tar.Reader`: yields byte requests (a read answers with up to `n`
 * bytes, shorter only at the end of input; a skip answers with an empty buffer, or null when the
 * input ended first) and calls `visit` for each entry Next would return. `visit` answers with
 * the number of data bytes it wants handed to `take` (0 for none), or "stop".
 */
export function* walkTar(
  visit: (h: TarHeader) => number | "stop",
  take: (h: TarHeader, data: Buffer) => "continue" | "stop",
): Generator<TarOp, void, Buffer | null> {
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = (yield { kind: "read", n: BLOCK })!;
    if (block.length === 0) return; // io.EOF: the end of the archive
    if (block.length < BLOCK) throw bad("unexpected end of archive");
    if (block.every((b) => b === 0)) {
      const next = (yield { kind: "read", n: BLOCK })!;
      if (next.length === 0 || next.every((b) => b === 0)) return;
      throw bad("a zero block followed by a header");
    }
    const h = parseHeader(block);
    if (h.size < 0) throw bad("negative size");
    const physical = HEADER_ONLY.has(h.type) ? 0 : h.size;
    const padded = Math.ceil(physical / BLOCK) * BLOCK;
    if (h.type === "x" || h.type === "g" || h.type === "L" || h.type === "K") {
      if (physical > MAX_SPECIAL_FILE) throw bad("extended header too long");
      const data = (yield { kind: "read", n: physical })!;
      if (data.length < physical) throw bad("unexpected end of archive");
      if (padded > physical && !(yield { kind: "skip", n: padded - physical })) throw bad("unexpected end of archive");
      if (h.type === "x" || h.type === "g") {
        pax = parsePax(data);
        if (h.type === "x") continue;
        // A global header is returned to the caller as an entry of its own, with no data.
        const g: TarHeader = { name: h.name, linkname: h.linkname, type: "g", size: 0, dataSize: 0, mode: h.mode };
        mergePax(g, pax);
        g.size = 0;
        pax = undefined;
        const want = visit(g);
        if (want === "stop") return;
        if (want > 0 && take(g, Buffer.alloc(0)) === "stop") return;
        longName = longLink = undefined;
        continue;
      }
      const text = cString(data, 0, data.length);
      if (h.type === "L") longName = text;
      else longLink = text;
      continue;
    }
    if (h.type === "S") throw new OciError("E_BAD_IMAGE", "tar archive holds a GNU sparse file; refusing to guess what Istio would read from it");
    const entry: TarHeader = { name: h.name, linkname: h.linkname, type: h.type, size: h.size, dataSize: 0, mode: h.mode };
    if (pax) mergePax(entry, pax);
    if (longName !== undefined && longName !== "") entry.name = longName;
    if (longLink !== undefined && longLink !== "") entry.linkname = longLink;
    if (entry.type === "\0") entry.type = entry.name.endsWith("/") ? "5" : "0";
    if (entry.size < 0) throw bad("negative size");
    entry.dataSize = HEADER_ONLY.has(entry.type) ? 0 : entry.size;
    pax = undefined;
    longName = longLink = undefined;
    const want = visit(entry);
    if (want === "stop") return;
    const wanted = Math.min(want, entry.dataSize);
    if (wanted > 0 || want > 0) {
      const data = (yield { kind: "read", n: wanted })!;
      if (data.length < wanted) throw bad("unexpected end of archive");
      if (take(entry, data) === "stop") return;
    }
    const rest = Math.ceil(entry.dataSize / BLOCK) * BLOCK - wanted;
    if (rest > 0 && !(yield { kind: "skip", n: rest })) throw bad("unexpected end of archive");
  }
}

/** Runs {@link walkTar} over an archive in memory. */
function walkBuffer(archive: Buffer, walker: Generator<TarOp, void, Buffer | null>): void {
  let off = 0;
  let step = walker.next();
  while (!step.done) {
    const op = step.value;
    if (op.kind === "read") {
      const end = Math.min(archive.length, off + op.n);
      const out = archive.subarray(off, end);
      off = end;
      step = walker.next(out);
    } else {
      const ok = off + op.n <= archive.length;
      off = Math.min(archive.length, off + op.n);
      step = walker.next(ok ? Buffer.alloc(0) : null);
    }
  }
}

/**
 * Reads the regular files of an archive under the names Go's reader gives them (PAX and GNU long
 * names applied). Throws E_BAD_IMAGE on a malformed or truncated archive.
 */
export function readTar(archive: Uint8Array): TarEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const out: TarEntry[] = [];
  const regular = (h: TarHeader) => h.type === "0" || h.type === "7";
  walkBuffer(
    buf,
    walkTar(
      (h) => (regular(h) ? Math.max(1, h.dataSize) : 0),
      (h, data) => {
        if (regular(h)) out.push({ name: h.name, data, mode: h.mode });
        return "continue";
      },
    ),
  );
  return out;
}

/**
 * Finds the entry Istio's fetcher takes from a layer's tar: the FIRST entry (of any type) whose
 * `filepath.Base` equals `fileName`, reading its `Header.Size` bytes. Stops reading there.
 * `maxBytes` caps the module; a header-only entry with a non-zero size fails as `io.ReadFull`
 * does in Istio. Returns undefined when no entry matches.
 */
export async function findEntryLikeIstio(source: AsyncIterable<Uint8Array>, fileName: string, maxBytes: number): Promise<Buffer | undefined> {
  let found: Buffer | undefined;
  let failure: Error | undefined;
  const walker = walkTar(
    (h) => {
      if (goBase(h.name) !== fileName) return 0;
      if (h.size > maxBytes) {
        failure = new OciError("E_TOO_LARGE", `${fileName} in the layer is ${h.size} bytes, over the ${maxBytes} bytes allowed`);
        return "stop";
      }
      if (h.size > h.dataSize) {
        failure = new Error(`failed to read ${fileName}: unexpected EOF`);
        return "stop";
      }
      return h.size === 0 ? 1 : h.size;
    },
    (h, data) => {
      found = h.size === 0 ? Buffer.alloc(0) : data;
      return "stop";
    },
  );
  const reader = new ChunkReader(source);
  try {
    let step = walker.next();
    while (!step.done) {
      const op = step.value;
      step = walker.next(op.kind === "read" ? await reader.read(op.n) : (await reader.skip(op.n)) ? Buffer.alloc(0) : null);
    }
  } finally {
    await reader.close();
  }
  if (failure) throw failure;
  return found;
}

/** Go's `filepath.Base` on Unix. */
export function goBase(path: string): string {
  if (path === "") return ".";
  const p = path.replace(/\/+$/, "");
  if (p === "") return "/";
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Exact-length reads and skips over an async byte stream, holding at most one chunk plus the read. */
class ChunkReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private head: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const c = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.head = this.head.length ? Buffer.concat([this.head, c]) : c;
    return true;
  }

  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      if (this.head.length === 0 && !(await this.more())) break;
      const take = Math.min(n - got, this.head.length);
      parts.push(this.head.subarray(0, take));
      this.head = this.head.subarray(take);
      got += take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.head.length === 0 && !(await this.more())) return false;
      const take = Math.min(left, this.head.length);
      this.head = this.head.subarray(take);
      left -= take;
    }
    return true;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}
