/**
 * The bytes the prefix-cache index hashes, built as the EPP's default `estimate` token producer
 * builds them (llm-d-router pkg/epp/framework/plugins/requestcontrol/dataproducer/tokenizer/
 * estimate.go, mm_estimate.go), from a body that `scanBody` validated.
 *
 * API summary
 * - `promptApiForPath(path)`: which request shape the path names (the EPP picks its parser by
 *   path suffix; unknown paths are read by the keys present).
 * - `prefixPrompt(base, len, scan, api, out, parts, maxBytes): bool`: resets `out` and
 *   `parts` and appends the bytes; false when the body has nothing to hash.
 *
 * Bytes per shape (4 bytes stand for one estimated token; media become placeholder tokens):
 * - chat completions (`messages`): the `tools` array as JSON, then per message its role then
 *   its content: a string, or parts: `text` → the text; `image_url` → placeholder tokens;
 *   `video_url` → ceil(len(url)/4) tokens; `input_audio`/`audio_url` → ceil(len(data+format)/4).
 * - Anthropic messages (also `messages`, with `system` or Anthropic `image` parts): tools, the
 *   `system` text, then per message role + text / `image` placeholders.
 * - completions (`prompt`): the string; an array of token ids as 4-byte tokens; an array of
 *   several strings is several prompts (each its own chain: `parts.breaks`).
 * - responses (`input`): `[{"instructions":…},{"tools":…},{"input":…}]` as JSON.
 * - conversations (`items` on a /conversations path): each item as the EPP's struct encodes
 *   it, `{"type":…,"role":…,"content":…}` with empty fields left out.
 * - embeddings (`input` on an /embeddings path): `{"Raw":…,"Strings":…,"TokenIDs":null}`,
 *   the EPP's encoding of its input struct; token ids as tokens.
 * - `cache_salt` (a string) goes to `parts.salt`: it seeds the chains.
 * JSON values are re-encoded as the EPP's json.Marshal writes them: compact, object keys sorted,
 * Go's string escaping (<, >, & as \u003c …), numbers as float64.
 * An image's placeholder count is width*height/1024 from the PNG/GIF/JPEG header of a base64
 * data URL (read as strictly as Go's image decoders read a config: PNG checksums, colour types),
 * else 640*360/1024 = 225, as the EPP's dynamic estimator; the token is a hash of the URL or
 * data. (A JPEG's tables before its frame header are not validated as Go's decoder does.)
 *
 * Cost: one pass over the top-level members plus one over the prompt source. Re-encoded JSON
 * (tools, responses, embeddings) allocates one small record per object member (to sort keys). Values were validated by scanBody (cursors do not recheck).
 */
import { ByteBuffer } from "../json/byte-buffer";
import { decodeString, decodeStringUtf8, scanString } from "../json/string-codec";
import { BodyScan } from "./scanner";
import { ArrayCursor, ObjectCursor, appendString, skipValue, skipWs } from "./prompt";
import { hashBytes } from "../prefix/hash";

export enum PromptApi {
  /** Unknown path: read by the keys present. */
  Auto = 0,
  Chat = 1,
  Completions = 2,
  Responses = 3,
  Embeddings = 4,
  Messages = 5,
  /** /conversations: `items`. */
  Conversations = 6,
}

/** Extra outputs of prefixPrompt. */
export class PromptParts {
  /** Offsets in `out` where a further prompt starts (multi-string completions). */
  breaks: i32[] = [];
  /** Decoded `cache_salt`; empty when none. */
  salt: ByteBuffer = new ByteBuffer(64);

  reset(): void {
    this.breaks.length = 0;
    this.salt.reset();
  }
}

function endsWith(path: string, end: i32, suffix: string): bool {
  let n = suffix.length;
  return end >= n && path.substring(end - n, end) == suffix;
}

/** The EPP's parser choice by path suffix (query string ignored). */
export function promptApiForPath(path: string): PromptApi {
  let end = path.indexOf("?");
  if (end < 0) end = path.length;
  if (endsWith(path, end, "/v1/messages") || endsWith(path, end, "/v1/messages/count_tokens")) return PromptApi.Messages;
  if (endsWith(path, end, "/conversations")) return PromptApi.Conversations;
  if (endsWith(path, end, "/responses")) return PromptApi.Responses;
  if (endsWith(path, end, "/chat/completions") || endsWith(path, end, "/chat/completions/render")) return PromptApi.Chat;
  if (endsWith(path, end, "/completions") || endsWith(path, end, "/completions/render")) return PromptApi.Completions;
  if (endsWith(path, end, "/embeddings")) return PromptApi.Embeddings;
  return PromptApi.Auto;
}

