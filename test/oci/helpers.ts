/**
 * Test fixtures for the OCI suites: a tiny valid wasm module, real `docker-registry` instances on
 * 127.0.0.1 (anonymous or htpasswd basic auth), and a bearer-token front end (token service +
 * proxy demanding `Authorization: Bearer`) in front of a real registry.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REGISTRY_BIN = process.env.WAYROUTE_DOCKER_REGISTRY ?? "/usr/bin/docker-registry";

/** Whether a system tool exists; under CI=true a missing one is a failure, else a skip with a notice. */
export function requireTool(path: string, what: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === "true") throw new Error(`${what} (${path}) is required under CI=true; install it (see docs/packaging.md)`);
  process.stderr.write(`notice: skipping ${what} tests: ${path} not found\n`);
  return false;
}

/** Finds a tool on PATH. */
export function whichTool(name: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || `/usr/bin/${name}`;
  } catch {
    return `/usr/bin/${name}`;
  }
}

/**
 * A small valid module: one exported function `proxy_abi_version_0_2_1` (type () -> ()), plus a
 * custom section padding it to `pad` extra bytes so tests can make large blobs.
 */
export function tinyWasm(pad = 0, seed = 0): Buffer {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const typeSec = [0x01, 0x04, 0x01, 0x60, 0x00, 0x00];
  const funcSec = [0x03, 0x02, 0x01, 0x00];
  const name = Buffer.from("proxy_abi_version_0_2_1");
  const exportBody = [0x01, name.length, ...name, 0x00, 0x00];
  const exportSec = [0x07, exportBody.length, ...exportBody];
  const codeSec = [0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b];
  const parts = [Buffer.from([...header, ...typeSec, ...funcSec, ...exportSec, ...codeSec])];
  if (pad > 0 || seed > 0) {
    const cname = Buffer.from("pad");
    const payload = Buffer.alloc(pad + 4);
    payload.writeUInt32LE(seed, 0);
    for (let i = 4; i < payload.length; i++) payload[i] = (i * 131 + seed) & 0xff;
    const content = Buffer.concat([Buffer.from([cname.length]), cname, payload]);
    parts.push(Buffer.from([0x00]), leb128(content.length), content);
  }
  return Buffer.concat(parts);
}

function leb128(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough for tests). */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** Bcrypt htpasswd line via `htpasswd -Bbn` (apache2-utils). */
export function htpasswdLine(user: string, password: string): string {
  return execFileSync(whichTool("htpasswd"), ["-Bbn", user, password], { encoding: "utf8" }).trim();
}

/** Starts `docker-registry serve` on a free port; with `basicAuth`, behind htpasswd. */
export async function startRegistry(basicAuth?: { user: string; password: string }): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "wayroute-registry-"));
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const lines = [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString("hex")}`,
    ];
    if (basicAuth) {
      await writeFile(join(dir, "htpasswd"), htpasswdLine(basicAuth.user, basicAuth.password) + "\n");
      lines.push("auth:", "  htpasswd:", "    realm: wayroute-test", `    path: ${join(dir, "htpasswd")}`);
    }
    await writeFile(join(dir, "config.yml"), lines.join("\n") + "\n");
    const child = spawn(REGISTRY_BIN, ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    const up = await waitForRegistry(port, child);
    if (up) {
      return {
        host: `127.0.0.1:${port}`,
        port,
        async stop() {
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child);
    if (tries >= 2) throw new Error(`docker-registry did not start: ${stderr.slice(-500)}`);
  }
}

async function waitForRegistry(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await done;
}

/** A bearer-token front end: a token service and a proxy that demands its tokens. */
export interface TokenFrontEnd {
  /** `127.0.0.1:PORT` of the proxy (the "registry" clients talk to). */
  host: string;
  /** Origin of the token service (another port, so another origin than the proxy). */
  realmOrigin: string;
  /** Token requests received (service and scopes), for assertions. */
  tokenRequests: { service: string | null; scopes: string[]; user?: string }[];
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

/**
 * Starts a token service (GET /token with Basic `user:password` → `{"token": …}`; 401 otherwise)
 * and a proxy in front of `upstream` that answers 401 with
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=repository:<name>:pull[,push]` unless the
 * request carries a token granting that scope, then forwards it unchanged (Host kept, so the
 * registry's Location headers point back at the proxy).
 */
export async function startTokenFrontEnd(
  upstream: TestRegistry,
  user: string,
  password: string,
  opts: { anonymousPull?: boolean } = {},
): Promise<TokenFrontEnd> {
  const tokens = new Map<string, Set<string>>();
  const tokenRequests: TokenFrontEnd["tokenRequests"] = [];
  const tokenServer = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization ?? "";
    const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString() : "";
    const scopes = url.searchParams.getAll("scope");
    tokenRequests.push({ service: url.searchParams.get("service"), scopes, user: decoded.split(":")[0] || undefined });
    const anonymous = !auth && opts.anonymousPull === true;
    if (url.pathname !== "/token" || (!anonymous && decoded !== `${user}:${password}`)) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const token = randomBytes(12).toString("hex");
    // Like public registries: anonymous callers get the pull part of what they asked for.
    const granted = anonymous ? scopes.map((sc) => sc.replace(/:pull,push$/, ":pull")) : scopes;
    tokens.set(token, new Set(granted));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  const tokenPort = await listen(tokenServer);
  const proxy = createServer((req, res) => {
    const path = req.url ?? "/";
    const m = /^\/v2\/(.+?)\/(blobs|manifests|tags)\//.exec(path);
    const needed = m ? `repository:${m[1]}:${req.method === "GET" || req.method === "HEAD" ? "pull" : "pull,push"}` : undefined;
    const auth = req.headers.authorization ?? "";
    const granted = auth.startsWith("Bearer ") ? tokens.get(auth.slice(7)) : undefined;
    const ok = granted && (!needed || granted.has(needed) || (needed.endsWith(":pull") && [...granted].some((s) => s.startsWith(needed.slice(0, -4)))));
    if (!ok) {
      const scope = needed ? `,scope="${needed}"` : "";
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://127.0.0.1:${tokenPort}/token",service="wayroute-test"${scope}`,
          "content-type": "application/json",
        })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      req.resume();
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = httpRequest({ host: "127.0.0.1", port: upstream.port, method: req.method, path, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  const proxyPort = await listen(proxy);
  return {
    host: `127.0.0.1:${proxyPort}`,
    realmOrigin: `http://127.0.0.1:${tokenPort}`,
    tokenRequests,
    async stop() {
      await new Promise((r) => proxy.close(r));
      await new Promise((r) => tokenServer.close(r));
    },
  };
}

/** Runs the CLI in-process, capturing stdout/stderr. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import("../../src/cli/main.js");
  let stdout = "";
  let stderr = "";
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
