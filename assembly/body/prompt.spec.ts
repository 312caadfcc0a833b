import { scanBodyBuffer, BodyScan } from "./scanner";
import { promptText } from "./prompt";
import { ByteBuffer } from "../json/byte-buffer";
import { rewriteModel, rewrittenLength, encodeJsonString } from "./rewrite";

const scan = new BodyScan();
const out = new ByteBuffer(8);

function prompt(text: string, maxBytes: i32 = i32.MAX_VALUE): string {
  const buf = String.UTF8.encode(text, false);
  scanBodyBuffer(buf, scan);
  expect(scan.ok).toBe(true, text);
  promptText(changetype<usize>(buf), scan, out, maxBytes);
  return out.toString();
}

function rewrite(text: string, model: string): string {
  const buf = String.UTF8.encode(text, false);
  scanBodyBuffer(buf, scan);
  const ok = rewriteModel(changetype<usize>(buf), buf.byteLength, scan, model, out);
  if (!ok) return "<none>";
  expect(out.length).toBe(rewrittenLength(buf.byteLength, scan, model));
  return out.toString();
}

describe("promptText", () => {
  it("joins chat messages with role markers", () => {
    expect(prompt('{"model":"m","messages":[{"role":"system","content":"Be brief."},{"content":"Hi","role":"user"}]}'))
      .toBe("<|system|>Be brief.<|user|>Hi");
  });
  it("reads content parts' text and skips images", () => {
    const body = '{"messages":[{"role":"user","content":[{"type":"text","text":"What is"},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":" this?"}]}]}';
    expect(prompt(body)).toBe("<|user|>What is this?");
  });
  it("handles null content and missing role", () => {
    expect(prompt('{"messages":[{"role":"assistant","content":null,"tool_calls":[]},{"content":"x"}]}'))
      .toBe("<|assistant|><||>x");
  });
  it("decodes escapes", () => {
    expect(prompt('{"messages":[{"role":"user","content":"a\\nb \\u00e9 \\ud83d\\ude00"}]}')).toBe("<|user|>a\nb é 😀");
  });
  it("reads prompt strings and arrays", () => {
    expect(prompt('{"prompt":"Say this is a test"}')).toBe("Say this is a test");
    expect(prompt('{"prompt":["a","b"]}')).toBe("a\nb");
    expect(prompt('{"prompt":[[1212, 318],[257]]}')).toBe("[1212, 318]\n[257]");
  });
  it("reads responses input as text or messages", () => {
    expect(prompt('{"input":"Tell me a story"}')).toBe("Tell me a story");
    expect(prompt('{"input":[{"role":"user","content":[{"type":"input_text","text":"what is in this image?"},{"type":"input_image","image_url":"u"}]}]}'))
      .toBe("<|user|>what is in this image?");
  });
  it("prefers messages, then prompt, then input; last duplicate wins", () => {
    expect(prompt('{"input":"i","prompt":"p"}')).toBe("p");
    expect(prompt('{"prompt":"p","messages":[{"role":"user","content":"m"}]}')).toBe("<|user|>m");
    expect(prompt('{"prompt":"old","prompt":"new"}')).toBe("new");
    expect(prompt('{"messages":[{"role":"user","content":"a","content":"b"}]}')).toBe("<|user|>b");
  });
  it("stops at maxBytes", () => {
    expect(prompt('{"messages":[{"role":"user","content":"abcdefgh"},{"role":"user","content":"ijk"}]}', 10)).toBe("<|user|>ab");
  });
  it("returns false without a prompt source", () => {
    const buf = String.UTF8.encode('{"model":"m"}', false);
    scanBodyBuffer(buf, scan);
    expect(promptText(changetype<usize>(buf), scan, out)).toBe(false);
    expect(out.length).toBe(0);
  });
});

describe("rewriteModel", () => {
  it("replaces only the model value bytes", () => {
    expect(rewrite('{ "model" :  "a" , "x":[1,2] }', "llama-3.1-8b")).toBe('{ "model" :  "llama-3.1-8b" , "x":[1,2] }');
  });
  it("replaces every top-level duplicate (no member keeps the old model)", () => {
    expect(rewrite('{"model":"a","model":"b"}', "c")).toBe('{"model":"c","model":"c"}');
  });
  it("escapes the new value", () => {
    expect(rewrite('{"model":"a"}', 'q"\\\n\u0001é😀')).toBe('{"model":"q\\"\\\\\\u000a\\u0001é😀"}');
  });
  it("does nothing without a string model", () => {
    expect(rewrite('{"model":1}', "x")).toBe("<none>");
    expect(rewrite('{"model":"a"', "x")).toBe("<none>");
  });
  it("encodes lone surrogates as U+FFFD", () => {
    const b = new ByteBuffer();
    encodeJsonString(String.fromCharCode(0xd800) + "x", b);
    expect(b.toString()).toBe('"\uFFFDx"');
  });
});