// One cursor per nesting role, allocated once per VM.
const topCursor = new ObjectCursor();
const msgList = new ArrayCursor();
const msgCursor = new ObjectCursor();
const blockList = new ArrayCursor();
const blockCursor = new ObjectCursor();
const innerCursor = new ObjectCursor();
const scratch = new ByteBuffer(256);

// @ts-ignore: decorator
@inline
function byteAt(base: usize, p: i32): u32 {
  return <u32>load<u8>(base + <usize>p);
}

/** Zero-pads `out` to a whole 4-byte token (the EPP's align). */
function align(out: ByteBuffer): void {
  // A counted loop: at the buffer's limit pushes are dropped, and the length stops moving.
  for (let pad = (4 - (out.length & 3)) & 3; pad > 0; pad--) out.pushByte(0);
}

/** `count` placeholder tokens, each the low 32 bits of a hash of `[p, p+len)`. */
function appendPlaceholder(out: ByteBuffer, p: usize, len: i32, count: i32): void {
  align(out);
  let token = <u32>hashBytes(0, p, len);
  for (let i = 0; i < count; i++) {
    out.pushByte(token & 0xff);
    out.pushByte((token >> 8) & 0xff);
    out.pushByte((token >> 16) & 0xff);
    out.pushByte(token >> 24);
  }
}

function tokensForLength(n: i32): i32 {
  let t = (n + 3) >> 2;
  return t > 0 ? t : 1;
}

// ---- JSON re-encoding as Go's encoding/json writes a decoded value ----

const HEX = "0123456789abcdef";

function pushUnicodeEscape(out: ByteBuffer, cp: u32): void {
  out.pushByte(0x5c);
  out.pushByte(0x75);
  for (let s = 12; s >= 0; s -= 4) out.pushByte(<u32>HEX.charCodeAt((cp >> s) & 0xf));
}

/** Go's string encoding of the decoded UTF-8 in `[p, p+len)` (quotes included). */
function pushGoString(out: ByteBuffer, p: usize, len: i32): void {
  out.pushByte(0x22);
  for (let i = 0; i < len; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    if (c == 0x22 || c == 0x5c) {
      out.pushByte(0x5c);
      out.pushByte(c);
    } else if (c == 0x3c || c == 0x3e || c == 0x26) {
      pushUnicodeEscape(out, c);
    } else if (c < 0x20) {
      out.pushByte(0x5c);
      if (c == 0x0a) out.pushByte(0x6e);
      else if (c == 0x0d) out.pushByte(0x72);
      else if (c == 0x09) out.pushByte(0x74);
      else if (c == 0x08) out.pushByte(0x62);
      else if (c == 0x0c) out.pushByte(0x66);
      else {
        out.truncate(out.length - 1);
        pushUnicodeEscape(out, c);
      }
    } else if (c == 0xe2 && i + 2 < len && load<u8>(p + <usize>(i + 1)) == 0x80 &&
      (load<u8>(p + <usize>(i + 2)) == 0xa8 || load<u8>(p + <usize>(i + 2)) == 0xa9)) {
      pushUnicodeEscape(out, load<u8>(p + <usize>(i + 2)) == 0xa8 ? 0x2028 : 0x2029);
      i += 2;
    } else {
      out.pushByte(c);
    }
  }
  out.pushByte(0x22);
}

/** Appends the string token at [p, q) (quotes included) re-encoded the Go way. */
function appendGoStringToken(base: usize, p: i32, q: i32, out: ByteBuffer): void {
  scratch.reset();
  decodeStringUtf8(base, p + 1, q - 1, scratch);
  pushGoString(out, scratch.dataStart, scratch.length);
}

/** A JSON number as Go's encoding/json writes the float64 it decodes to. */
function appendGoNumber(base: usize, p: i32, q: i32, out: ByteBuffer): void {
  let plainInt = q - p <= 15;
  for (let i = p; i < q && plainInt; i++) {
    let c = byteAt(base, i);
    if (!((c >= 0x30 && c <= 0x39) || (c == 0x2d && i == p))) plainInt = false;
  }
  if (plainInt) {
    out.pushBytes(base + <usize>p, q - p);
    return;
  }
  let f = parseFloat(String.UTF8.decodeUnsafe(base + <usize>p, <usize>(q - p)));
  if (f == Math.floor(f) && Math.abs(f) < 1e15) {
    if (f == 0 && 1 / f < 0) out.pushString("-0");
    else out.pushString((<i64>f).toString());
    return;
  }
  // Shortest round-trip digits; Go and JS switch to exponents at the same bounds (1e-6, 1e21).
  let t = f.toString();
  if (t.endsWith(".0")) t = t.substring(0, t.length - 2);
  out.pushString(t);
}

