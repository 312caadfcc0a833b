/**
 * `wayroute envoy`: runs a real Envoy with the plugin in front of simulated servers, prints the
 * addresses, serves, and stops after --duration; refuses impossible configs with one line.
 */
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import { runCli } from "../oci/helpers.js";
import { describeEnvoy } from "./helpers.js";
import { repoRoot } from "./stack.js";

describeEnvoy("wayroute envoy", () => {
  it("--with-sim: prints the addresses, serves through Envoy, stops cleanly on Ctrl-C (SIGINT)", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "envoy", "--with-sim", "2", "--port", "0", "--admin-port", "0", "--json"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (c) => {
          out += String(c);
          if (out.includes("\n")) resolve(out.split("\n")[0]!);
        });
        child.once("exit", (code) => reject(new Error(`exited ${code} before printing the addresses`)));
      });
      const info = JSON.parse(line) as { listener: string; admin: string; envoy: { concurrency: number }; servers: { name: string; address: string }[] };
      expect(info.envoy.concurrency).toBe(2);
      expect(info.listener).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(info.admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(info.servers).toHaveLength(2);
      const r = await fetch(`${info.listener}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "sim-llm", max_tokens: 2, messages: [{ role: "user", content: "hi" }] }) });
      expect(r.status).toBe(200);
      expect(info.servers.map((s) => s.name)).toContain(r.headers.get("x-sim-server"));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      // Envoy is gone with it.
      await expect(fetch(`${info.admin}/ready`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses an impossible config before Envoy starts, on one line", async () => {
    const r = await runCli(["envoy", "--with-sim", "1", "--endpoint-cluster", "original_dst", "--duration", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/ORIGINAL_DST cluster reads one address.*maxEndpoints/);
  });

  it("--print-config prints the generated Envoy config", async () => {
    const r = await runCli(["envoy", "--with-sim", "1", "--print-config"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("envoy.load_balancing_policies.override_host");
    expect(r.stdout).toContain("envoy.wasm.runtime.v8");
  });
});
