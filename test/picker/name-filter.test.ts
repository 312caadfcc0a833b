/**
 * `?name[]=` scrape filters against the real prometheus_client exposition app (the library vLLM
 * and SGLang serve /metrics with), on loopback: the plugin asks for exactly the series the vLLM
 * mapping reads, the server honours it (a page of a few hundred bytes instead of kilobytes), and
 * the load is read from it. In multiprocess mode (SGLang; vLLM with several API servers)
 * prometheus_client answers a filtered request with an empty page: the plugin notices that no
 * wanted series came back, does not take the page as a sample, and scrapes that server
 * unfiltered from then on. (Servers that ignore the parameter: every other picker test, whose
 * fake servers send the whole page whatever the query.)
 *
 * Needs python3 with prometheus_client (.ci/run installs the pinned version); skipped with a
 * notice when missing, and failing under CI=true.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ProxyWasmHost } from "../../src/host/index.js";
import { metric, pluginModule } from "./helpers.js";
import { sharedLoad } from "./load-state.js";

const SERVER = fileURLToPath(new URL("../fixtures/state/prometheus_exposition.py", import.meta.url));
const ADDR = "10.0.0.1:8000";
const WANTED = ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "vllm:lora_requests_info"];

function havePrometheusClient(): string | undefined {
  const r = spawnSync("python3", ["-c", "from importlib.metadata import version; print(version('prometheus_client'))"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const version = havePrometheusClient();
if (!version) {
  if (process.env.CI === "true") throw new Error("python3 with prometheus_client is required under CI=true (.ci/run installs it)");
  console.warn("name-filter tests skipped: python3 with prometheus_client is not installed (python3 -m pip install prometheus_client)");
}

async function startServer(mode: "plain" | "multiprocess"): Promise<{ proc: ChildProcessWithoutNullStreams; base: string }> {
  const proc = spawn("python3", [SERVER, mode], { stdio: ["pipe", "pipe", "pipe"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    let err = "";
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve(Number(line));
    });
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    proc.on("exit", (code) => reject(new Error(`prometheus_exposition.py exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error("prometheus_exposition.py did not start")), 10_000).unref();
  });
  return { proc, base: `http://127.0.0.1:${port}` };
}

/** Stops the server and waits for it to exit, so that its temporary files are gone. */
async function stop(proc: ChildProcessWithoutNullStreams): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.stdin.end();
  proc.kill();
  await exited;
}

async function scrapeFrom(base: string): Promise<ProxyWasmHost> {
  const host = await ProxyWasmHost.create({
    module: await pluginModule(),
    workers: 1,
    rootId: "wayroute",
    logLevel: "error",
    pluginConfig: { pools: [{ name: "llm", endpoints: [{ address: ADDR }], scrape: { engine: "vllm", cluster: "pool", intervalMs: 50 } }] },
    clusters: { pool: base },
  });
  expect(host.configured).toBe(true);
  return host;
}

async function until(host: ProxyWasmHost, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) {
    await host.advance(50);
    await host.settle();
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function seen(base: string): Promise<string[]> {
  const text = await (await fetch(`${base}/seen`)).text();
  return text.length ? text.split("\n") : [];
}

describe.skipIf(!version)(`scrape name filters against prometheus_client ${version ?? ""}`, () => {
  it("asks for the wanted series only; prometheus_client honours it; the load is read", async () => {
    const { proc, base } = await startServer("plain");
    let host: ProxyWasmHost | undefined;
    try {
      host = await scrapeFrom(base);
      const h = host;
      await until(h, () => sharedLoad(h, ADDR) !== undefined);
      expect(sharedLoad(h, ADDR)).toMatchObject({ waiting: 3, running: 7, kv: 0.42, maxLora: 4, active: ["sql-lora", "chat-lora"], waitingLoras: [] });
      const queries = await seen(base);
      expect(queries.length).toBeGreaterThan(0);
      const params = new URLSearchParams(queries[0]);
      expect(params.getAll("name[]")).toEqual(WANTED);
      // Honoured: the page the plugin got holds only the asked-for families.
      const call = h.httpCalls.find((c) => c.state === "answered")!;
      const body = new TextDecoder().decode(call.delivered!.body);
      expect(body).not.toContain("time_to_first_token");
      expect(body).not.toContain("cache_config_info");
      const full = await (await fetch(`${base}/metrics`)).text();
      expect(body.length * 3).toBeLessThan(full.length);
      expect(metric(h, "wayroute_picker_llm_scrape_filter_ignored_total")).toBe(0);
      expect(h.traps).toEqual([]);
    } finally {
      host?.close();
      await stop(proc);
    }
  }, 30_000);

  it("multiprocess mode answers a filtered request with nothing: the plugin falls back to the whole page", async () => {
    const { proc, base } = await startServer("multiprocess");
    let host: ProxyWasmHost | undefined;
    try {
      host = await scrapeFrom(base);
      const h = host;
      await until(h, () => sharedLoad(h, ADDR) !== undefined);
      // The empty filtered page was not taken as "everything unknown".
      expect(sharedLoad(h, ADDR)).toMatchObject({ waiting: 3, running: 7, kv: 0.42, maxLora: 4, active: ["sql-lora", "chat-lora"] });
      const queries = await seen(base);
      expect(new URLSearchParams(queries[0]).getAll("name[]")).toEqual(WANTED);
      expect(queries.slice(1).every((q) => q === "")).toBe(true);
      expect(metric(h, "wayroute_picker_llm_scrape_filter_ignored_total")).toBe(1);
      expect(h.traps).toEqual([]);
    } finally {
      host?.close();
      await stop(proc);
    }
  }, 30_000);
});