/** Member spans of one object, sorted by key the way Go orders map keys. */
class Member {
  constructor(public key: string, public ks: i32, public ke: i32, public vs: i32, public ve: i32, public order: i32) {}
}

/**
 * Appends the valid JSON value at `p` re-encoded as Go's encoding/json writes what it
 * decoded into `any`: compact, object keys sorted (a repeated key keeps its last value),
 * strings with Go's escaping, numbers as float64. Returns the end of the value.
 */
export function appendGoJson(base: usize, p: i32, end: i32, out: ByteBuffer): i32 {
  p = skipWs(base, p, end);
  if (p >= end) return end;
  let c = byteAt(base, p);
  if (c == 0x22) {
    let q = scanString(base, end, p);
    if (q < 0) return end;
    appendGoStringToken(base, p, q, out);
    return q;
  }
  if (c == 0x5b) {
    out.pushByte(0x5b);
    p = skipWs(base, p + 1, end);
    let first = true;
    while (p < end && byteAt(base, p) != 0x5d) {
      if (!first) out.pushByte(0x2c);
      first = false;
      p = skipWs(base, appendGoJson(base, p, end, out), end);
      if (p < end && byteAt(base, p) == 0x2c) p = skipWs(base, p + 1, end);
    }
    out.pushByte(0x5d);
    return p + 1;
  }
  if (c == 0x7b) {
    let members: Member[] = [];
    p = skipWs(base, p + 1, end);
    while (p < end && byteAt(base, p) == 0x22) {
      let ke = scanString(base, end, p);
      if (ke < 0) return end;
      let key = decodeString(base, p + 1, ke - 1);
      let vs = skipWs(base, skipWs(base, ke, end) + 1, end);
      let ve = skipValue(base, vs, end);
      members.push(new Member(key, p, ke, vs, ve, members.length));
      p = skipWs(base, ve, end);
      if (p < end && byteAt(base, p) == 0x2c) p = skipWs(base, p + 1, end);
    }
    members.sort((a: Member, b: Member): i32 => {
      let c = a.key.localeCompare(b.key); // ordinal, as < and >
      return c != 0 ? c : a.order - b.order;
    });
    out.pushByte(0x7b);
    let first = true;
    for (let i = 0; i < members.length; i++) {
      let m = members[i];
      if (i + 1 < members.length && members[i + 1].key == m.key) continue; // the last one wins
      if (!first) out.pushByte(0x2c);
      first = false;
      appendGoStringToken(base, m.ks, m.ke, out);
      out.pushByte(0x3a);
      appendGoJson(base, m.vs, m.ve, out);
    }
    out.pushByte(0x7d);
    return p + 1;
  }
  let q = skipValue(base, p, end);
  if (c == 0x2d || (c >= 0x30 && c <= 0x39)) appendGoNumber(base, p, q, out);
  else out.pushBytes(base + <usize>p, q - p);
  return q;
}

// ---- image dimensions (the EPP's dynamic estimator: image.DecodeConfig of a base64 data URL) ----

const B64_INVALID: u32 = 0xff;

function b64Value(c: u32): u32 {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c == 0x2b) return 62;
  if (c == 0x2f) return 63;
  return B64_INVALID;
}

/** Whole payload is strict standard base64 (Go's StdEncoding: padding required; CR/LF skipped). */
function validBase64(p: usize, len: i32): bool {
  let n = 0;
  let pad = 0;
  for (let i = 0; i < len; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    if (c == 0x0a || c == 0x0d) continue;
    if (c == 0x3d) { pad++; n++; continue; }
    if (pad > 0 || b64Value(c) == B64_INVALID) return false;
    n++;
  }
  return n % 4 == 0 && pad <= 2;
}

const IMG_HEAD: i32 = 65536;
const imgHead = new ByteBuffer(1024);

/** Decodes up to IMG_HEAD bytes of the base64 payload into imgHead. */
function decodeHead(p: usize, len: i32): void {
  imgHead.reset();
  let acc: u32 = 0;
  let bits = 0;
  for (let i = 0; i < len && imgHead.length < IMG_HEAD; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    if (c == 0x3d) break;
    let v = b64Value(c);
    if (v == B64_INVALID) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      imgHead.pushByte((acc >> bits) & 0xff);
    }
  }
}

