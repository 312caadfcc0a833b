import { parseJson } from "../json/parse";
import { ConfigReader } from "../config/reader";
import { HeadersConfig, readHeadersSection } from "./config";

class Outcome {
  constructor(
    public config: HeadersConfig | null,
    public error: string,
  ) {}
}

/** Parses `{"headers": <section>}` and reads the section, as the plugin does. */
function read(section: string): Outcome {
  const parsed = parseJson('{"headers": ' + section + "}");
  expect(parsed.ok).toBe(true, parsed.error);
  const r = new ConfigReader();
  const root = r.root(parsed.value!);
  const config = readHeadersSection(r, root.child("headers")!);
  return new Outcome(config, r.error);
}

describe("readHeadersSection", () => {
  it("reads set and remove for both directions", () => {
    const out = read(
      '{"request": {"set": {"x-a": "1", "x-b": ""}, "remove": ["x-c"]}, "response": {"set": {"x-r": "v"}}}',
    );
    expect(out.error).toBe("");
    const config = out.config!;
    expect(config.request.toSet.length).toBe(2);
    expect(config.request.toSet[0].name).toBe("x-a");
    expect(config.request.toSet[0].value).toBe("1");
    expect(config.request.toSet[1].value).toBe("");
    expect(config.request.toRemove.length).toBe(1);
    expect(config.request.toRemove[0]).toBe("x-c");
    expect(config.response.toSet[0].name).toBe("x-r");
    expect(config.response.toRemove.length).toBe(0);
  });

  it("accepts an empty section", () => {
    const out = read("{}");
    expect(out.error).toBe("");
    expect(out.config!.request.isEmpty).toBe(true);
    expect(out.config!.response.isEmpty).toBe(true);
  });

  it("names the offending field by JSON path", () => {
    expect(read('{"request": {"set": {"X-Upper": "1"}}}').error).toBe(
      '$.headers.request.set["X-Upper"]: header name must be a lower-case RFC 7230 token (a-z 0-9 !#$%&\'*+-.^_`|~)',
    );
    expect(read('{"request": {"set": {"x-a": "1\\r\\nx-b: 2"}}}').error).toBe(
      '$.headers.request.set["x-a"]: header value must not contain CR, LF or NUL',
    );
    expect(read('{"response": {"remove": ["ok", "bad name"]}}').error).toBe(
      "$.headers.response.remove[1]: header name must be a lower-case RFC 7230 token (a-z 0-9 !#$%&'*+-.^_`|~)",
    );
    expect(read('{"request": {"set": {"x-a": 1}}}').error).toBe(
      '$.headers.request.set["x-a"]: expected string, got number',
    );
    expect(read('{"request": {"add": {}}}').error).toBe(
      '$.headers.request.add: unknown field "add" (allowed: set, remove)',
    );
    expect(read('{"both": {}}').error).toBe('$.headers.both: unknown field "both" (allowed: request, response)');
    expect(read("[]").error).toBe("$.headers: expected object, got array");
    expect(read('{"request": {"remove": "x-a"}}').error).toBe(
      "$.headers.request.remove: expected array, got string",
    );
    expect(read('{"request": {"set": {"x-a": "1"}}}').config).not.toBeNull();
  });
});
