/**
 * Registry credentials: the environment (`WAYROUTE_REGISTRY_USERNAME` / `_PASSWORD`, for the one
 * registry named by `WAYROUTE_REGISTRY`) wins, then
 * the Docker client config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), where
 * `auths[<host>].auth` is base64 `user:password` (or `username` / `password` fields).
 * Credential helpers (`credsStore`, `credHelpers`) are not consulted.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { OciError } from "./errors.js";

/** A user name and password (or token used as password) for one registry. */
export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for error messages (never the secret itself). */
  source: string;
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

/** Path of the Docker client config file for `env`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker");
  return join(dir, "config.json");
}

function keyHost(key: string): string {
  const noScheme = key.replace(/^[a-z]+:\/\//i, "");
  return noScheme.split("/")[0].toLowerCase();
}

/** Finds `registry`'s entry in a Docker config's `auths`, accepting `host`, `https://host[/v2/]`. */
export function credentialsFromDockerConfig(config: unknown, registry: string, source: string): Credentials | undefined {
  const auths = (config as { auths?: Record<string, DockerAuthEntry> } | null)?.auths;
  if (!auths || typeof auths !== "object") return undefined;
  const want = registry.toLowerCase();
  const key = Object.keys(auths).find((k) => keyHost(k) === want);
  if (!key) return undefined;
  const entry = auths[key] ?? {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const sep = decoded.indexOf(":");
    if (sep < 0) throw new OciError("E_AUTH", `${source}: auths["${key}"].auth is not base64 of user:password`);
    return { username: decoded.slice(0, sep), password: decoded.slice(sep + 1), source };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password, source };
  return undefined;
}

/**
 * Resolves credentials for `registry` (`host[:port]`); undefined means anonymous. Environment
 * credentials belong to the registry `WAYROUTE_REGISTRY` names and are never offered to another
 * one: a reference to a different host falls back to the Docker config.
 */
export async function resolveCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const user = env.WAYROUTE_REGISTRY_USERNAME;
  const pass = env.WAYROUTE_REGISTRY_PASSWORD;
  if (user || pass) {
    if (!user || !pass) {
      throw new OciError("E_AUTH", "set both WAYROUTE_REGISTRY_USERNAME and WAYROUTE_REGISTRY_PASSWORD, or neither");
    }
    const owner = env.WAYROUTE_REGISTRY?.trim();
    if (!owner) {
      throw new OciError(
        "E_AUTH",
        "WAYROUTE_REGISTRY_USERNAME/_PASSWORD are set but WAYROUTE_REGISTRY does not name the registry they belong to; set WAYROUTE_REGISTRY=<host[:port]>",
      );
    }
    if (keyHost(owner) === registry.toLowerCase()) return { username: user, password: pass, source: "WAYROUTE_REGISTRY_USERNAME/_PASSWORD" };
  }
  const path = dockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new OciError("E_AUTH", `${path} is not valid JSON; fix or remove it`);
  }
  return credentialsFromDockerConfig(config, registry, path);
}
