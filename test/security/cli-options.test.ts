/**
 * Finding 12: option values that land in generated manifests are checked against Kubernetes and
 * URL syntax. A selector that would pollute the label map or break the YAML, a root id with
 * spaces or newlines, a URL with credentials or control characters: each is a usage error (exit
 * 2) and nothing is printed.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { runCli } from "../oci/helpers.js";

const HEX = "ab".repeat(32);
const base = ["manifest", "--mode", "route", "--service", "svc", "--route-backends", "a=svc-a", "--url", "https://plugins.example.com/p.wasm", "--wasm-sha256", HEX];

function manifest(...extra: string[]) {
  const args = [...base];
  for (let i = 0; i < extra.length; i += 2) {
    const at = args.indexOf(extra[i]!);
    if (at >= 0) args.splice(at, 2, extra[i]!, extra[i + 1]!);
    else args.push(extra[i]!, extra[i + 1]!);
  }
  return runCli(args);
}

describe("manifest options are checked (finding 12)", () => {
  it("a valid selector, root id and URL still generate", async () => {
    const r = await manifest("--selector", "app=vllm,app.kubernetes.io/part-of=llm", "--plugin-name", "wayroute.v2_root");
    expect(r.code, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJSON());
    const wp = docs.find((d) => d.kind === "WasmPlugin");
    expect(wp.spec.pluginName).toBe("wayroute.v2_root");
    const svc = docs.find((d) => d.kind === "Service" && d.metadata.name === "svc");
    expect(svc.spec.selector).toEqual({ app: "vllm", "app.kubernetes.io/part-of": "llm" });
  });

  it.each([
    ["__proto__=x", /not a Kubernetes label key/],
    ["constructor=x", undefined],
    ["app=vllm\nkind: Secret", /not a Kubernetes label value/],
    ["bad key=x", /not a Kubernetes label key/],
    ["Example.COM/app=x", /prefix must be a DNS subdomain/],
    ["app=" + "v".repeat(64), /not a Kubernetes label value/],
    ["app=x,app=y", /twice/],
    ["=x", /not key=value/],
  ])("--selector %j is refused", async (sel, why) => {
    const r = await manifest("--selector", sel);
    if (why === undefined) {
      // `constructor` is a valid label key: it must land as a plain label, not touch a prototype.
      expect(r.code, r.stderr).toBe(0);
      const svc = parseAllDocuments(r.stdout).map((d) => d.toJSON()).find((d) => d.kind === "Service" && d.metadata.name === "svc");
      expect(svc.spec.selector).toEqual({ constructor: "x" });
      return;
    }
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(why);
  });

  it.each(["my plugin", "root\nid", "-leading", "a".repeat(254), "root\u001b[2J", "ünïcode"])("--plugin-name %j is refused", async (name) => {
    const r = await manifest("--plugin-name", name);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/--plugin-name .* must be 1-253 letters/);
  });

  it.each([
    ["https://user:secret@plugins.example.com/p.wasm", /must not carry a user name or password/],
    ["https://plugins.example.com/p.wasm\nsha256: evil", /spaces or control characters/],
    ["oci:///team/w@sha256:" + HEX, /names no host/],
    ["file:///etc/passwd", /must be oci:\/\/, http:\/\/ or https:\/\//],
    ["https://exa mple.com/p.wasm", /spaces or control characters/],
    ["http://[::1", /not a valid URL/],
  ])("--url %j is refused", async (url, why) => {
    const r = await manifest("--url", url);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(why);
    expect(r.stderr).not.toContain("secret");
  });

  it("the generated YAML stays one set of documents", async () => {
    const r = await manifest("--selector", "app=ok");
    expect(r.code).toBe(0);
    expect(() => parseYaml(r.stdout.split("\n---\n")[0]!)).not.toThrow();
  });
});
