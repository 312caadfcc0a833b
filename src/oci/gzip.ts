/**
 * Reproducible gzip. zlib already writes mtime 0 when given a buffer, but the OS byte in the
 * header is the build platform's (3 on Unix, other values elsewhere) and XFL follows the level.
 * We pin both so the layer digest does not depend on where `pack` ran. The deflate stream itself
 * is zlib's at level 9; a different zlib build could in principle compress differently, so the
 * digest is reproducible for a given Node release.
 */
import { createGunzip, gunzipSync, gzipSync, constants } from "node:zlib";
import { OciError } from "./errors.js";

/** OS byte we write: 255 "unknown", the value Go's gzip writer uses too. */
export const GZIP_OS_UNKNOWN = 0xff;
/** XFL byte for "maximum compression", which is what level 9 produces. */
export const GZIP_XFL_MAX = 0x02;

/** Gzips `data` with a fixed header (no name, mtime 0, XFL 2, OS 255). */
export function reproducibleGzip(data: Uint8Array): Buffer {
  const out = gzipSync(data, { level: constants.Z_BEST_COMPRESSION, memLevel: 8, windowBits: 15 });
  // Header: ID1 ID2 CM FLG MTIME(4) XFL OS. FLG is 0 (no name/comment/extra), MTIME is 0.
  out.writeUInt32LE(0, 4);
  out[8] = GZIP_XFL_MAX;
  out[9] = GZIP_OS_UNKNOWN;
  return out;
}

/** Default cap on what one layer may inflate to. */
export const DEFAULT_MAX_INFLATED_BYTES = 512 << 20;

/** Inflates gzip data whole, refusing (E_TOO_LARGE) output over `maxBytes`. */
export function gunzip(data: Uint8Array, maxBytes = DEFAULT_MAX_INFLATED_BYTES): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(maxBytes);
    throw err;
  }
}

function tooLarge(maxBytes: number): OciError {
  return new OciError("E_TOO_LARGE", `the layer inflates to more than ${maxBytes} bytes; refusing a likely gzip bomb`);
}

/**
 * Inflates gzip data as a stream of chunks, failing with E_TOO_LARGE once more than `maxBytes`
 * came out. The consumer may stop early: the inflater is destroyed and inflates no further, so
 * a bomb costs only what was read of it.
 */
export async function* gunzipChunks(data: Uint8Array, maxBytes = DEFAULT_MAX_INFLATED_BYTES): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: 64 << 10 });
  gz.end(data);
  let total = 0;
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge(maxBytes);
      yield chunk;
    }
  } finally {
    gz.destroy();
  }
}