let imgW: i32 = 0;
let imgH: i32 = 0;

/** CRC-32 (IEEE) of `[p, p+len)`, bitwise: PNG chunks here are a few bytes. */
function crc32(p: usize, len: i32): u32 {
  let c: u32 = 0xffffffff;
  for (let i = 0; i < len; i++) {
    c ^= <u32>load<u8>(p + <usize>i);
    for (let k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320 & (0 - (c & 1)));
  }
  return ~c;
}

// @ts-ignore: decorator
@inline
function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/**
 * PNG dimensions as Go's png.DecodeConfig accepts them: signature, a valid IHDR (checksum,
 * bit depth for the colour type), and for a paletted image a PLTE chunk before the end of
 * what was decoded (other chunks in between skipped, their checksums checked).
 */
function pngDims(b: usize, n: i32): bool {
  if (n < 33 || load<u64>(b) != 0x0a1a0a0d474e5089) return false;
  if (be32(b + 8) != 13 || load<u32>(b + 12) != 0x52444849) return false; // "IHDR"
  if (crc32(b + 12, 17) != be32(b + 29)) return false;
  let w = be32(b + 16);
  let h = be32(b + 20);
  let depth = <u32>load<u8>(b + 24);
  let ct = <u32>load<u8>(b + 25);
  if (load<u8>(b + 26) != 0 || load<u8>(b + 27) != 0 || load<u8>(b + 28) > 1) return false;
  if (w == 0 || h == 0 || w > 0x7fffffff || h > 0x7fffffff) return false;
  let ok = false;
  if (ct == 0) ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
  else if (ct == 3) ok = depth == 1 || depth == 2 || depth == 4 || depth == 8;
  else if (ct == 2 || ct == 4 || ct == 6) ok = depth == 8 || depth == 16;
  if (!ok) return false;
  if (ct == 3) {
    let p = 33;
    let seen = false;
    while (p + 12 <= n) {
      let len = <i32>be32(b + <usize>p);
      if (len < 0 || p + 12 + len > n) return false;
      let type = load<u32>(b + <usize>(p + 4));
      if (crc32(b + <usize>(p + 4), 4 + len) != be32(b + <usize>(p + 8 + len))) return false;
      if (type == 0x45544c50) { // "PLTE"
        seen = len > 0 && len % 3 == 0 && len <= 256 * 3;
        break;
      }
      if (type == 0x54414449 || type == 0x444e4549) return false; // IDAT / IEND before PLTE
      p += 12 + len;
    }
    if (!seen) return false;
  }
  imgW = <i32>w;
  imgH = <i32>h;
  return true;
}

/** GIF dimensions as Go's gif.DecodeConfig reads them (header, screen, global colour table). */
function gifDims(b: usize, n: i32): bool {
  if (n < 13) return false;
  // "GIF87a" / "GIF89a"
  if (load<u32>(b) != 0x38464947 || (load<u8>(b + 4) != 0x37 && load<u8>(b + 4) != 0x39) || load<u8>(b + 5) != 0x61) return false;
  let flags = <i32>load<u8>(b + 10);
  if ((flags & 0x80) != 0 && n < 13 + 3 * (1 << ((flags & 7) + 1))) return false;
  imgW = <i32>load<u16>(b + 6);
  imgH = <i32>load<u16>(b + 8);
  return true;
}

/** JPEG dimensions: the first SOFn frame header after SOI (segments before it skipped). */
function jpegDims(b: usize, n: i32): bool {
  if (n < 4 || load<u8>(b) != 0xff || load<u8>(b + 1) != 0xd8) return false;
  let i = 2;
  while (i + 4 <= n) {
    if (load<u8>(b + <usize>i) != 0xff) return false;
    let m = <u32>load<u8>(b + <usize>(i + 1));
    if (m == 0xff) { i++; continue; }
    if (m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01) { i += 2; continue; }
    let segLen = (<i32>load<u8>(b + <usize>(i + 2)) << 8) | <i32>load<u8>(b + <usize>(i + 3));
    if (segLen < 2) return false;
    if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
      if (i + 2 + segLen > n || segLen < 8) return false;
      let comps = <i32>load<u8>(b + <usize>(i + 9));
      if ((comps != 1 && comps != 3 && comps != 4) || segLen != 8 + 3 * comps) return false;
      imgH = (<i32>load<u8>(b + <usize>(i + 5)) << 8) | <i32>load<u8>(b + <usize>(i + 6));
      imgW = (<i32>load<u8>(b + <usize>(i + 7)) << 8) | <i32>load<u8>(b + <usize>(i + 8));
      return imgW > 0 && imgH > 0;
    }
    i += 2 + segLen;
  }
  return false;
}

