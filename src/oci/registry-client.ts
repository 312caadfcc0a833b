/**
 * A small OCI distribution-spec client: blob HEAD, monolithic and chunked uploads, manifest
 * PUT/GET, blob GET; anonymous, basic and bearer-token auth (the registry token flow); retries
 * with exponential backoff on 5xx and connection errors. Plain HTTP is used only for loopback
 * registries or when `insecure` is set.
 *
 * Credential and size rules (docs/packaging.md, "Credentials and size limits"):
 * - HTTPS is never downgraded: a Location or redirect to plain HTTP from an HTTPS registry fails;
 * - the Authorization the client earned goes only to the registry's own origin; an upload
 *   Location or a redirect to another origin is followed without it;
 * - Basic credentials go to a Bearer token realm only when it is the registry's origin or the
 *   caller trusts that realm (`trustedTokenRealms`);
 * - manifests are read up to `maxManifestBytes`, blobs up to their descriptor's size (itself at
 *   most `maxBlobBytes`), streaming and aborting as soon as a body runs over.
 */
import { type Digest, sha256Digest, verifyDigest } from "./digest.js";
import { OciError } from "./errors.js";
import type { Credentials } from "./credentials.js";
import { discard, headerValue, type HttpResponse, readCapped, readSomeText, send } from "./http.js";
import * as mt from "./media-types.js";
import { isLoopbackRegistry } from "./reference.js";
import { escapeControl } from "./terminal-text.js";
import { parseChallenge } from "./www-authenticate.js";

/** Default cap on a manifest's size: real Wasm image manifests are a few hundred bytes. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 << 20;
/** Default cap on one blob (a plugin module, its layer or config). */
export const DEFAULT_MAX_BLOB_BYTES = 256 << 20;

