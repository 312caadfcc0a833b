/**
 * Runs a real Envoy: writes the bootstrap to a private temporary directory, starts the binary with
 * `--concurrency N` (one Wasm VM per worker), learns the admin address Envoy bound (port 0 works)
 * from `--admin-address-path`, waits for the admin `/ready` endpoint, then reads the listener
 * addresses from `/listeners`. Envoy's log goes into a bounded in-memory tail. The process is
 * always stopped: by {@link EnvoyProcess.stop}, and otherwise when this Node process exits or is
 * interrupted (see cleanup.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bootstrap, writeBootstrap } from "./bootstrap-file.js";
import { ownChild } from "./cleanup.js";
import { EnvoyError } from "./errors.js";
import { type EnvoyBinary, findEnvoy } from "./locate.js";

/** Options of {@link EnvoyProcess.start}. */
export interface EnvoyStartOptions {
  /**
   * The bootstrap: an object (written as JSON) or YAML/JSON text. It must configure `admin`; an
   * object without one gets admin on 127.0.0.1 with a free port. Use port 0 for listeners and admin
   * so parallel runs never collide.
   */
  bootstrap: Bootstrap;
  /** Worker threads, each with its own Wasm VM (default 2). */
  concurrency?: number;
  /** The binary; default {@link findEnvoy}. */
  binary?: EnvoyBinary;
  /** Envoy's `-l` level (default `warning`). */
  logLevel?: string;
  /** Envoy's `--component-log-level`, e.g. `wasm:info` to see plugin logs (default `wasm:info`). */
  componentLogLevel?: string;
  /** How long to wait for `/ready` (default 30 s). */
  readyTimeoutMs?: number;
  /** How many log lines {@link EnvoyProcess.logs} keeps (default 2000). */
  logLines?: number;
  /**
   * Directory for the bootstrap and any files the caller places next to it (e.g. a dynamic
   * listener file). Default: a new temporary directory, removed on stop.
   */
  workDir?: string;
  /** Extra command-line arguments. */
  args?: string[];
}

/** A listener Envoy reports on its admin `/listeners` page. */
export interface EnvoyListener {
  name: string;
  /** `host:port` actually bound. */
  address: string;
}

/** How Envoy ended. */
export interface EnvoyExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A response from the admin interface. */
export interface AdminResponse {
  status: number;
  body: string;
}

/** GET (or POST) on `host:port` + `path`, loopback, 10 s timeout. */
export function httpText(address: string, path: string, method = "GET"): Promise<AdminResponse> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} on ${address} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i).replace(/^\[|\]$/g, ""), Number(address.slice(i + 1))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One running Envoy. Create with {@link EnvoyProcess.start}. */
export class EnvoyProcess {
  /** Resolves when Envoy has exited. */
  readonly exited: Promise<EnvoyExit>;
  private exit: EnvoyExit | undefined;
  private readonly tail: string[] = [];
  private partial = "";
  private readonly waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  private stopping: Promise<EnvoyExit> | undefined;
  private _adminAddress = "";
  private _listeners: EnvoyListener[] = [];

