// Request parsing and plain replies, following dockerd's httputils and
// api/types/filters and registry.DecodeAuthConfig.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BerthError, messageOf } from '../errors/index.js';
import type { Filters } from '../image/types.js';
import type { AuthConfig } from '../registry/types.js';

/** dockerd's httputils.BoolValue: anything but "", "0", "no", "false", "none" is true. */
export function boolValue(query: URLSearchParams, key: string): boolean {
  const s = (query.get(key) ?? '').trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

/**
 * The `filters` query parameter: a JSON object of key -> values, either
 * `{"dangling":["true"]}` or the legacy map form `{"dangling":{"true":true}}`.
 * Keys outside `allowed` are a 400 "invalid filter 'key'" as in dockerd.
 */
export function parseFilters(raw: string | null, allowed?: readonly string[]): Filters {
  const filters: Filters = {};
  if (raw === null || raw.trim() === '') return filters;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new BerthError('invalid_argument', `invalid filter: ${messageOf(err)}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BerthError('invalid_argument', 'invalid filter: filters must be a JSON object');
  }
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    let values: unknown[];
    if (Array.isArray(value)) values = value;
    else if (value !== null && typeof value === 'object') {
      // Legacy form: only the keys mapped to true count.
      values = Object.entries(value as Record<string, unknown>)
        .filter(([, on]) => on === true)
        .map(([k]) => k);
    } else throw new BerthError('invalid_argument', `invalid filter: bad value for '${key}'`);
    if (!values.every((v): v is string => typeof v === 'string')) {
      throw new BerthError('invalid_argument', `invalid filter: values of '${key}' must be strings`);
    }
    if (values.length === 0) continue;
    if (allowed && !allowed.includes(key)) throw new BerthError('invalid_argument', `invalid filter '${key}'`);
    filters[key] = values;
  }
  return filters;
}

interface WireAuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/**
 * Decode an X-Registry-Auth header: base64url of a JSON AuthConfig (standard
 * base64 and missing padding tolerated, like the clients that send them).
 * Undefined for an absent header or credentials that carry nothing.
 */
export function decodeRegistryAuth(header: string | string[] | undefined): AuthConfig | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  const json = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  let wire: WireAuthConfig;
  try {
    wire = JSON.parse(json) as WireAuthConfig;
  } catch (err) {
    throw new BerthError('invalid_argument', 'invalid X-Registry-Auth header: not base64url-encoded JSON', { cause: err });
  }
  if (wire === null || typeof wire !== 'object') {
    throw new BerthError('invalid_argument', 'invalid X-Registry-Auth header: not a JSON object');
  }
  return toAuthConfig(wire);
}

/** Normalise a wire AuthConfig (header or POST /auth body); `auth` is base64("user:pass"). */
export function toAuthConfig(wire: WireAuthConfig): AuthConfig | undefined {
  let { username, password } = wire;
  if (!username && !password && wire.auth) {
    const decoded = Buffer.from(wire.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  const auth: AuthConfig = {};
  if (username) auth.username = username;
  if (password) auth.password = password;
  if (wire.identitytoken) auth.identitytoken = wire.identitytoken;
  if (wire.registrytoken) auth.registrytoken = wire.registrytoken;
  if (wire.serveraddress) auth.serveraddress = wire.serveraddress;
  const carriesCredentials = auth.username || auth.password || auth.identitytoken || auth.registrytoken;
  return carriesCredentials ? auth : undefined;
}

const MAX_JSON_BODY = 1 << 20;

/** Read a JSON request body; 400 for an empty, oversized or malformed one. */
export async function readJson<T>(req: IncomingMessage): Promise<T> {
  const type = req.headers['content-type'];
  if (type && !/^application\/json\b/i.test(type.split(';')[0]?.trim() ?? '')) {
    throw new BerthError('invalid_argument', `unsupported Content-Type header (${type}): must be 'application/json'`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw new BerthError('invalid_argument', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new BerthError('invalid_argument', 'invalid JSON: request body is empty');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new BerthError('invalid_argument', `invalid JSON: ${messageOf(err)}`, { cause: err });
  }
}

/** A complete JSON reply (dockerd's WriteJSON: trailing newline). */
export function writeJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const MAX_UPGRADE_BODY = 64 * 1024;

/**
 * The JSON body of an upgrade request. Node hands an upgrade over before its
 * body is parsed: the bytes are on the socket, Content-Length of them.
 */
export async function readUpgradeBody(req: IncomingMessage): Promise<unknown> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > MAX_UPGRADE_BODY) throw new BerthError('invalid_argument', 'invalid Content-Length');
  if (length === 0) return {};
  const socket = req.socket;
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
    };
    const onData = (b: Buffer) => {
      chunks.push(b);
      got += b.length;
      if (got < length) return;
      cleanup();
      socket.pause();
      const all = Buffer.concat(chunks);
      if (all.length > length) socket.unshift(all.subarray(length)); // stdin that followed the body
      resolve(all.subarray(0, length));
    };
    const onEnd = () => {
      cleanup();
      reject(new BerthError('invalid_argument', 'request body ended early'));
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new BerthError('invalid_argument', `invalid JSON: ${(err as Error).message}`, { cause: err });
  }
}
