import { scanBodyBuffer, BodyScan, BodyScanError, modelString, modelValueIs, MAX_BODY_DEPTH } from "./scanner";

const scan = new BodyScan();

function run(text: string): BodyScan {
  const buf = String.UTF8.encode(text, false);
  scanBodyBuffer(buf, scan);
  lastBuf = buf;
  return scan;
}
let lastBuf: ArrayBuffer = new ArrayBuffer(0);

function model(text: string): string {
  run(text);
  expect(scan.ok).toBe(true, text);
  return modelString(changetype<usize>(lastBuf), scan);
}

function errorOf(text: string): BodyScanError {
  run(text);
  expect(scan.ok).toBe(false, text);
  return scan.error;
}

describe("scanBody: top-level fields", () => {
  it("finds model and stream", () => {
    expect(model('{"model":"m1","stream":true}')).toBe("m1");
    expect(scan.hasStream).toBe(true);
    expect(scan.streamIsBool).toBe(true);
    expect(scan.stream).toBe(true);
    expect(scan.modelStart).toBe(9);
    expect(scan.modelEnd).toBe(13);
  });

  it("ignores model keys nested in messages and tools", () => {
    const body = '{"messages":[{"role":"user","content":"hi","model":"inner"}],"tools":[{"function":{"name":"f","parameters":{"model":{"type":"string"}}}}],"model":"outer"}';
    expect(model(body)).toBe("outer");
    expect(model('{"metadata":{"model":"x"}}')).toBe("");
    expect(scan.hasModel).toBe(false);
  });

  it("takes the last of duplicate top-level keys, like JSON.parse", () => {
    expect(model('{"model":"first","x":1,"model":"second"}')).toBe("second");
    expect(scan.modelStart).toBe(31);
    expect(model('{"stream":true,"stream":false}')).toBe("");
    expect(scan.stream).toBe(false);
    // a later non-string model hides an earlier string one
    run('{"model":"a","model":7}');
    expect(scan.ok).toBe(true);
    expect(scan.hasModel).toBe(true);
    expect(scan.modelIsString).toBe(false);
    expect(scan.hasStringModel).toBe(false);
  });

  it("decodes escapes in keys and values", () => {
    expect(model('{"mod\\u0065l":"a\\u00e9\\ud83d\\ude00\\"b"}')).toBe("aé😀\"b");
    expect(scan.modelHadEscape).toBe(true);
    expect(modelValueIs(changetype<usize>(lastBuf), scan, "aé😀\"b")).toBe(true);
  });

  it("accepts whitespace anywhere JSON allows it", () => {
    expect(model(' \t\r\n{ \n"model" \t:\r\n "m" ,"stream"  :  false } \n')).toBe("m");
    expect(scan.streamIsBool).toBe(true);
    expect(scan.stream).toBe(false);
  });

  it("reports a non-boolean stream", () => {
    run('{"stream":"true"}');
    expect(scan.ok).toBe(true);
    expect(scan.hasStream).toBe(true);
    expect(scan.streamIsBool).toBe(false);
    expect(scan.stream).toBe(false);
  });

  it("records prompt source spans", () => {
    run('{"messages":[], "prompt":"p", "input":["a"]}');
    expect(scan.messagesStart).toBe(12);
    expect(scan.messagesEnd).toBe(14);
    expect(scan.promptStart).toBe(25);
    expect(scan.promptEnd).toBe(28);
    expect(scan.inputStart).toBe(38);
    expect(scan.inputEnd).toBe(43);
  });

  it("compares the model without decoding", () => {
    run('{"model":"llama-3"}');
    const base = changetype<usize>(lastBuf);
    expect(modelValueIs(base, scan, "llama-3")).toBe(true);
    expect(modelValueIs(base, scan, "llama-4")).toBe(false);
    expect(modelValueIs(base, scan, "llama")).toBe(false);
    run('{"model":"é"}');
    expect(modelValueIs(changetype<usize>(lastBuf), scan, "é")).toBe(true);
  });

  it("accepts all value kinds", () => {
    run('{"a":[1,-0.5e+3,0,2E-2,true,false,null,"s",{},[],{"b":[[{}]]}],"model":"m"}');
    expect(scan.ok).toBe(true);
    expect(scan.hasStringModel).toBe(true);
  });
});

describe("scanBody: errors, never traps", () => {
  it("classifies errors", () => {
    expect(errorOf("")).toBe(BodyScanError.Empty);
    expect(errorOf("  \n")).toBe(BodyScanError.Empty);
    expect(errorOf("[1]")).toBe(BodyScanError.NotObject);
    expect(errorOf('"x"')).toBe(BodyScanError.NotObject);
    expect(errorOf("hello")).toBe(BodyScanError.Invalid);
    expect(errorOf("\uFEFF{}")).toBe(BodyScanError.Invalid);
    expect(errorOf('{"model":"m"')).toBe(BodyScanError.Truncated);
    expect(errorOf('{"model":"m')).toBe(BodyScanError.Truncated);
    expect(errorOf('{"model":tru')).toBe(BodyScanError.Truncated);
    expect(errorOf('{"model":trux}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":1,}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":[1,]}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":01}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":1.}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":-}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":"\\x"}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":"\t"}')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":1]')).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":[1}')).toBe(BodyScanError.Invalid);
    expect(errorOf("{} {}")).toBe(BodyScanError.Invalid);
    expect(errorOf("{a:1}")).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a" 1}')).toBe(BodyScanError.Invalid);
    expect(errorOf("{'a':1}")).toBe(BodyScanError.Invalid);
    expect(errorOf('{"a":NaN}')).toBe(BodyScanError.Invalid);
  });

  it("refuses nesting beyond the limit without recursion", () => {
    let s = '{"a":';
    for (let i = 0; i < MAX_BODY_DEPTH + 10; i++) s += "[";
    expect(errorOf(s)).toBe(BodyScanError.TooDeep);
    let ok = '{"a":';
    for (let i = 0; i < MAX_BODY_DEPTH - 1; i++) ok += "[";
    for (let i = 0; i < MAX_BODY_DEPTH - 1; i++) ok += "]";
    ok += ',"model":"deep"}';
    expect(model(ok)).toBe("deep");
  });

  it("fails on every truncation of a valid body", () => {
    const doc = '{"model":"m\\u00e9","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"n":-1.5e3,"stream":true}';
    expect(model(doc)).toBe("mé");
    for (let i = 0; i < doc.length; i++) {
      run(doc.substring(0, i));
      expect(scan.ok).toBe(false);
    }
  });

  it("survives arbitrary bytes", () => {
    // A deterministic pseudo-random byte soup, biased towards JSON punctuation.
    const alphabet = '{}[]":,\\ 0123456789-+.eEtrufalsn\u00e9ab\n';
    let seed: u32 = 12345;
    for (let round = 0; round < 300; round++) {
      let s = "{";
      const n = <i32>(seed % 60);
      for (let i = 0; i < n; i++) {
        seed = seed * 1103515245 + 12345;
        s += alphabet.charAt(<i32>((seed >> 16) % <u32>alphabet.length));
      }
      run(s);
      if (!scan.ok) expect(scan.errorOffset).toBeGreaterThanOrEqual(0);
    }
  });
});
