/**
 * Makes sure no Envoy a process started outlives it: on exit (normal, process.exit, uncaught
 * error) every registered child gets SIGKILL; on SIGINT/SIGTERM/SIGHUP with no other handler
 * installed, children get SIGTERM and the signal is re-raised so the default action still happens.
 * When the program handles the signal itself (the CLI does, to stop cleanly), it is left to it.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

interface Owned {
  child: ChildProcess;
  /** A temporary directory removed together with the child. */
  dir?: string;
}

const owned = new Set<Owned>();
let installed = false;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function killAll(signal: NodeJS.Signals): void {
  for (const o of owned) {
    if (o.child.exitCode === null && o.child.signalCode === null) o.child.kill(signal);
    if (o.dir && signal === "SIGKILL") rmSync(o.dir, { recursive: true, force: true });
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => killAll("SIGKILL"));
  for (const sig of SIGNALS) {
    const onSignal = () => {
      // Ours runs first (prepended); other listeners still to run mean the program handles it.
      if (process.listenerCount(sig) > 1) return;
      killAll("SIGTERM");
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.prependListener(sig, onSignal);
  }
}

/** Registers a child to stop with the process; returns the function that unregisters it. */
export function ownChild(child: ChildProcess, dir?: string): () => void {
  install();
  const o: Owned = { child, dir };
  owned.add(o);
  return () => owned.delete(o);
}
