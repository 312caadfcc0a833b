import { isHeaderSafeModel, isReservedHeaderName, isSafeHeaderValue, isValidHeaderName } from "./header-name";

/** Every character a header name may hold (RFC 9110 tchar, lower case only). */
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz";

describe("isValidHeaderName", () => {
  it("accepts exactly the lower-case tchars, one character at a time", () => {
    for (let c = 0; c < 0x110; c++) {
      const s = String.fromCharCode(c);
      expect(isValidHeaderName(s)).toBe(TCHARS.includes(s), "U+" + c.toString());
      expect(isValidHeaderName("x-" + s)).toBe(TCHARS.includes(s), "x-U+" + c.toString());
    }
  });

  it("judges whole names", () => {
    const names: string[] = ["x-gateway-model-name", "a1!#$%&'*+-.^_`|~", "", "X-A", ":path", "a b", "é", "x\u0100", "te"];
    const valid: bool[] = [true, true, false, false, false, false, false, false, true];
    for (let i = 0; i < names.length; i++) expect(isValidHeaderName(names[i])).toBe(valid[i], names[i]);
  });
});

describe("isSafeHeaderValue", () => {
  it("refuses CR, LF and NUL only", () => {
    const values: string[] = ["plain value, with ; separators", "", "a\rb", "a\nb", "a\0b", "tab\tok", "\u00e9"];
    const safe: bool[] = [true, true, false, false, false, true, true];
    for (let i = 0; i < values.length; i++) expect(isSafeHeaderValue(values[i])).toBe(safe[i], values[i]);
  });
});

describe("isHeaderSafeModel and isReservedHeaderName", () => {
  it("refuses control characters and lone surrogates in a model", () => {
    const models: string[] = ["llama-3", "a\tb", "a\u007fb", "\ud83d\ude00", "\ud83d", "\ude00x", "x\ud83d"];
    const safe: bool[] = [true, false, false, true, false, false, false];
    for (let i = 0; i < models.length; i++) expect(isHeaderSafeModel(models[i])).toBe(safe[i], i.toString());
  });

  it("names the headers the proxy owns", () => {
    expect(isReservedHeaderName("host")).toBe(true);
    expect(isReservedHeaderName("proxy-connection")).toBe(true);
    expect(isReservedHeaderName("x-host")).toBe(false);
  });
});