/** PNG, GIF or JPEG dimensions from imgHead; false when none is recognised. */
function headerDims(): bool {
  let b = imgHead.dataStart;
  let n = imgHead.length;
  if (n >= 8 && load<u32>(b) == 0x474e5089) return pngDims(b, n);
  if (n >= 3 && load<u8>(b) == 0x47 && load<u8>(b + 1) == 0x49 && load<u8>(b + 2) == 0x46) return gifDims(b, n);
  if (n >= 2 && load<u8>(b) == 0xff && load<u8>(b + 1) == 0xd8) return jpegDims(b, n);
  return false;
}

/** Placeholder count of a base64 image payload (no data-URL prefix). */
function imageTokensFromPayload(p: usize, len: i32): i32 {
  let w = 640;
  let h = 360;
  if (validBase64(p, len)) {
    decodeHead(p, len);
    if (headerDims()) {
      w = imgW;
      h = imgH;
    }
  }
  let t = <i32>((<i64>w * <i64>h) / 1024);
  return t > 0 ? t : 1;
}

/** Placeholder count of an image URL: data:image/…;base64,… decoded, else the default. */
function imageTokensFromUrl(p: usize, len: i32): i32 {
  let marker = "base64,";
  // "data:image/" prefix and a "base64," marker, as the EPP checks.
  if (!startsWithAscii(p, len, "data:image/")) return 225;
  let at = indexOfAscii(p, len, marker);
  if (at < 0) return 225;
  let from = at + marker.length;
  return imageTokensFromPayload(p + <usize>from, len - from);
}

function startsWithAscii(p: usize, len: i32, s: string): bool {
  let n = s.length;
  if (len < n) return false;
  for (let i = 0; i < n; i++) if (<u32>load<u8>(p + <usize>i) != <u32>s.charCodeAt(i)) return false;
  return true;
}

function indexOfAscii(p: usize, len: i32, s: string): i32 {
  let n = s.length;
  for (let i = 0; i + n <= len; i++) {
    let ok = true;
    for (let k = 0; k < n; k++) {
      if (<u32>load<u8>(p + <usize>(i + k)) != <u32>s.charCodeAt(k)) { ok = false; break; }
    }
    if (ok) return i;
  }
  return -1;
}

// ---- per-shape writers ----

// Decoded strings of the part being read (type; url/data).
const strA = new ByteBuffer(256);
const strB = new ByteBuffer(64);

function decodeInto(base: usize, start: i32, end: i32, buf: ByteBuffer): void {
  buf.reset();
  if (byteAt(base, start) == 0x22) decodeStringUtf8(base, start + 1, end - 1, buf);
}

/** A member's string value of the object at [start, end), decoded into `buf`; false if absent. */
function memberString(base: usize, start: i32, end: i32, key: string, buf: ByteBuffer): bool {
  buf.reset();
  let found = false;
  innerCursor.init(base, start, end);
  while (innerCursor.next()) {
    if (innerCursor.keyIs(key)) {
      found = byteAt(base, innerCursor.valueStart) == 0x22;
      if (found) decodeInto(base, innerCursor.valueStart, innerCursor.valueEnd, buf);
      else buf.reset();
    }
  }
  return found;
}

