/**
 * A small OCI distribution-spec client: blob HEAD, monolithic and chunked uploads, manifest
 * PUT/GET, blob GET; anonymous, basic and bearer-token auth (the registry token flow); retries
 * with exponential backoff on 5xx and connection errors. Plain HTTP is used only for loopback
 * registries or when `insecure` is set.
 */
import { type Digest, sha256Digest, verifyDigest } from "./digest.js";
import { OciError } from "./errors.js";
import type { Credentials } from "./credentials.js";
import * as mt from "./media-types.js";
import { isLoopbackRegistry } from "./reference.js";
import { parseChallenge } from "./www-authenticate.js";

/** Options of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Credentials, or undefined for anonymous access. */
  credentials?: Credentials;
  /** Allow plain HTTP to a non-loopback registry. */
  insecure?: boolean;
  /** Attempts per request on 5xx or connection errors (default 4). */
  attempts?: number;
  /** First backoff delay in ms, doubled per retry (default 200). */
  backoffMs?: number;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default 8 MiB). */
  chunkSize?: number;
  /** Per-request timeout in ms (default 60 s). */
  timeoutMs?: number;
  /** Progress lines for large blobs (the CLI writes them to stderr). */
  progress?: (line: string) => void;
}

/** A fetched manifest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

interface RequestInit {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Statuses that count as success; anything else becomes an error. */
  expect: number[];
  /** Retry on 5xx / connection errors. False for requests that change upload state. */
  retry?: boolean;
  /** What the request is for, in error messages. */
  what: string;
}