/** Options of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Credentials, or undefined for anonymous access. */
  credentials?: Credentials;
  /** Allow plain HTTP to a non-loopback registry. */
  insecure?: boolean;
  /** Force the scheme (default: HTTP for loopback registries or `insecure`, else HTTPS). */
  plainHttp?: boolean;
  /**
   * CA certificates (PEM) trusted for HTTPS instead of the default roots (a private registry); to
   * add a CA next to the system ones, set NODE_EXTRA_CA_CERTS. Verification is never turned off.
   */
  ca?: string | Buffer;
  /** Token realm origins (`https://auth.example`) that may receive the Basic credentials. */
  trustedTokenRealms?: string[];
  /** Largest manifest read (default 4 MiB). */
  maxManifestBytes?: number;
  /** Largest blob read (default 256 MiB); each blob is also held to its descriptor's size. */
  maxBlobBytes?: number;
  /** Attempts per request on 5xx or connection errors (default 4). */
  attempts?: number;
  /** First backoff delay in ms, doubled per retry (default 200). */
  backoffMs?: number;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default 8 MiB). */
  chunkSize?: number;
  /** Per-request idle timeout in ms (default 60 s). */
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
const MAX_REDIRECTS = 5;
const MAX_TOKEN_RESPONSE = 1 << 20;

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One client per registry host; it caches the Authorization header it last earned, for that origin only. */
export class RegistryClient {
  readonly baseUrl: string;
  /** `scheme://host[:port]` of the registry: the only origin that gets our Authorization. */
  readonly origin: string;
  private authorization: string | undefined;
  /** A token realm the credentials were withheld from, for the hint in auth errors. */
  private withheldFrom: string | undefined;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly chunkSize: number;
  private readonly timeoutMs: number;
  readonly maxManifestBytes: number;
  readonly maxBlobBytes: number;

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    const plain = opts.plainHttp ?? (isLoopbackRegistry(registry) || opts.insecure === true);
    this.baseUrl = `${plain ? "http" : "https"}://${registry}`;
    this.origin = new URL(this.baseUrl).origin;
    this.attempts = Math.max(1, opts.attempts ?? 4);
    this.backoffMs = opts.backoffMs ?? 200;
    this.chunkSize = Math.max(1, opts.chunkSize ?? 8 << 20);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxManifestBytes = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.maxBlobBytes = opts.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  }

  /** True when the registry already has `digest` in `repository`. */
  async blobExists(repository: string, digest: Digest): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, { expect: [200, 404], what: `blob ${digest}` });
    discard(res);
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
      headers: { "content-type": mediaType, "content-length": String(bytes.length) },
      body: bytes,
      what: `manifest ${repository}:${reference}`,
    });
    const local = sha256Digest(bytes);
    const remote = headerValue(res, "docker-content-digest");
    if (remote && remote !== local) {
      throw new OciError("E_DIGEST_MISMATCH", `registry stored manifest as ${escapeControl(remote)}, expected ${local}`);
    }
    return local;
  }

  /** GETs a manifest by tag or digest (at most `maxManifestBytes`) and verifies it against the digest asked for or reported. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      expect: [200],
      headers: { accept: MANIFEST_ACCEPT },
      what: `manifest ${repository}:${reference}`,
    });
    const bytes = await readCapped(res, this.maxManifestBytes, `manifest ${repository}:${reference} from ${this.registry}`);
    const expected = reference.startsWith("sha256:") ? reference : headerValue(res, "docker-content-digest");
    if (expected) verifyDigest(bytes, expected, `manifest ${repository}@${escapeControl(expected)}`);
    const mediaType = (headerValue(res, "content-type") ?? "").split(";")[0]!.trim();
    return { bytes, mediaType, digest: sha256Digest(bytes) };
  }

  /**
   * GETs a blob and verifies its digest. With `size` (the descriptor's), the blob must be
   * exactly that long and no more is read; without it, at most `maxBlobBytes`.
   */
  async getBlob(repository: string, digest: string, size?: number): Promise<Buffer> {
    const what = `blob ${digest} of ${repository}`;
    if (size !== undefined) checkDescriptorSize(size, this.maxBlobBytes, what);
    const res = await this.request("GET", `/v2/${repository}/blobs/${digest}`, { expect: [200], what: `blob ${digest}` });
    const bytes = await readCapped(res, size ?? this.maxBlobBytes, `${what} from ${this.registry}`);
    if (size !== undefined && bytes.length !== size) {
      throw new OciError("E_BAD_IMAGE", `${what} is ${bytes.length} bytes but its descriptor says ${size}`);
    }
    verifyDigest(bytes, digest, what);
    return bytes;
  }

  /** An upload Location, resolved against the URL that sent it; never a downgrade to HTTP. */
  private location(res: HttpResponse, what: string): string {
    const loc = headerValue(res, "location");
    if (!loc) throw new OciError("E_REGISTRY", `registry ${this.registry} sent no Location for ${what}`);
    let url: URL;
    try {
      url = new URL(loc, res.url);
    } catch {
      throw new OciError("E_REGISTRY", `registry ${this.registry} sent an invalid Location for ${what}: ${escapeControl(loc)}`);
    }
    this.checkTarget(url, `the Location for ${what}`);
    return url.toString();
  }

  /** Refuses a scheme other than HTTP(S) and any step down from HTTPS to plain HTTP. */
  private checkTarget(url: URL, what: string): void {
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new OciError("E_REGISTRY", `registry ${this.registry} pointed ${what} at an unsupported scheme (${escapeControl(url.protocol)})`);
    }
    if (url.protocol === "http:" && this.baseUrl.startsWith("https:")) {
      throw new OciError("E_INSECURE", `registry ${this.registry} pointed ${what} at plain HTTP (${escapeControl(url.origin)}); refusing to downgrade from HTTPS`);
    }
  }

  /**
   * Sends one request with auth negotiation, checked redirects (GET and HEAD only) and retries;
   * resolves only on an `expect`ed status, with the body unread.
   */
  private async request(method: string, pathOrUrl: string, init: RequestInit): Promise<HttpResponse> {
    const first = new URL(pathOrUrl.startsWith("/") ? this.baseUrl + pathOrUrl : pathOrUrl);
    let url = first;
    let authRetried = false;
    let redirects = 0;
    for (let attempt = 1; ; attempt++) {
      this.checkTarget(url, init.what);
      const sameOrigin = url.origin === this.origin;
      const headers: Record<string, string> = { "user-agent": "wayroute", ...init.headers };
      if (this.authorization && sameOrigin) headers.authorization = this.authorization;
      let res: HttpResponse;
      try {
        res = await send(url, { method, headers, body: init.body, timeoutMs: this.timeoutMs, ca: this.opts.ca });
      } catch (err) {
        if (init.retry !== false && attempt < this.attempts) {
          await sleep(this.backoffMs * 2 ** (attempt - 1));
          continue;
        }
        throw this.unreachable(err);
      }
      if (res.status === 401 && !authRetried) {
        discard(res);
        if (!sameOrigin) {
          throw new OciError("E_AUTH", `${escapeControl(url.origin)} asked for credentials for ${init.what}; they are sent only to the registry ${this.origin}`);
        }
        await this.authenticate(headerValue(res, "www-authenticate") ?? null, init.what);
        authRetried = true;
        attempt--; // an auth round trip is not a failed attempt
        continue;
      }
      if ((method === "GET" || method === "HEAD") && [301, 302, 303, 307, 308].includes(res.status) && !init.expect.includes(res.status)) {
        discard(res);
        const loc = headerValue(res, "location");
        if (!loc || ++redirects > MAX_REDIRECTS) throw new OciError("E_REGISTRY", `registry ${this.registry} redirected ${init.what} ${loc ? "too many times" : "without a Location"}`);
        url = new URL(loc, url);
        attempt--;
        continue;
      }
      if (init.expect.includes(res.status)) {
        // Only GET bodies are read by callers; drain the rest so the connection can be reused.
        if (method !== "GET") discard(res);
        return res;
      }
      const body = method === "HEAD" ? "" : await readSomeText(res);
      if (res.status >= 500 && init.retry !== false && attempt < this.attempts) {
        await sleep(this.backoffMs * 2 ** (attempt - 1));
        continue;
      }
      throw this.httpError(res.status, body, init.what);
    }
  }

  private unreachable(err: unknown): OciError {
    const e = err as NodeJS.ErrnoException & { cause?: { code?: string; message?: string } };
    const why = e?.code ?? e?.cause?.code ?? e?.message ?? String(err);
    return new OciError("E_UNREACHABLE", `cannot reach registry ${this.registry} at ${this.baseUrl} (${escapeControl(why)}); check the address and that the registry is running`);
  }

  private httpError(status: number, body: string, what: string): OciError {
    let detail = "";
    try {
      const errors = (JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] }).errors;
      if (Array.isArray(errors) && errors.length) {
        const parts = errors.slice(0, 5).map((e) => [e?.code, e?.message].filter((x) => typeof x === "string" && x).join(" "));
        detail = `: ${escapeControl(parts.join("; ").slice(0, 500))}`;
      }
    } catch {
      /* not a distribution error body */
    }
    if (status === 401 || status === 403) {
      const who = this.opts.credentials ? `credentials from ${this.opts.credentials.source} were rejected` : "anonymous access was refused";
      return new OciError("E_AUTH", `registry ${this.registry} denied ${what} (HTTP ${status}): ${who}; check the user name and password${this.realmHint()}`);
    }
    if (status === 404) return new OciError("E_NOT_FOUND", `registry ${this.registry} has no ${what} (HTTP 404${detail})`);
    return new OciError("E_REGISTRY", `registry ${this.registry} failed ${what}: HTTP ${status}${detail}`);
  }

  private realmHint(): string {
    if (!this.withheldFrom) return "";
    return ` (the credentials were not sent to the token service ${this.withheldFrom}, another origin than the registry; trust it with WAYROUTE_REGISTRY_TOKEN_REALM=${this.withheldFrom})`;
  }

  /** Answers a 401 challenge: Basic with the credentials, or Bearer via the token endpoint. */
  private async authenticate(header: string | null, what: string): Promise<void> {
    const challenge = parseChallenge(header);
    const creds = this.opts.credentials;
    if (!challenge || challenge.scheme === "basic") {
      if (!creds) {
        throw new OciError("E_AUTH", `registry ${this.registry} requires credentials for ${what}; set WAYROUTE_REGISTRY, WAYROUTE_REGISTRY_USERNAME and _PASSWORD, or log in with docker`);
      }
      this.authorization = basic(creds);
      return;
    }
    if (challenge.scheme !== "bearer") {
      throw new OciError("E_AUTH", `registry ${this.registry} asks for unsupported auth scheme '${escapeControl(challenge.scheme)}'`);
    }
    const realm = challenge.params.realm;
    if (!realm) throw new OciError("E_AUTH", `registry ${this.registry} sent a Bearer challenge without a realm`);
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch {
      throw new OciError("E_AUTH", `registry ${this.registry} sent a Bearer realm that is not a URL: ${escapeControl(realm)}`);
    }
    if (tokenUrl.protocol !== "https:" && tokenUrl.protocol !== "http:") {
      throw new OciError("E_AUTH", `registry ${this.registry} sent a Bearer realm with an unsupported scheme (${escapeControl(tokenUrl.protocol)})`);
    }
    if (tokenUrl.protocol === "http:" && !this.opts.insecure && !isLoopbackRegistry(tokenUrl.host)) {
      throw new OciError("E_AUTH", `token service ${escapeControl(realm)} is plain HTTP; refusing to send credentials (use --insecure to allow)`);
    }
    if (tokenUrl.protocol === "http:" && this.baseUrl.startsWith("https:")) {
      throw new OciError("E_INSECURE", `registry ${this.registry} sent a plain-HTTP token realm (${escapeControl(tokenUrl.origin)}); refusing to downgrade from HTTPS`);
    }
    // The Basic credentials belong to the registry: a realm on another origin gets them only when trusted.
    const trusted = tokenUrl.origin === this.origin || (this.opts.trustedTokenRealms ?? []).some((o) => sameOrigin(o, tokenUrl));
    const sendCreds = creds !== undefined && trusted;
    this.withheldFrom = creds !== undefined && !trusted ? tokenUrl.origin : undefined;
    if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
    for (const scope of (challenge.params.scope ?? "").split(" ").filter(Boolean)) tokenUrl.searchParams.append("scope", scope);
    const origin = escapeControl(tokenUrl.origin);
    let res: HttpResponse;
    try {
      res = await send(tokenUrl, {
        method: "GET",
        headers: { "user-agent": "wayroute", ...(sendCreds ? { authorization: basic(creds) } : {}) },
        timeoutMs: this.timeoutMs,
        ca: this.opts.ca,
      });
    } catch (err) {
      const cause = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new OciError("E_UNREACHABLE", `cannot reach token service ${origin} (${escapeControl(cause)})`);
    }
    if (res.status === 401 || res.status === 403) {
      discard(res);
      const who = sendCreds ? `rejected the credentials from ${creds.source}` : "requires credentials; set WAYROUTE_REGISTRY, WAYROUTE_REGISTRY_USERNAME and _PASSWORD, or log in with docker";
      throw new OciError("E_AUTH", `token service ${origin} ${who} (HTTP ${res.status})${this.realmHint()}`);
    }
    if (res.status !== 200) {
      discard(res);
      throw new OciError("E_AUTH", `token service ${origin} failed: HTTP ${res.status}`);
    }
    let body: { token?: unknown; access_token?: unknown } = {};
    try {
      body = JSON.parse((await readCapped(res, MAX_TOKEN_RESPONSE, `token response from ${origin}`)).toString("utf8")) ?? {};
    } catch (err) {
      if (err instanceof OciError && err.code === "E_TOO_LARGE") throw err;
    }
    const token = body.token ?? body.access_token;
    if (typeof token !== "string" || !token || /[\r\n]/.test(token)) throw new OciError("E_AUTH", `token service ${origin} returned no token`);
    this.authorization = `Bearer ${token}`;
  }
}

/** Throws unless a descriptor's `size` is a non-negative integer within `max`. */
export function checkDescriptorSize(size: unknown, max: number, what: string): void {
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new OciError("E_BAD_IMAGE", `${what} has an invalid size in its descriptor (${escapeControl(String(size))})`);
  }
  if (size > max) throw new OciError("E_TOO_LARGE", `${what} is ${size} bytes, over the ${max} bytes allowed`);
}

function sameOrigin(trusted: string, url: URL): boolean {
  try {
    return new URL(trusted).origin === url.origin;
  } catch {
    return false;
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