/** One content part (OpenAI chat or Anthropic). */
function appendPart(base: usize, ps: i32, pe: i32, out: ByteBuffer, anthropic: bool): void {
  let typeStart = -1, typeEnd = -1, textStart = -1, textEnd = -1, objStart = -1, objEnd = -1;
  let audioStart = -1, audioEnd = -1, videoStart = -1, videoEnd = -1;
  blockCursor.init(base, ps, pe);
  while (blockCursor.next()) {
    let vs = blockCursor.valueStart;
    let ve = blockCursor.valueEnd;
    if (blockCursor.keyIs("type")) { typeStart = vs; typeEnd = ve; }
    else if (blockCursor.keyIs("text")) { textStart = vs; textEnd = ve; }
    else if (blockCursor.keyIs(anthropic ? "source" : "image_url")) { objStart = vs; objEnd = ve; }
    else if (!anthropic && blockCursor.keyIs("video_url")) { videoStart = vs; videoEnd = ve; }
    else if (!anthropic && blockCursor.keyIs("input_audio")) { audioStart = vs; audioEnd = ve; }
  }
  if (typeStart < 0 || byteAt(base, typeStart) != 0x22) return;
  decodeInto(base, typeStart, typeEnd, strA);
  let t = strA.toString();
  if (t == "text") {
    if (textStart >= 0 && byteAt(base, textStart) == 0x22) appendString(base, textStart, textEnd, out);
  } else if (!anthropic && t == "image_url") {
    let url = objStart >= 0 && byteAt(base, objStart) == 0x7b ? memberString(base, objStart, objEnd, "url", strB) : false;
    if (!url) strB.reset();
    appendPlaceholder(out, strB.dataStart, strB.length, imageTokensFromUrl(strB.dataStart, strB.length));
  } else if (!anthropic && t == "video_url") {
    let url = videoStart >= 0 && byteAt(base, videoStart) == 0x7b ? memberString(base, videoStart, videoEnd, "url", strB) : false;
    if (!url) strB.reset();
    appendPlaceholder(out, strB.dataStart, strB.length, tokensForLength(strB.length));
  } else if (!anthropic && (t == "input_audio" || t == "audio_url")) {
    // data + format of input_audio (empty for audio_url, as in the EPP).
    scratchAudio.reset();
    if (audioStart >= 0 && byteAt(base, audioStart) == 0x7b) {
      if (memberString(base, audioStart, audioEnd, "data", strB)) scratchAudio.pushBytes(strB.dataStart, strB.length);
      if (memberString(base, audioStart, audioEnd, "format", strB)) scratchAudio.pushBytes(strB.dataStart, strB.length);
    }
    appendPlaceholder(out, scratchAudio.dataStart, scratchAudio.length, tokensForLength(scratchAudio.length));
  } else if (anthropic && t == "image") {
    if (objStart >= 0 && byteAt(base, objStart) == 0x7b) {
      if (memberString(base, objStart, objEnd, "url", strB) && strB.length > 0) {
        appendPlaceholder(out, strB.dataStart, strB.length, imageTokensFromUrl(strB.dataStart, strB.length));
      } else if (memberString(base, objStart, objEnd, "data", strB) && strB.length > 0) {
        appendPlaceholder(out, strB.dataStart, strB.length, imageTokensFromPayload(strB.dataStart, strB.length));
      }
    }
  }
}

const scratchAudio = new ByteBuffer(64);

/** Content: a string, or an array of parts. */
function appendContent(base: usize, start: i32, end: i32, out: ByteBuffer, maxBytes: i32, anthropic: bool): void {
  let c = byteAt(base, start);
  if (c == 0x22) {
    appendString(base, start, end, out);
    return;
  }
  if (c != 0x5b) return;
  blockList.init(base, start, end);
  while (out.length < maxBytes && blockList.next()) {
    if (byteAt(base, blockList.elemStart) == 0x7b) appendPart(base, blockList.elemStart, blockList.elemEnd, out, anthropic);
  }
}

function appendMessages(base: usize, start: i32, end: i32, out: ByteBuffer, maxBytes: i32, anthropic: bool): void {
  if (byteAt(base, start) != 0x5b) return;
  msgList.init(base, start, end);
  while (out.length < maxBytes && msgList.next()) {
    let ms = msgList.elemStart;
    if (byteAt(base, ms) != 0x7b) continue;
    let roleStart = -1, roleEnd = -1, contentStart = -1, contentEnd = -1;
    msgCursor.init(base, ms, msgList.elemEnd);
    while (msgCursor.next()) {
      if (msgCursor.keyIs("role")) {
        roleStart = byteAt(base, msgCursor.valueStart) == 0x22 ? msgCursor.valueStart : -1;
        roleEnd = msgCursor.valueEnd;
      } else if (msgCursor.keyIs("content")) {
        contentStart = msgCursor.valueStart;
        contentEnd = msgCursor.valueEnd;
      }
    }
    if (roleStart >= 0) appendString(base, roleStart, roleEnd, out);
    if (contentStart >= 0) appendContent(base, contentStart, contentEnd, out, maxBytes, anthropic);
  }
}

/** Anthropic `system`: a string, or text blocks. */
function appendSystem(base: usize, start: i32, end: i32, out: ByteBuffer): void {
  let c = byteAt(base, start);
  if (c == 0x22) {
    appendString(base, start, end, out);
    return;
  }
  if (c != 0x5b) return;
  blockList.init(base, start, end);
  while (blockList.next()) {
    let ps = blockList.elemStart;
    if (byteAt(base, ps) != 0x7b) continue;
    if (memberString(base, ps, blockList.elemEnd, "type", strA) && strA.toString() == "text" &&
      memberString(base, ps, blockList.elemEnd, "text", strB)) {
      out.pushBytes(strB.dataStart, strB.length);
    }
  }
}