const MANIFEST_ACCEPT = [mt.OCI_MANIFEST, mt.DOCKER_MANIFEST_V2, mt.OCI_INDEX].join(", ");
const LARGE_BLOB = 1 << 20;

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One client per registry host; it caches the Authorization header it last earned. */
export class RegistryClient {
  readonly baseUrl: string;
  private authorization: string | undefined;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly chunkSize: number;
  private readonly timeoutMs: number;

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    const plain = isLoopbackRegistry(registry) || opts.insecure === true;
    this.baseUrl = `${plain ? "http" : "https"}://${registry}`;
    this.attempts = Math.max(1, opts.attempts ?? 4);
    this.backoffMs = opts.backoffMs ?? 200;
    this.chunkSize = Math.max(1, opts.chunkSize ?? 8 << 20);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** True when the registry already has `digest` in `repository`. */
  async blobExists(repository: string, digest: Digest): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, { expect: [200, 404], what: `blob ${digest}` });
    return res.status === 200;
  }

  /**
   * Uploads a blob unless it is already there. Returns true when bytes were sent. Blobs up to
   * `chunkSize` go in one PUT; larger ones in PATCH chunks then a closing PUT. A failed upload
   * is restarted from a fresh session (an upload's server-side offset is not trusted after an error).
   */
  async pushBlob(repository: string, data: Buffer, digest: Digest = sha256Digest(data)): Promise<boolean> {
    if (await this.blobExists(repository, digest)) return false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.uploadOnce(repository, data, digest);
        return true;
      } catch (err) {
        const transient = err instanceof OciError && (err.code === "E_UNREACHABLE" || (err.code === "E_REGISTRY" && /HTTP 5\d\d/.test(err.message)));
        if (!transient || attempt >= this.attempts) throw err;
        await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  private async uploadOnce(repository: string, data: Buffer, digest: Digest): Promise<void> {
    const large = data.length >= LARGE_BLOB;
    const start = await this.request("POST", `/v2/${repository}/blobs/uploads/`, {
      expect: [202],
      headers: { "content-length": "0" },
      what: `upload session for ${digest}`,
    });
    let location = this.location(start, `upload session for ${digest}`);
    if (data.length > this.chunkSize) {
      for (let off = 0; off < data.length; off += this.chunkSize) {
        const chunk = data.subarray(off, Math.min(off + this.chunkSize, data.length));
        const res = await this.request("PATCH", location, {
          expect: [202],
          retry: false,
          headers: {
            "content-type": "application/octet-stream",
            "content-range": `${off}-${off + chunk.length - 1}`,
            "content-length": String(chunk.length),
          },
          body: chunk,
          what: `chunk ${off}-${off + chunk.length - 1} of ${digest}`,
        });
        location = this.location(res, `chunk of ${digest}`);
        if (large) this.opts.progress?.(`pushing ${digest.slice(0, 19)}… ${mib(off + chunk.length)} / ${mib(data.length)}`);
      }
      await this.request("PUT", withDigest(location, digest), {
        expect: [201],
        retry: false,
        headers: { "content-length": "0" },
        what: `closing upload of ${digest}`,
      });
    } else {
      if (large) this.opts.progress?.(`pushing ${digest.slice(0, 19)}… ${mib(data.length)}`);
      await this.request("PUT", withDigest(location, digest), {
        expect: [201],
        retry: false,
        headers: { "content-type": "application/octet-stream", "content-length": String(data.length) },
        body: data,
        what: `upload of ${digest}`,
      });
    }
  }

  /** PUTs a manifest under `reference` (a tag or its digest); returns the registry's digest for it. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const res = await this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
      expect: [201],
      headers: { "content-type": mediaType },
      body: bytes,
      what: `manifest ${repository}:${reference}`,
    });
    const local = sha256Digest(bytes);
    const remote = res.headers.get("docker-content-digest");
    if (remote && remote !== local) {
      throw new OciError("E_DIGEST_MISMATCH", `registry stored manifest as ${remote}, expected ${local}`);
    }
    return local;
  }

  /** GETs a manifest by tag or digest and verifies it against the digest asked for or reported. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      expect: [200],
      headers: { accept: MANIFEST_ACCEPT },
      what: `manifest ${repository}:${reference}`,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const expected = reference.startsWith("sha256:") ? reference : res.headers.get("docker-content-digest");
    if (expected) verifyDigest(bytes, expected, `manifest ${repository}@${expected}`);
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    return { bytes, mediaType, digest: sha256Digest(bytes) };
  }

  /** GETs a blob and verifies its digest. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.request("GET", `/v2/${repository}/blobs/${digest}`, { expect: [200], what: `blob ${digest}` });
    const bytes = Buffer.from(await res.arrayBuffer());
    verifyDigest(bytes, digest, `blob ${digest} of ${repository}`);
    return bytes;
  }

  private location(res: Response, what: string): string {
    const loc = res.headers.get("location");
    if (!loc) throw new OciError("E_REGISTRY", `registry ${this.registry} sent no Location for ${what}`);
    return new URL(loc, this.baseUrl + "/").toString();
  }

  /** Sends one request with auth negotiation and retries; resolves only on an `expect`ed status. */
  private async request(method: string, pathOrUrl: string, init: RequestInit): Promise<Response> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : this.baseUrl + pathOrUrl;
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { "user-agent": "wayroute", ...init.headers };
      if (this.authorization) headers.authorization = this.authorization;
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body: init.body as Uint8Array<ArrayBuffer> | undefined, redirect: "follow", signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        if (init.retry !== false && attempt < this.attempts) {
          await sleep(this.backoffMs * 2 ** (attempt - 1));
          continue;
        }
        throw this.unreachable(err);
      }
      if (res.status === 401 && !authRetried) {
        await res.arrayBuffer().catch(() => undefined);
        await this.authenticate(res.headers.get("www-authenticate"), init.what);
        authRetried = true;
        attempt--; // an auth round trip is not a failed attempt
        continue;
      }
      if (init.expect.includes(res.status)) {
        // Only GET bodies are read by callers; drain the rest so the connection can be reused.
        if (method !== "GET" && method !== "HEAD") await res.arrayBuffer().catch(() => undefined);
        return res;
      }
      const body = method === "HEAD" ? "" : await res.text().catch(() => "");
      if (res.status >= 500 && init.retry !== false && attempt < this.attempts) {
        await sleep(this.backoffMs * 2 ** (attempt - 1));
        continue;
      }
      throw this.httpError(res.status, body, init.what);
    }
  }

  private unreachable(err: unknown): OciError {
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
    return new OciError("E_UNREACHABLE", `cannot reach registry ${this.registry} at ${this.baseUrl} (${why}); check the address and that the registry is running`);
  }

  private httpError(status: number, body: string, what: string): OciError {
    let detail = "";
    try {
      const errors = (JSON.parse(body) as { errors?: { code?: string; message?: string }[] }).errors;
      if (errors?.length) detail = `: ${errors.map((e) => [e.code, e.message].filter(Boolean).join(" ")).join("; ")}`;
    } catch {
      /* not a distribution error body */
    }
    if (status === 401 || status === 403) {
      const who = this.opts.credentials ? `credentials from ${this.opts.credentials.source} were rejected` : "anonymous access was refused";
      return new OciError("E_AUTH", `registry ${this.registry} denied ${what} (HTTP ${status}): ${who}; check the user name and password`);
    }
    if (status === 404) return new OciError("E_NOT_FOUND", `registry ${this.registry} has no ${what} (HTTP 404${detail})`);
    return new OciError("E_REGISTRY", `registry ${this.registry} failed ${what}: HTTP ${status}${detail}`);
  }

  /** Answers a 401 challenge: Basic with the credentials, or Bearer via the token endpoint. */
  private async authenticate(header: string | null, what: string): Promise<void> {
    const challenge = parseChallenge(header);
    const creds = this.opts.credentials;
    if (!challenge || challenge.scheme === "basic") {
      if (!creds) {
        throw new OciError("E_AUTH", `registry ${this.registry} requires credentials for ${what}; set WAYROUTE_REGISTRY_USERNAME/_PASSWORD or log in with docker`);
      }
      this.authorization = basic(creds);
      return;
    }
    if (challenge.scheme !== "bearer") {
      throw new OciError("E_AUTH", `registry ${this.registry} asks for unsupported auth scheme '${challenge.scheme}'`);
    }
    const realm = challenge.params.realm;
    if (!realm) throw new OciError("E_AUTH", `registry ${this.registry} sent a Bearer challenge without a realm`);
    const tokenUrl = new URL(realm);
    if (tokenUrl.protocol === "http:" && !this.opts.insecure && !isLoopbackRegistry(tokenUrl.host)) {
      throw new OciError("E_AUTH", `token service ${realm} is plain HTTP; refusing to send credentials (use --insecure to allow)`);
    }
    if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
    for (const scope of (challenge.params.scope ?? "").split(" ").filter(Boolean)) tokenUrl.searchParams.append("scope", scope);
    let res: Response;
    try {
      res = await fetch(tokenUrl, {
        headers: { "user-agent": "wayroute", ...(creds ? { authorization: basic(creds) } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as Error).message;
      throw new OciError("E_UNREACHABLE", `cannot reach token service ${tokenUrl.origin} (${cause})`);
    }
    if (res.status === 401 || res.status === 403) {
      const who = creds ? `rejected the credentials from ${creds.source}` : "requires credentials; set WAYROUTE_REGISTRY_USERNAME/_PASSWORD or log in with docker";
      throw new OciError("E_AUTH", `token service ${tokenUrl.origin} ${who} (HTTP ${res.status})`);
    }
    if (res.status !== 200) throw new OciError("E_AUTH", `token service ${tokenUrl.origin} failed: HTTP ${res.status}`);
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new OciError("E_AUTH", `token service ${tokenUrl.origin} returned no token`);
    this.authorization = `Bearer ${token}`;
  }
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

function withDigest(location: string, digest: Digest): string {
  const u = new URL(location);
  u.searchParams.set("digest", digest);
  return u.toString();
}
