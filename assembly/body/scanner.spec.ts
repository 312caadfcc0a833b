import { scanBodyBuffer, BodyScan, BodyScanError, modelString, modelValueIs } from "./scanner";
import { rewriteModel } from "./rewrite";
import { ByteBuffer } from "../json/byte-buffer";
import { isHeaderSafeModel } from "../rewrite/header-name";

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

  it("scans bodies nested thousands of levels deep, arrays and objects, without recursion", () => {
    const levels = [1, 31, 32, 33, 512, 513, 5000, 70000];
    for (let k = 0; k < levels.length; k++) {
      const n = levels[k];
      // Alternate objects and arrays so the container stack must remember each kind.
      let open = "";
      let close = "";
      for (let i = 0; i < n; i++) {
        if ((i & 1) == 0) {
          open += '{"model":';
          close = "}" + close;
        } else {
          open += "[";
          close = "]" + close;
        }
      }
      expect(model('{"a":' + open + "1" + close + ',"model":"deep"}')).toBe("deep");
      expect(scan.modelSpanCount).toBe(1);
      // A wrong closer anywhere in the chain is still seen.
      const bad = '{"a":' + open + "1" + (close.charAt(0) == "}" ? "]" : "}") + close.substring(1) + ',"model":"deep"}';
      expect(errorOf(bad)).toBe(BodyScanError.Invalid);
      // Cut inside: truncated, not invalid.
      expect(errorOf('{"a":' + open + "1")).toBe(BodyScanError.Truncated);
    }
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

/** One row: body text (as UTF-8 unless `bytes` given), expected error, model, span count. */
class Row {
  constructor(
    public name: string,
    public body: string,
    public error: BodyScanError,
    public model: string | null,
    public spans: i32 = 1,
  ) {}
}

function bytesOf(list: u8[]): ArrayBuffer {
  const buf = new ArrayBuffer(list.length);
  for (let i = 0; i < list.length; i++) store<u8>(changetype<usize>(buf) + i, list[i]);
  return buf;
}

function concat(a: string, mid: u8[], b: string): ArrayBuffer {
  const x = String.UTF8.encode(a, false);
  const y = String.UTF8.encode(b, false);
  const out = new ArrayBuffer(x.byteLength + mid.length + y.byteLength);
  const base = changetype<usize>(out);
  memory.copy(base, changetype<usize>(x), x.byteLength);
  for (let i = 0; i < mid.length; i++) store<u8>(base + x.byteLength + i, mid[i]);
  memory.copy(base + x.byteLength + mid.length, changetype<usize>(y), y.byteLength);
  return out;
}

describe("scanBody: hostile bodies (table)", () => {
  it("follows JSON.parse on keys, duplicates, nesting and stream types", () => {
    const rows: Row[] = [
      new Row("plain", '{"model":"a"}', BodyScanError.None, "a"),
      new Row("escaped key counts", '{"mod\\u0065l":"a"}', BodyScanError.None, "a"),
      new Row("escaped key, every char", '{"\\u006d\\u006f\\u0064\\u0065\\u006c":"a"}', BodyScanError.None, "a"),
      new Row("upper-case key is another key", '{"Model":"a"}', BodyScanError.None, null, 0),
      new Row("key with NUL is another key", '{"model\\u0000":"a"}', BodyScanError.None, null, 0),
      new Row("key with trailing space", '{"model ":"a"}', BodyScanError.None, null, 0),
      new Row("key with lone surrogate", '{"model\\ud800":"a"}', BodyScanError.None, null, 0),
      new Row("nested model never counts", '{"m":{"model":"x"},"messages":[{"model":"y"}]}', BodyScanError.None, null, 0),
      new Row("duplicates: last wins", '{"model":"a","x":1,"model":"b"}', BodyScanError.None, "b", 2),
      new Row("duplicates: escaped first", '{"mod\\u0065l":"a","model":"b"}', BodyScanError.None, "b", 2),
      new Row("duplicates: non-string first", '{"model":[1,{"model":2}],"model":"b"}', BodyScanError.None, "b", 2),
      new Row("duplicates: non-string last", '{"model":"a","model":null}', BodyScanError.None, null, 2),
      new Row("three duplicates", '{"model":"a","model":"b","model":"c"}', BodyScanError.None, "c", 3),
      new Row("escapes in value", '{"model":"a\\"b\\\\c\\/d"}', BodyScanError.None, 'a"b\\c/d'),
      new Row("pair in value", '{"model":"\\ud83d\\ude00"}', BodyScanError.None, "😀"),
      new Row("BOM is refused", "\uFEFF{\"model\":\"a\"}", BodyScanError.Invalid, null, 0),
      new Row("trailing comma", '{"model":"a",}', BodyScanError.Invalid, null, 0),
      new Row("cut value", '{"model":"a', BodyScanError.Truncated, null, 0),
    ];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      run(row.body);
      expect(scan.error).toBe(row.error, row.name);
      if (row.error != BodyScanError.None) continue;
      expect(scan.modelSpanCount).toBe(row.spans, row.name);
      const want = row.model;
      if (want == null) expect(scan.hasStringModel).toBe(false, row.name);
      else expect(modelString(changetype<usize>(lastBuf), scan)).toBe(want, row.name);
    }
  });

  it("counts stream only as a JSON boolean", () => {
    const bodies = ['{"stream":true}', '{"stream":false}', '{"stream":"true"}', '{"stream":1}', '{"stream":null}', '{"stream":[true]}', '{"x":{"stream":true}}'];
    const isBool: bool[] = [true, true, false, false, false, false, false];
    const value: bool[] = [true, false, false, false, false, false, false];
    for (let i = 0; i < bodies.length; i++) {
      run(bodies[i]);
      expect(scan.ok).toBe(true, bodies[i]);
      expect(scan.streamIsBool).toBe(isBool[i], bodies[i]);
      expect(scan.stream).toBe(value[i], bodies[i]);
    }
  });

  it("refuses invalid UTF-8 anywhere in a string, as a fatal decoder does", () => {
    const bad: u8[][] = [
      [0x80], // stray continuation
      [0xc0, 0xaf], // overlong '/'
      [0xc1, 0xac], // overlong 'l'
      [0xe0, 0x80, 0xaf], // overlong 3-byte
      [0xed, 0xa0, 0x80], // UTF-8 encoded surrogate (WTF-8)
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xf5, 0x80, 0x80, 0x80],
      [0xff],
      [0xe2, 0x82, 0x41], // cut sequence followed by ASCII
    ];
    for (let i = 0; i < bad.length; i++) {
      scanBodyBuffer(concat('{"model":"a', bad[i], '"}'), scan);
      expect(scan.error).toBe(BodyScanError.Invalid, "model value #" + i.toString());
      scanBodyBuffer(concat('{"mo', bad[i], 'del":"a"}'), scan);
      expect(scan.error).toBe(BodyScanError.Invalid, "key #" + i.toString());
      scanBodyBuffer(concat('{"model":"a","messages":[{"content":"x', bad[i], '"}]}'), scan);
      expect(scan.error).toBe(BodyScanError.Invalid, "nested #" + i.toString());
    }
    // A sequence cut by the end of the body is truncation.
    scanBodyBuffer(concat('{"model":"a', [0xe2, 0x82], ""), scan);
    expect(scan.error).toBe(BodyScanError.Truncated);
    // Valid multi-byte text is fine.
    scanBodyBuffer(concat('{"model":"', [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], '"}'), scan);
    expect(scan.ok).toBe(true);
    expect(scan.hasStringModel).toBe(true);
  });
});

