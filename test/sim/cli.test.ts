/** `wayroute sim` and `wayroute serve` from the command line: start, answer, stop by themselves. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";

afterEach(() => vi.restoreAllMocks());

function captureStdout(): string[] {
  const out: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  return out;
}

describe("wayroute sim / serve commands", () => {
  it("sim prints its servers as JSON, serves requests, and stops after --duration", async () => {
    const out = captureStdout();
    const done = main(["sim", "--servers", "2", "--duration", "1", "--json", "--speedup", "50"]);
    let line: string | undefined;
    for (let i = 0; i < 200 && !line; i++) {
      line = out.find((l) => l.startsWith("{"));
      if (!line) await new Promise((r) => setTimeout(r, 5));
    }
    const { servers } = JSON.parse(line!) as { servers: { name: string; address: string }[] };
    expect(servers.map((s) => s.name)).toEqual(["sim-0", "sim-1"]);
    const r = await fetch(`http://${servers[1]!.address}/v1/completions`, { method: "POST", body: JSON.stringify({ model: "sim-llm", prompt: "x", max_tokens: 1 }) });
    expect(r.headers.get("x-sim-server")).toBe("sim-1");
    expect(await done).toBe(0);
    await expect(fetch(`http://${servers[0]!.address}/health`)).rejects.toThrow();
  });

  it("serve rejects bad options with a usage error (exit 2)", async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    });
    expect(await main(["serve", "--upstream", "not-an-address", "--duration", "1"])).toBe(2);
    expect(err.join("")).toContain("$.defaultCluster.endpoints[0]");
    expect(await main(["serve", "--fail-strategy", "SOMETIMES"])).toBe(2);
    expect(await main(["sim", "--speedup", "fast"])).toBe(2);
  });
});
