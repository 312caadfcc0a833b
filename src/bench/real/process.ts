/**
 * A peer program (simulator, EPP) run as a child process for the real-stack benchmark: started
 * with its arguments, its output kept as the last lines for error messages, and always stopped.
 * Every started process is registered so that an interrupted run (Ctrl-C, SIGTERM) still stops
 * them all before exiting.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";

/** Lines of a peer's output kept for error messages. */
const TAIL_LINES = 40;

const running = new Set<PeerProcess>();
let signalsHooked = false;

/** Stops every registered peer (synchronously, with SIGKILL): the last resort on exit. */
function killAll(): void {
  for (const p of running) p.killNow();
}

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    });
  }
}

/** A peer that exited or did not become ready; the message carries its last log lines. */
export class PeerStartError extends Error {
  readonly code = "E_PEER_START";
}

export interface PeerSpec {
  /** Name in messages, e.g. "epp" or "sim 3". */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export class PeerProcess {
  private child: ChildProcess | undefined;
  private readonly lines: string[] = [];
  private partial = "";
  private exitInfo: string | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: PeerSpec) {}

  /** Process id while running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How it ended, when it has: "exit 1", "signal SIGKILL". */
  get exit(): string | undefined {
    return this.exitInfo;
  }

  /** The last lines of its stdout and stderr, interleaved as they came. */
  tail(n = TAIL_LINES): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n);
  }

  start(): void {
    hookSignals();
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd, env: { ...process.env, ...(this.spec.env ?? {}) }, stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    running.add(this);
    const take = (chunk: Buffer) => {
      const text = this.partial + chunk.toString("utf8");
      const parts = text.split("\n");
      this.partial = parts.pop() ?? "";
      for (const l of parts) this.lines.push(l.length > 400 ? l.slice(0, 400) + "…" : l);
      if (this.lines.length > TAIL_LINES * 4) this.lines.splice(0, this.lines.length - TAIL_LINES);
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = signal ? `signal ${signal}` : `exit ${code}`;
        running.delete(this);
        resolve();
      });
      child.once("error", (err) => {
        this.exitInfo = `could not start: ${err.message}`;
        running.delete(this);
        resolve();
      });
    });
  }

  /** Fails with the last log lines unless `ready()` turns true within `timeoutMs`. */
  async waitReady(ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.exitInfo !== undefined) throw this.startError(`exited (${this.exitInfo}) before it was ready`);
      if (await ready().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw this.startError(`was not ready after ${timeoutMs} ms`);
  }

  startError(what: string): PeerStartError {
    const tail = this.tail(15);
    return new PeerStartError(`${this.spec.name} ${what}${tail.length ? `; its last log lines:\n  ${tail.join("\n  ")}` : " (it logged nothing)"}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo !== undefined) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Immediate SIGKILL, for process exit. */
  killNow(): void {
    if (this.child && this.exitInfo === undefined) this.child.kill("SIGKILL");
  }
}

/** Stops every peer still running (the end of a run, whatever happened in it). */
export async function stopAllPeers(): Promise<void> {
  await stopAll([...running]);
}

/** Stops peers in parallel; never rejects. */
export async function stopAll(peers: Iterable<PeerProcess | undefined>): Promise<void> {
  await Promise.all([...peers].map((p) => p?.stop().catch(() => undefined)));
}

/** True when something accepts TCP connections on `host:port`. */
export function tcpOpen(address: string, timeoutMs = 500): Promise<boolean> {
  const i = address.lastIndexOf(":");
  return new Promise((resolve) => {
    const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** GET `http://address/path` text, or undefined on any failure. */
export async function httpText(address: string, path: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const r = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return undefined;
    return await r.text();
  } catch {
    return undefined;
  }
}
