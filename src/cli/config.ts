// The client config directory (~/.berth by default) and its config.json,
// in docker's format: { "auths": { "<server>": { "auth": base64(user:pass) } }, ... }.
// Keys we don't know are kept; the file is replaced atomically, mode 0600.
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** docker's key for Docker Hub credentials. */
export const DEFAULT_INDEX_SERVER = 'https://index.docker.io/v1/';
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [key: string]: unknown;
}

export interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  [key: string]: unknown;
}

export interface Credentials {
  username: string;
  password: string;
  serveraddress: string;
  identitytoken?: string;
}

/** --config, else $BERTH_CONFIG, else ~/.berth. */
export function configDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_CONFIG || join(homedir(), '.berth');
}

export const configPath = (dir: string): string => join(dir, 'config.json');

export async function loadConfig(dir: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(configPath(dir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if (!text.trim()) return {};
  const parsed = JSON.parse(text) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${configPath(dir)}: not a JSON object`);
  return parsed as ConfigFile;
}

export async function saveConfig(dir: string, config: ConfigFile): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Loaded here, not at start-up: only login/logout write the file.
  const { writeFileAtomic } = await import('../util/atomic.js');
  await writeFileAtomic(configPath(dir), JSON.stringify(config, null, '\t') + '\n', 0o600);
}

/** The config.json key for a server: Docker Hub's index URL, else the bare host[:port]. */
export function serverKey(server: string | undefined): string {
  if (!server) return DEFAULT_INDEX_SERVER;
  const host = server.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (HUB_HOSTS.has(host)) return DEFAULT_INDEX_SERVER;
  return host;
}

/** Stored credentials for a registry host (as a reference's domain names it). */
export function credentialsFor(config: ConfigFile, registryHost: string): Credentials | undefined {
  const key = serverKey(registryHost);
  const auths = config.auths ?? {};
  const entry =
    auths[key] ??
    Object.entries(auths).find(([k]) => serverKey(k) === key)?.[1];
  if (!entry) return undefined;
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  const creds: Credentials = { username, password, serveraddress: key };
  if (entry.identitytoken) creds.identitytoken = entry.identitytoken;
  return creds;
}

/** X-Registry-Auth: base64url of the JSON AuthConfig, as docker's client sends it. */
export function encodeAuthHeader(creds: Credentials): string {
  return Buffer.from(JSON.stringify(creds)).toString('base64url');
}

export async function storeCredentials(dir: string, server: string, username: string, password: string): Promise<void> {
  const config = await loadConfig(dir);
  config.auths = { ...(config.auths ?? {}) };
  config.auths[serverKey(server)] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  await saveConfig(dir, config);
}

/** Removes a server's entry; false when there was none. */
export async function removeCredentials(dir: string, server: string): Promise<boolean> {
  const config = await loadConfig(dir);
  const key = serverKey(server);
  if (!config.auths || !(key in config.auths)) return false;
  const { [key]: _removed, ...rest } = config.auths;
  config.auths = rest;
  await saveConfig(dir, config);
  return true;
}
