import { scanBodyBuffer, BodyScan } from "./scanner";
import { PromptApi, PromptParts, prefixPrompt, promptApiForPath } from "./prefix-prompt";
import { ByteBuffer } from "../json/byte-buffer";

const scan = new BodyScan();
const out = new ByteBuffer(8);
const parts = new PromptParts();

/** The prefix bytes as text; NUL and non-printable bytes as \xNN. */
function bytes(body: string, api: PromptApi = PromptApi.Auto): string {
  const buf = String.UTF8.encode(body, false);
  scanBodyBuffer(buf, scan);
  expect(scan.ok).toBe(true, body);
  if (!prefixPrompt(changetype<usize>(buf), buf.byteLength, scan, api, out, parts)) return "<none>";
  let s = "";
  for (let i = 0; i < out.length; i++) {
    let c = out.byteAt(i);
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "\\x" + (c < 16 ? "0" : "") + c.toString(16);
  }
  return s;
}

class Case {
  constructor(public name: string, public path: string, public body: string, public want: string) {}
}

// Expected bytes are what the EPP's estimate producer (tokenizer/estimate.go) builds.
const cases: Case[] = [
  new Case("chat: role then content, no markers", "/v1/chat/completions",
    '{"model":"m","messages":[{"role":"system","content":"Be brief."},{"content":"Hi","role":"user"}]}', "systemBe brief.userHi"),
  new Case("chat: tools JSON first, keys sorted, Go escaping", "/v1/chat/completions",
    '{"messages":[{"role":"user","content":"x"}],"tools":[ {"type":"function","function":{"name":"f","d":"<a&b>"}} ]}',
    '[{"function":{"d":"\\u003ca\\u0026b\\u003e","name":"f"},"type":"function"}]userx'),
  new Case("chat: empty tools array adds nothing", "/v1/chat/completions", '{"messages":[{"role":"user","content":"x"}],"tools":[]}', "userx"),
  new Case("chat: text parts, image placeholder (225 tokens) aligned to 4 bytes", "/v1/chat/completions",
    '{"messages":[{"role":"user","content":[{"type":"text","text":"ab"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}', "userab\\x00\\x00"),
  new Case("anthropic: tools, system text, then messages", "/v1/messages",
    '{"system":[{"type":"text","text":"S1"},{"type":"text","text":"S2"}],"messages":[{"role":"user","content":[{"type":"text","text":"q"}]}]}', "S1S2userq"),
  new Case("completions: the prompt string", "/v1/completions", '{"prompt":"hello"}', "hello"),
  new Case("completions: token ids as 4-byte tokens", "/v1/completions", '{"prompt":[1,258]}', "\\x01\\x00\\x00\\x00\\x02\\x01\\x00\\x00"),
  new Case("responses: instructions, tools, input as one JSON array", "/v1/responses",
    '{"input":[{"role":"user","content":"a"}],"instructions":"Be <brief>"}',
    '[{"instructions":"Be \\u003cbrief\\u003e"},{"input":[{"content":"a","role":"user"}]}]'),
  new Case("responses: numbers as float64", "/v1/responses", '{"input":[1.50, 2e3, 7, -0.0]}', '[{"input":[1.5,2000,7,-0]}]'),
  new Case("embeddings: the EPP's struct encoding", "/v1/embeddings", '{"input":"hi"}', '{"Raw":"hi","Strings":null,"TokenIDs":null}'),
  new Case("conversations: items as the EPP's struct", "/v1/conversations",
    '{"items":[{"content":"c","type":"message","role":"user"},{"type":"message"}]}', '[{"type":"message","role":"user","content":"c"},{"type":"message"}]'),
  new Case("unknown path: read by the keys present", "/generate", '{"prompt":"p"}', "p"),
  new Case("no prompt source", "/v1/chat/completions", '{"model":"m"}', "<none>"),
];

describe("prefixPrompt", () => {
  it("builds the EPP's estimate bytes per request shape", () => {
    for (let i = 0; i < cases.length; i++) {
      let c = cases[i];
      let got = bytes(c.body, promptApiForPath(c.path));
      if (c.name.indexOf("image placeholder") >= 0) {
        // 6 text bytes, 2 padding, then 225 four-byte tokens.
        expect(out.length).toBe(8 + 225 * 4, c.name);
        got = got.substring(0, 14);
      }
      expect(got).toBe(c.want, c.name);
    }
  });

  it("splits several completion prompts into chains and reads cache_salt", () => {
    bytes('{"prompt":["ab","cd","ef"],"cache_salt":"tenant-1"}', PromptApi.Completions);
    expect(out.toString()).toBe("abcdef");
    expect(parts.breaks.join(",")).toBe("2,4");
    expect(parts.salt.toString()).toBe("tenant-1");
  });

  it("sizes a data URL image's placeholder from its header (w*h/1024) as Go's decoders read it", () => {
    // 64x32 PNG with a checksummed IHDR: 2048 / 1024 = 2 tokens.
    const png = "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAgCAYAAACinX6E";
    bytes('{"messages":[{"role":"u","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,' + png + '"}}]}]}', PromptApi.Chat);
    expect(out.length).toBe(4 + 2 * 4);
    // The same header without its checksum: Go's decoder fails, so the default 225.
    const noCrc = "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAgCAYAAAA=";
    bytes('{"messages":[{"role":"u","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,' + noCrc + '"}}]}]}', PromptApi.Chat);
    expect(out.length).toBe(4 + 225 * 4);
    // 128x48 baseline JPEG (SOF0 after an APP0 segment): 6144 / 1024 = 6 tokens.
    const jpeg = "/9j/4AAQSkZJRgABAQAAAQABAAD/wAARCAAwAIADASIAAhEBAxEB";
    bytes('{"messages":[{"role":"u","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,' + jpeg + '"}}]}]}', PromptApi.Chat);
    expect(out.length).toBe(4 + 6 * 4);
    // Invalid base64 anywhere in the payload: the default 640x360 (225 tokens), as Go's decoder fails.
    bytes('{"messages":[{"role":"u","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,' + jpeg + '!"}}]}]}', PromptApi.Chat);
    expect(out.length).toBe(4 + 225 * 4);
  });

  it("maps paths as the EPP's parsers claim them", () => {
    expect(promptApiForPath("/v1/chat/completions?x=1")).toBe(PromptApi.Chat);
    expect(promptApiForPath("/v1/completions")).toBe(PromptApi.Completions);
    expect(promptApiForPath("/v1/messages")).toBe(PromptApi.Messages);
    expect(promptApiForPath("/v1/responses")).toBe(PromptApi.Responses);
    expect(promptApiForPath("/v1/embeddings")).toBe(PromptApi.Embeddings);
    expect(promptApiForPath("/v1/conversations")).toBe(PromptApi.Conversations);
    expect(promptApiForPath("/other")).toBe(PromptApi.Auto);
  });
});
