import { scanString, decodeString, decodeStringUtf8, contentEqualsAscii, lastStringHadEscape, StringError } from "./string-codec";
import { ByteBuffer } from "./byte-buffer";

function bytesOf(bytes: u8[]): ArrayBuffer {
  const buf = new ArrayBuffer(bytes.length);
  for (let i = 0; i < bytes.length; i++) store<u8>(changetype<usize>(buf) + i, bytes[i]);
  return buf;
}

describe("string codec", () => {
  it("scans to just past the closing quote and reports escapes", () => {
    const b = String.UTF8.encode('"ab\\"c" x', false);
    expect(scanString(changetype<usize>(b), b.byteLength, 0)).toBe(7);
    expect(lastStringHadEscape).toBe(true);
    const p = String.UTF8.encode('"plain"', false);
    expect(scanString(changetype<usize>(p), p.byteLength, 0)).toBe(7);
    expect(lastStringHadEscape).toBe(false);
    const t = String.UTF8.encode('"abc\\', false);
    expect(scanString(changetype<usize>(t), t.byteLength, 0)).toBe(StringError.Unterminated);
  });

  it("replaces invalid UTF-8 with U+FFFD like TextDecoder", () => {
    // 'a', lone continuation, truncated 3-byte sequence (E2 82) then 'b', overlong C0 80, 'c'
    const b = bytesOf([0x61, 0x80, 0xe2, 0x82, 0x62, 0xc0, 0x80, 0x63]);
    const s = decodeString(changetype<usize>(b), 0, b.byteLength);
    expect(s).toBe("a\uFFFD\uFFFDb\uFFFD\uFFFDc");
    // surrogate code point encoded in UTF-8 (ED A0 80) is invalid: one FFFD per byte
    const sur = bytesOf([0xed, 0xa0, 0x80]);
    expect(decodeString(changetype<usize>(sur), 0, 3)).toBe("\uFFFD\uFFFD\uFFFD");
  });

  it("decodes to UTF-8 bytes, joining pairs and replacing lone surrogates", () => {
    const b = String.UTF8.encode('x\\n\\u00e9\\ud83d\\ude00\\udc00é', false);
    const out = new ByteBuffer(4);
    decodeStringUtf8(changetype<usize>(b), 0, b.byteLength, out);
    expect(out.toString()).toBe("x\né😀\uFFFDé");
  });

  it("compares content with an ASCII key", () => {
    const b = String.UTF8.encode("mod\\u0065l", false);
    expect(contentEqualsAscii(changetype<usize>(b), 0, b.byteLength, true, "model")).toBe(true);
    const c = String.UTF8.encode("model", false);
    expect(contentEqualsAscii(changetype<usize>(c), 0, 5, false, "model")).toBe(true);
    expect(contentEqualsAscii(changetype<usize>(c), 0, 5, false, "mode")).toBe(false);
    expect(contentEqualsAscii(changetype<usize>(c), 0, 4, false, "mode")).toBe(true);
  });
});
