/**
 * Finding 5: `--out` must not destroy what is there. `pull --out` into a project folder, onto a
 * file, or with --force onto a folder that is not a layout we write all fail and leave the target
 * as it was; an empty folder or (with --force) a previous layout is fine. A signal during the
 * write leaves no temporary directory behind.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWasmImage } from "../../src/oci/image.js";
import * as mt from "../../src/oci/media-types.js";
import { runCli, tinyWasm } from "../oci/helpers.js";
import { type FakeServer, registryError, startServer } from "./helpers.js";

const image = buildWasmImage(tinyWasm(16, 9), { format: "artifact" });
let reg: FakeServer;
let root: string;
const env = { DOCKER_CONFIG: "/nonexistent" };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wayroute-out-"));
  reg = await startServer((req, res) => {
    const path = req.url ?? "";
    if (path.includes("/manifests/")) return res.writeHead(200, { "content-type": mt.OCI_MANIFEST }).end(image.manifestBytes);
    const blob = image.blobs.get(path.split("/blobs/")[1] as never);
    if (blob) return res.writeHead(200).end(blob);
    registryError(res, 404);
  });
});
afterAll(async () => {
  await reg?.close();
  await rm(root, { recursive: true, force: true });
});

const pull = (out: string, ...extra: string[]) => runCli(["pull", `${reg.host}/team/w:1`, "--out", out, ...extra], env);

describe("pull --out keeps what is there", () => {
  it("refuses a non-empty folder without --force and leaves it untouched", async () => {
    const project = join(root, "myproject");
    await mkdir(join(project, "src"), { recursive: true });
    await writeFile(join(project, "src", "main.ts"), "precious");
    const r = await pull(project);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exists and is not empty; pass --force/);
    expect(await readFile(join(project, "src", "main.ts"), "utf8")).toBe("precious");
  });

  it("never deletes a folder that is not a layout, even with --force", async () => {
    const project = join(root, "myproject2");
    await mkdir(project);
    await writeFile(join(project, "oci-layout"), "{}"); // looks a bit like a layout, but...
    await writeFile(join(project, "index.json"), "{}");
    await writeFile(join(project, "notes.md"), "precious");
    const r = await pull(project, "--force");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not an OCI layout written by wayroute/);
    expect(await readFile(join(project, "notes.md"), "utf8")).toBe("precious");
  });

  it("never replaces a file", async () => {
    const file = join(root, "file.txt");
    await writeFile(file, "precious");
    for (const extra of [[], ["--force"]]) {
      const r = await pull(file, ...extra);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/exists and is not a directory/);
    }
    expect(await readFile(file, "utf8")).toBe("precious");
  });

  it("writes into an absent or empty folder, and replaces a previous layout only with --force", async () => {
    const empty = join(root, "empty");
    await mkdir(empty);
    expect((await pull(empty)).code).toBe(0);
    expect((await readdir(empty)).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
    const again = await pull(empty);
    expect(again.code).toBe(1);
    const forced = await pull(empty, "--force");
    expect(forced.code, forced.stderr).toBe(0);
    expect((await readdir(root)).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("a signal during the write removes the temporary directory", async () => {
    const target = join(root, "signalled");
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures", "hold-temp-dir.ts"), target], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d) => String(d).includes("filling") && resolve());
        child.once("exit", () => reject(new Error("child exited early")));
      });
      expect((await readdir(root)).some((n) => n.startsWith(".signalled.tmp-"))).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((r) => child.once("exit", (_code, sig) => r(sig)));
      child.kill("SIGINT");
      expect(await exited).toBe("SIGINT");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    expect((await readdir(root)).filter((n) => n.startsWith(".signalled"))).toEqual([]);
  }, 30_000);
});