/** Token ids (a JSON array of numbers) as 4-byte little-endian tokens. */
function appendTokenIds(base: usize, start: i32, end: i32, out: ByteBuffer): void {
  blockList.init(base, start, end);
  while (blockList.next()) {
    let v: u32 = 0;
    for (let p = blockList.elemStart; p < blockList.elemEnd; p++) {
      let c = byteAt(base, p);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
    }
    out.pushByte(v & 0xff);
    out.pushByte((v >> 8) & 0xff);
    out.pushByte((v >> 16) & 0xff);
    out.pushByte(v >> 24);
  }
}

/** First element's kind of an array: 0x22 string, 0x30 number, 0 empty/other. */
function arrayKind(base: usize, start: i32, end: i32): u32 {
  let p = skipWs(base, start + 1, end);
  if (p >= end) return 0;
  let c = byteAt(base, p);
  if (c == 0x22) return 0x22;
  if ((c >= 0x30 && c <= 0x39) || c == 0x2d) return 0x30;
  return 0;
}

function isNullish(base: usize, start: i32): bool {
  return start < 0 || byteAt(base, start) == 0x6e; // null
}

function appendCompletionsPrompt(base: usize, start: i32, end: i32, out: ByteBuffer, parts: PromptParts, maxBytes: i32): void {
  let c = byteAt(base, start);
  if (c == 0x22) {
    appendString(base, start, end, out);
    return;
  }
  if (c != 0x5b) return;
  let kind = arrayKind(base, start, end);
  if (kind == 0x30) {
    appendTokenIds(base, start, end, out);
    return;
  }
  if (kind != 0x22) return;
  // Several strings: several prompts, each its own chain.
  msgList.init(base, start, end);
  let first = true;
  while (out.length < maxBytes && msgList.next()) {
    if (!first && out.length > 0) parts.breaks.push(out.length);
    first = false;
    appendString(base, msgList.elemStart, msgList.elemEnd, out);
  }
}

function appendEmbeddingsInput(base: usize, start: i32, end: i32, out: ByteBuffer): void {
  let c = byteAt(base, start);
  if (c == 0x5b && arrayKind(base, start, end) == 0x30) {
    appendTokenIds(base, start, end, out);
    return;
  }
  out.pushString("{\"Raw\":");
  if (c == 0x22) {
    appendGoJson(base, start, end, out);
    out.pushString(",\"Strings\":null,\"TokenIDs\":null}");
  } else {
    out.pushString("\"\",\"Strings\":");
    appendGoJson(base, start, end, out);
    out.pushString(",\"TokenIDs\":null}");
  }
}

/** Conversation items as Go encodes its ConversationItem struct (omitempty fields). */
function appendConversationItems(base: usize, start: i32, end: i32, out: ByteBuffer, maxBytes: i32): void {
  out.pushByte(0x5b);
  msgList.init(base, start, end);
  let first = true;
  while (out.length < maxBytes && msgList.next()) {
    let es = msgList.elemStart;
    if (!first) out.pushByte(0x2c);
    first = false;
    out.pushByte(0x7b);
    if (byteAt(base, es) != 0x7b) {
      out.pushByte(0x7d);
      continue;
    }
    let wrote = false;
    if (memberString(base, es, msgList.elemEnd, "type", strA) && strA.length > 0) {
      out.pushString("\"type\":");
      pushGoString(out, strA.dataStart, strA.length);
      wrote = true;
    }
    if (memberString(base, es, msgList.elemEnd, "role", strA) && strA.length > 0) {
      if (wrote) out.pushByte(0x2c);
      out.pushString("\"role\":");
      pushGoString(out, strA.dataStart, strA.length);
      wrote = true;
    }
    let cs = -1, ce = -1;
    innerCursor.init(base, es, msgList.elemEnd);
    while (innerCursor.next()) {
      if (innerCursor.keyIs("content")) { cs = innerCursor.valueStart; ce = innerCursor.valueEnd; }
    }
    if (cs >= 0 && !isNullish(base, cs)) {
      if (wrote) out.pushByte(0x2c);
      out.pushString("\"content\":");
      appendGoJson(base, cs, ce, out);
    }
    out.pushByte(0x7d);
  }
  out.pushByte(0x5d);
}

