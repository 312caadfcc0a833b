/**
 * Write-then-rename helpers: an output either appears complete or not at all, so a failure
 * half-way (bad input, network error, Ctrl-C) never leaves a half-written file or directory.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { lstat, mkdir, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { OciError } from "./errors.js";

function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Writes `data` to `path` via a temporary sibling and a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  trackTemp(tmp);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    untrackTemp(tmp);
  }
}

/** Temporary paths alive in this process, removed if a signal ends it half-way. */
const liveTemps = new Set<string>();
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function onSignal(signal: NodeJS.Signals): void {
  for (const t of liveTemps) rmSync(t, { recursive: true, force: true });
  liveTemps.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Die of the same signal, as the process would have without us.
  process.kill(process.pid, signal);
}

function trackTemp(path: string): void {
  if (liveTemps.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  liveTemps.add(path);
}

function untrackTemp(path: string): void {
  liveTemps.delete(path);
  if (liveTemps.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/** What may be replaced at `path`: nothing there, an empty directory, or (`replaceable`) a directory it accepts. */
export interface DirTargetRules {
  /** Replace a non-empty directory (still only one `replaceable` accepts). */
  force?: boolean;
  /** Whether an existing non-empty directory is one of ours that may be replaced. */
  replaceable?: (dir: string) => Promise<boolean>;
  /** Names the kind of directory in errors, e.g. "OCI layout". */
  kind?: string;
}

/**
 * Throws E_EXISTS unless `path` is free: absent, an empty directory, or (with `force`) a
 * directory `replaceable` accepts. A file is never replaced by a directory.
 */
export async function checkDirTarget(path: string, rules: DirTargetRules = {}): Promise<"absent" | "empty" | "replace"> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (!st) return "absent";
  const kind = rules.kind ?? "directory";
  if (!st.isDirectory()) throw new OciError("E_EXISTS", `${path} exists and is not a directory; refusing to replace it with the ${kind}`);
  if ((await readdir(path)).length === 0) return "empty";
  if (!rules.force) throw new OciError("E_EXISTS", `${path} exists and is not empty; pass --force to replace it (only an ${kind} is ever replaced)`);
  if (!(await (rules.replaceable ?? (async () => false))(path))) {
    throw new OciError("E_EXISTS", `${path} is not an ${kind} written by wayroute; refusing to delete it even with --force`);
  }
  return "replace";
}

/**
 * Builds a directory with `fill(tmpDir)` in a temporary sibling, then swaps it into `path`. An
 * existing target is replaced only as {@link checkDirTarget} allows, and only once the new
 * directory is complete. A SIGINT/SIGTERM/SIGHUP half-way removes the temporary directory.
 */
export async function writeDirAtomic(path: string, fill: (dir: string) => Promise<void>, rules: DirTargetRules = {}): Promise<void> {
  await checkDirTarget(path, rules);
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  const old = tempSibling(path);
  trackTemp(tmp);
  try {
    await mkdir(tmp);
    await fill(tmp);
    // Checked again: the target may have changed while we filled.
    const what = await checkDirTarget(path, rules);
    if (what === "replace") {
      trackTemp(old);
      await rename(path, old);
    } else if (what === "empty") await rmdir(path);
    await rename(tmp, path);
    untrackTemp(tmp);
    if (what === "replace") {
      await rm(old, { recursive: true, force: true });
      untrackTemp(old);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    untrackTemp(tmp);
    throw err;
  }
}