describe("model rewrite: every top-level model member", () => {
  it("replaces each value span and nothing else", () => {
    const out = new ByteBuffer(64);
    const body = '{"model" : "a","mod\\u0065l":[1,2], "m":{"model":"keep"},"model":"c"}';
    run(body);
    expect(scan.modelSpanCount).toBe(3);
    expect(rewriteModel(changetype<usize>(lastBuf), lastBuf.byteLength, scan, "z\"", out)).toBe(true);
    expect(out.toString()).toBe('{"model" : "z\\"","mod\\u0065l":"z\\"", "m":{"model":"keep"},"model":"z\\""}');
  });

  it("declines without a string model to route on", () => {
    const out = new ByteBuffer(64);
    run('{"model":"a","model":5}');
    expect(rewriteModel(changetype<usize>(lastBuf), lastBuf.byteLength, scan, "z", out)).toBe(false);
    expect(out.length).toBe(0);
  });
});

describe("isHeaderSafeModel", () => {
  it("refuses control characters and lone surrogates, keeps other text", () => {
    const unsafe = ["a\u0000", "\u0001", "a\tb", "a\nb", "\u001f", "x\u007f", "\ud800", "a\udc00b", "\ud800\ud800", "\ude00\ud83d"];
    for (let i = 0; i < unsafe.length; i++) expect(isHeaderSafeModel(unsafe[i])).toBe(false, "#" + i.toString());
    const safe = ["a", "meta-llama/Llama-3.1-8B-Instruct", "é", "😀", "\u0080", "a b", "~"];
    for (let i = 0; i < safe.length; i++) expect(isHeaderSafeModel(safe[i])).toBe(true, safe[i]);
  });
});