/**
 * The prefix-cache bytes of the body `[base, base+len)` (scanned by scanBody into `scan`):
 * see the file comment. Stops adding after `maxBytes`.
 */
export function prefixPrompt(base: usize, len: i32, scan: BodyScan, api: PromptApi, out: ByteBuffer, parts: PromptParts, maxBytes: i32 = i32.MAX_VALUE): bool {
  out.reset();
  parts.reset();
  if (!scan.ok) return false;
  // The text is about the body's size (capped at maxBytes): one allocation of that size, not
  // a doubling chain whose last step can be twice the need. It is reused by later requests.
  out.reserveExact(len < maxBytes ? len : maxBytes);
  out.limit(maxBytes);
  const found = renderPrompt(base, len, scan, api, out, parts, maxBytes);
  out.limit(-1);
  return found;
}

function renderPrompt(base: usize, len: i32, scan: BodyScan, api: PromptApi, out: ByteBuffer, parts: PromptParts, maxBytes: i32): bool {
  let p = skipWs(base, 0, len);
  if (p >= len || byteAt(base, p) != 0x7b) return false;
  let tools = -1, toolsEnd = -1, system = -1, systemEnd = -1, instr = -1, instrEnd = -1, items = -1, itemsEnd = -1;
  let anthropicHint = false;
  topCursor.init(base, p, len);
  while (topCursor.next()) {
    let vs = topCursor.valueStart;
    let ve = topCursor.valueEnd;
    if (topCursor.keyIs("tools")) { tools = vs; toolsEnd = ve; }
    else if (topCursor.keyIs("system")) { system = vs; systemEnd = ve; anthropicHint = true; }
    else if (topCursor.keyIs("instructions")) { instr = vs; instrEnd = ve; }
    else if (topCursor.keyIs("items")) { items = vs; itemsEnd = ve; }
    else if (topCursor.keyIs("cache_salt")) {
      parts.salt.reset();
      if (byteAt(base, vs) == 0x22) decodeStringUtf8(base, vs + 1, ve - 1, parts.salt);
    }
  }
  if (api == PromptApi.Auto) {
    if (scan.messagesStart >= 0) api = anthropicHint ? PromptApi.Messages : PromptApi.Chat;
    else if (scan.promptStart >= 0) api = PromptApi.Completions;
    else if (scan.inputStart >= 0) api = PromptApi.Responses;
    else return false;
  }
  // The EPP marshals chat tools only when the array is non-empty.
  let hasTools = tools >= 0 && byteAt(base, tools) == 0x5b && byteAt(base, skipWs(base, tools + 1, toolsEnd)) != 0x5d;
  if (api == PromptApi.Chat || api == PromptApi.Messages) {
    if (scan.messagesStart < 0) return false;
    if (hasTools) appendGoJson(base, tools, toolsEnd, out);
    let anthropic = api == PromptApi.Messages;
    if (anthropic && system >= 0) appendSystem(base, system, systemEnd, out);
    appendMessages(base, scan.messagesStart, scan.messagesEnd, out, maxBytes, anthropic);
  } else if (api == PromptApi.Completions) {
    if (scan.promptStart < 0) return false;
    appendCompletionsPrompt(base, scan.promptStart, scan.promptEnd, out, parts, maxBytes);
  } else if (api == PromptApi.Responses) {
    if (scan.inputStart < 0 || isNullish(base, scan.inputStart)) return false;
    out.pushByte(0x5b);
    if (!isNullish(base, instr)) {
      out.pushString("{\"instructions\":");
      appendGoJson(base, instr, instrEnd, out);
      out.pushString("},");
    }
    if (!isNullish(base, tools)) {
      out.pushString("{\"tools\":");
      appendGoJson(base, tools, toolsEnd, out);
      out.pushString("},");
    }
    out.pushString("{\"input\":");
    appendGoJson(base, scan.inputStart, scan.inputEnd, out);
    out.pushString("}]");
  } else if (api == PromptApi.Conversations) {
    if (items < 0 || byteAt(base, items) != 0x5b) return false;
    appendConversationItems(base, items, itemsEnd, out, maxBytes);
  } else if (api == PromptApi.Embeddings) {
    if (scan.inputStart < 0 || isNullish(base, scan.inputStart)) return false;
    appendEmbeddingsInput(base, scan.inputStart, scan.inputEnd, out);
  } else {
    return false;
  }
  if (out.length > maxBytes) out.truncate(maxBytes);
  let b = parts.breaks;
  while (b.length > 0 && b[b.length - 1] >= out.length) b.pop();
  return out.length > 0;
}
