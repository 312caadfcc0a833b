/**
 * Finding 4, differentially: random archives (plain, PAX-renamed, GNU long-named, global headers,
 * links and directories named plugin.wasm, size fields that disagree with the data) are read by
 * Go's own archive/tar the way Istio's fetcher reads a compat layer (test/security/go-tar) and by
 * our reader; both must take the same module, or both fail. Needs Go (skipped with a notice
 * without it; fails under CI=true, where .ci/run installs it).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tinyWasm } from "../oci/helpers.js";
import { extract, pax, type Raw, tar } from "./tar-fixtures.js";

const here = resolve(import.meta.dirname, "go-tar");
const goFound = spawnSync("go", ["version"], { encoding: "utf8" }).status === 0;
if (!goFound && process.env.CI !== "true") process.stderr.write("notice: skipping the Go archive/tar differential test: `go` not found\n");

const A = tinyWasm(30, 11);
const B = tinyWasm(30, 12);
const NAMES = ["plugin.wasm", "a/plugin.wasm", "plugin.wasm/", "readme.txt", "x/y", "plugin.wasm.bak", "./plugin.wasm", "b//plugin.wasm"];
const DATA = [A, B, Buffer.alloc(0), Buffer.from("not wasm")];

const name = fc.constantFrom(...NAMES);
const data = fc.constantFrom(...DATA);
/** One logical entry: an optional PAX or GNU long-name header in front of a file, link or directory. */
const entry = fc.oneof(
  fc.record({ name, type: fc.constantFrom("0", "\0", "2", "5"), data, gnu: fc.boolean() }).map((e): Raw[] => [
    { name: e.name, type: e.type, data: e.type === "2" || e.type === "5" ? undefined : e.data, gnu: e.gnu },
  ]),
  fc.record({ path: name, sizeFrom: fc.option(data), inner: name, data }).map((e): Raw[] => {
    const records: Record<string, string> = { path: e.path };
    if (e.sizeFrom) records.size = String(e.sizeFrom.length);
    return [{ name: "PaxHeaders/x", type: "x", data: pax(records) }, { name: e.inner, data: e.data }];
  }),
  fc.record({ long: name, inner: name, data }).map((e): Raw[] => [
    { name: "././@LongLink", type: "L", gnu: true, data: Buffer.from(`${e.long}\0`) },
    { name: e.inner, gnu: true, data: e.data },
  ]),
  fc.record({ path: name }).map((e): Raw[] => [{ name: "pax_global_header", type: "g", data: pax({ path: e.path }) }]),
);
const archive = fc.array(entry, { minLength: 1, maxLength: 5 }).map((es) => tar(es.flat()));

/** Builds the Go reader once (the build cache makes reruns fast) and runs it over `layers`. */
function goPicks(layers: Buffer[]): string[] {
  const bin = join(resolve(import.meta.dirname, "../.."), ".tmp", "go-tar-pick");
  mkdirSync(dirname(bin), { recursive: true });
  const build = spawnSync("go", ["build", "-o", bin, "."], { cwd: here, env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" }, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`go build failed:\n${build.stderr}`);
  const run = spawnSync(bin, [], { input: layers.map((l) => l.toString("base64")).join("\n") + "\n", encoding: "utf8", maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`go-tar failed:\n${run.stderr}`);
  return run.stdout.trim().split("\n");
}

const suite = goFound || process.env.CI === "true" ? describe : describe.skip;

suite("our tar reader picks what Go's archive/tar (Istio) picks", () => {
  it("400 random archives: same module, or both fail", async () => {
    if (!goFound) throw new Error("go not found: .ci/run installs it");
    const archives = fc.sample(archive, { numRuns: 400, seed: 20261204 });
    const go = goPicks(archives.map((a) => gzipSync(a)));
    expect(go).toHaveLength(archives.length);
    const mismatches: string[] = [];
    let picked = 0;
    for (let i = 0; i < archives.length; i++) {
      const theirs = go[i]!;
      const ours = await extract(archives[i]!).then(
        (r) => `ok ${r.wasmDigest.slice(7)} 1`,
        (e: Error) => (/not found in the archive/.test(e.message) ? "notfound" : /not a WebAssembly module/.test(e.message) ? "ok-not-wasm" : `error ${e.message}`),
      );
      const agree =
        ours === theirs ||
        (ours === "ok-not-wasm" && /^ok [0-9a-f]{64} 0$/.test(theirs)) ||
        (ours.startsWith("error") && theirs.startsWith("error"));
      if (theirs.startsWith("ok")) picked++;
      if (!agree) mismatches.push(`#${i}: go=${theirs} ours=${ours}`);
    }
    expect(mismatches).toEqual([]);
    // The sample exercises the interesting cases, not only failures.
    expect(picked).toBeGreaterThan(100);
  }, 60_000);
});