  private constructor(
    private readonly child: ChildProcess,
    /** The binary that runs. */
    readonly binary: EnvoyBinary,
    /** Where the bootstrap file lives. */
    readonly workDir: string,
    /** The bootstrap file Envoy was started with. */
    readonly configPath: string,
    private readonly ownsDir: boolean,
    private readonly maxLines: number,
    private readonly release: () => void,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        this.release();
        if (this.ownsDir) rmSync(this.workDir, { recursive: true, force: true });
        resolve(this.exit);
      });
    });
    for (const stream of [child.stdout, child.stderr]) stream?.on("data", (chunk: Buffer) => this.onOutput(chunk.toString("utf8")));
  }

  /**
   * Starts Envoy and resolves once it is ready (admin `/ready` answers 200) with its listener
   * addresses known.
   * @throws EnvoyError `E_ENVOY_MISSING` without a binary; `E_ENVOY_START` when Envoy exits or is
   *   not ready in time (the message ends with Envoy's last log line; {@link logs} has more).
   */
  static async start(options: EnvoyStartOptions): Promise<EnvoyProcess> {
    const binary = options.binary ?? findEnvoy();
    const ownsDir = !options.workDir;
    const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), "wayroute-envoy-"));
    let bootstrap = options.bootstrap;
    if (typeof bootstrap !== "string" && !bootstrap.admin) {
      bootstrap = { ...bootstrap, admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } } };
    }
    const configPath = writeBootstrap(workDir, bootstrap);
    const adminPath = join(workDir, "admin-address");
    rmSync(adminPath, { force: true });
    const args = [
      "-c", configPath,
      "--concurrency", String(options.concurrency ?? 2),
      "--admin-address-path", adminPath,
      // No shared memory for hot restart: any number of Envoys can run side by side.
      "--disable-hot-restart",
      "-l", options.logLevel ?? "warning",
      "--component-log-level", options.componentLogLevel ?? "wasm:info",
      ...(options.args ?? []),
    ];
    const child = spawn(binary.path, args, { stdio: ["ignore", "pipe", "pipe"] });
    const release = ownChild(child, ownsDir ? workDir : undefined);
    const envoy = new EnvoyProcess(child, binary, workDir, configPath, ownsDir, options.logLines ?? 2000, release);
    try {
      await envoy.waitReady(adminPath, options.readyTimeoutMs ?? 30_000);
    } catch (err) {
      await envoy.stop();
      throw err;
    }
    return envoy;
  }

  /** Process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** `host:port` of the admin interface. */
  get adminAddress(): string {
    return this._adminAddress;
  }

  /** Every active listener with its bound address, as Envoy reported it at start. */
  get listeners(): EnvoyListener[] {
    return this._listeners;
  }

  /** The bound `host:port` of the named listener (default: the first one). */
  listenerAddress(name?: string): string {
    const l = name === undefined ? this._listeners[0] : this._listeners.find((x) => x.name === name);
    if (!l) throw new EnvoyError("E_ENVOY_START", `Envoy has no listener${name ? ` named '${name}'` : ""} (listeners: ${this._listeners.map((x) => x.name).join(", ") || "none"})`);
    return l.address;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** The retained tail of Envoy's log, oldest first. */
  logs(): string[] {
    return [...this.tail];
  }

  /** The last `n` log lines as one string (for error messages). */
  lastLogLines(n = 20): string {
    return this.tail.slice(-n).join("\n");
  }

  /**
   * Resolves with the first log line (from now on, or already in the tail) matching `pattern`.
   * @throws after `timeoutMs`, quoting the last log lines.
   */
  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.tail.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { pattern, resolve: (line: string) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no Envoy log line matched ${pattern} within ${timeoutMs} ms; last lines:\n${this.lastLogLines(10)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** A request to the admin interface, e.g. `admin("/stats/prometheus")`. */
  admin(path: string, method = "GET"): Promise<AdminResponse> {
    return httpText(this._adminAddress, path, method);
  }

  /** One counter or gauge from `/stats?format=json&filter=^NAME$`; undefined when absent. */
  async stat(name: string): Promise<number | undefined> {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const r = await this.admin(`/stats?format=json&filter=${encodeURIComponent(`^${escaped}$`)}`);
    const stats = (JSON.parse(r.body) as { stats?: { name?: string; value?: number }[] }).stats ?? [];
    return stats.find((s) => s.name === name)?.value;
  }

  /** Envoy's heap as reported by admin `/memory` (`allocated` and `heap_size`, bytes). */
  async memory(): Promise<{ allocated: number; heapSize: number }> {
    const m = JSON.parse((await this.admin("/memory")).body) as { allocated: string; heap_size: string };
    return { allocated: Number(m.allocated), heapSize: Number(m.heap_size) };
  }

  /** Resident set size of the Envoy process in bytes (from /proc; undefined off Linux). */
  rssBytes(): number | undefined {
    const status = `/proc/${this.pid}/status`;
    if (!existsSync(status)) return undefined;
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(status, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  }

  /**
   * Stops Envoy: SIGTERM, then SIGKILL if it has not exited after `graceMs`. Idempotent; safe to
   * call from `afterAll` whether or not start succeeded.
   */
  stop(graceMs = 5_000): Promise<EnvoyExit> {
    if (this.exit) return Promise.resolve(this.exit);
    this.stopping ??= (async () => {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    })();
    return this.stopping;
  }

  private onOutput(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      this.tail.push(line);
      if (this.tail.length > this.maxLines) this.tail.shift();
      for (const w of this.waiters) {
        if (w.pattern.test(line)) {
          this.waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  }

  private async waitReady(adminPath: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const fail = (why: string) => new EnvoyError("E_ENVOY_START", `Envoy ${why}; last log line: ${this.tail.filter((l) => l.trim()).at(-1) ?? "(none)"}`);
    while (Date.now() < deadline) {
      if (this.exit) throw fail(`exited (code ${this.exit.code ?? this.exit.signal}) before it was ready`);
      if (!this._adminAddress && existsSync(adminPath)) this._adminAddress = readFileSync(adminPath, "utf8").trim();
      if (this._adminAddress) {
        const ready = await this.admin("/ready").catch(() => undefined);
        if (ready?.status === 200) {
          this._listeners = await this.readListeners();
          return;
        }
      }
      await sleep(50);
    }
    throw fail(`was not ready within ${timeoutMs} ms`);
  }

  private async readListeners(): Promise<EnvoyListener[]> {
    const r = await this.admin("/listeners?format=json");
    const statuses = (JSON.parse(r.body) as { listener_statuses?: { name: string; local_address?: { socket_address?: { address: string; port_value: number } } }[] }).listener_statuses ?? [];
    return statuses.flatMap((s) => {
      const sa = s.local_address?.socket_address;
      return sa ? [{ name: s.name, address: `${sa.address.includes(":") ? `[${sa.address}]` : sa.address}:${sa.port_value}` }] : [];
    });
  }
}
