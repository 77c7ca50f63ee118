// A Distribution API v2 / OCI distribution client over Node's global fetch:
// endpoint and scheme choice, the Basic and Bearer token dances, verified
// manifest fetches and blob streams that never leak credentials to blob
// storage on another host.
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BerthError } from '../errors/index.js';
import { familiarName, familiarString, DEFAULT_TAG } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { isDigest, sha256, Singleflight, type Digest } from '../util/index.js';
import {
  describeRegistryErrors,
  endpointFor,
  normalizeServerAddress,
  parseWwwAuthenticate,
  registryError,
  type Challenge,
} from './auth.js';
import { sniffManifestMediaType } from './manifest.js';
import {
  MediaType,
  type AuthConfig,
  type BlobSource,
  type BlobStream,
  type FetchedManifest,
  type PushBlobOptions,
  type PushBlobResult,
  type RegistryClient,
  type RegistryClientOptions,
} from './types.js';

/** containerd's limit on manifest size: bigger answers are refused unread. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** docker's minimum token lifetime when a token server says less or nothing. */
const MIN_TOKEN_LIFETIME_S = 60;
/** Refresh a little before expiry so a token does not die in flight. */
const TOKEN_EXPIRY_MARGIN_MS = 5_000;
const MAX_REDIRECTS = 10;
const CLIENT_ID = 'berth';
const ERROR_BODY_LIMIT = 64 * 1024;
/** Blobs larger than this go up in PATCH chunks of this size; smaller ones in one PUT. */
export const DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024;

/** Accepted manifest types, in docker's order. */
const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest].join(', ');

export interface ExtendedRegistryClientOptions extends RegistryClientOptions {
  /** For tests: override the fetch used (defaults to the global fetch). */
  fetch?: typeof fetch;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

interface TokenResponse {
  token?: unknown;
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  issued_at?: unknown;
}

/** What a request needs to authenticate: where, for which scopes, as whom. */
interface AuthContext {
  domain: string;
  scopes: string[];
  auth: AuthConfig | undefined;
  signal: AbortSignal | undefined;
  /** login asks the token server for a refresh token (identity token). */
  wantIdentityToken?: boolean;
}

function hasCredentials(auth: AuthConfig | undefined): boolean {
  return !!auth && (!!auth.identitytoken || !!auth.registrytoken || (!!auth.username && auth.password !== undefined));
}

function basicHeader(auth: AuthConfig): string {
  return `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`;
}

/** Distinguishes cache entries per identity without keeping secrets as keys. */
function identityKey(auth: AuthConfig | undefined): string {
  if (!hasCredentials(auth)) return 'anonymous';
  return sha256(JSON.stringify([auth?.username ?? '', auth?.password ?? '', auth?.identitytoken ?? '', auth?.registrytoken ?? '']));
}

async function readText(res: Response, limit = ERROR_BODY_LIMIT): Promise<string> {
  if (!res.body) return '';
  try {
    const bytes = await readLimited(res, limit, true);
    return bytes.toString('utf8');
  } catch {
    return '';
  }
}

/** Read a body up to `limit` bytes; beyond it throw, or truncate when `truncate`. */
async function readLimited(res: Response, limit: number, truncate = false): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        if (truncate) {
          chunks.push(Buffer.from(value.subarray(0, value.byteLength - (total - limit))));
          break;
        }
        throw new BerthError('invalid_argument', `manifest too large: more than ${limit} bytes`);
      }
      chunks.push(Buffer.from(value));
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks);
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/** Go-style text for common socket errors, so messages read like docker's. */
function describeNetworkError(err: unknown, url: URL): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  const hostPort = url.host;
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${hostPort}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${url.hostname}: no such host`;
    case 'ECONNRESET':
      return `read tcp ${hostPort}: connection reset by peer`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `dial tcp ${hostPort}: i/o timeout`;
    default:
      return cause?.message ?? (err instanceof Error ? err.message : String(err));
  }
}

class Client implements RegistryClient {
  readonly #insecure: readonly string[];
  readonly #userAgent: string;
  readonly #fetch: typeof fetch;
  /** (domain, identity, scopes) -> bearer token. */
  readonly #tokens = new Map<string, CachedToken>();
  /** domain -> the challenge it last answered with, so later requests authenticate up front. */
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokenFlights = new Singleflight<{ token: string; expiresAt: number; refreshToken?: string }>();

  constructor(opts: ExtendedRegistryClientOptions) {
    this.#insecure = [...opts.insecureRegistries];
    this.#userAgent = opts.userAgent ?? 'berth';
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  async getManifest(ref: Reference, auth?: AuthConfig, signal?: AbortSignal): Promise<FetchedManifest> {
    const selector = ref.digest ?? ref.tag ?? DEFAULT_TAG;
    const url = this.#url(ref.domain, `/v2/${ref.path}/manifests/${selector}`);
    const res = await this.#authorizedFetch(
      url,
      { headers: { accept: MANIFEST_ACCEPT } },
      { domain: ref.domain, scopes: [pullScope(ref.path)], auth, signal },
    );
    if (!res.ok) {
      throw manifestError(res.status, await readText(res), ref);
    }
    const declaredLength = Number(res.headers.get('content-length') ?? NaN);
    if (declaredLength > MAX_MANIFEST_BYTES) {
      await discard(res);
      throw new BerthError('invalid_argument', `manifest too large: ${declaredLength} bytes exceeds ${MAX_MANIFEST_BYTES}`);
    }
    const bytes = await this.#guard(url, signal, () => readLimited(res, MAX_MANIFEST_BYTES));
    const actual = sha256(bytes);
    const headerDigest = res.headers.get('docker-content-digest') ?? undefined;
    // A digest-pinned fetch must match the pin; a tag fetch must match what the registry claims.
    const expected: string | undefined = ref.digest ?? (headerDigest && isDigest(headerDigest) ? headerDigest : undefined);
    if (expected !== undefined && expected !== actual) {
      throw new BerthError('invalid_argument', `manifest verification failed for digest ${expected}`);
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    // The document's own mediaType, else Content-Type, else what its shape says.
    return { digest: actual, mediaType: sniffManifestMediaType(bytes, contentType), bytes };
  }

  async getBlob(ref: Reference, digest: Digest, auth?: AuthConfig, signal?: AbortSignal): Promise<BlobStream> {
    const registryUrl = this.#url(ref.domain, `/v2/${ref.path}/blobs/${digest}`);
    let res = await this.#authorizedFetch(
      registryUrl,
      { redirect: 'manual' },
      { domain: ref.domain, scopes: [pullScope(ref.path)], auth, signal },
    );
    // Follow redirects by hand: credentials only ever go back to the registry's own origin.
    let current = registryUrl;
    for (let hops = 0; isRedirect(res.status); hops++) {
      const location = res.headers.get('location');
      await discard(res);
      if (!location) throw new BerthError('unavailable', `redirect without location from ${current.host}`);
      if (hops >= MAX_REDIRECTS) throw new BerthError('unavailable', `stopped after ${MAX_REDIRECTS} redirects fetching ${digest}`);
      const next = new URL(location, current);
      const headers: Record<string, string> = { 'user-agent': this.#userAgent };
      if (next.origin === registryUrl.origin) {
        const authorization = await this.#authorizationFor({ domain: ref.domain, scopes: [pullScope(ref.path)], auth, signal });
        if (authorization) headers['authorization'] = authorization;
      }
      current = next;
      res = await this.#send(next, { headers, redirect: 'manual' }, signal);
    }
    if (!res.ok) {
      const body = await readText(res);
      const err = registryError(res.status, body);
      const what = err.code === 'not_found' ? `blob ${digest} not found in ${familiarName(ref)}: ` : '';
      throw new BerthError(err.code, what + err.message);
    }
    if (!res.body) throw new BerthError('unavailable', `empty body for blob ${digest} from ${current.host}`);
    const length = res.headers.get('content-length');
    const out: BlobStream = { body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) };
    if (length !== null && /^\d+$/.test(length)) out.size = Number(length);
    return out;
  }

  async login(serverAddress: string, auth: AuthConfig): Promise<{ status: string; identityToken?: string }> {
    const domain = normalizeServerAddress(serverAddress || auth.serveraddress || 'docker.io');
    const url = this.#url(domain, '/v2/');
    const ctx: AuthContext = { domain, scopes: [], auth, signal: undefined, wantIdentityToken: true };
    // A fresh challenge each login: credentials must really be checked, not a cached token reused.
    this.#challenges.delete(domain);
    let identityToken: string | undefined;
    const res = await this.#authorizedFetch(url, {}, ctx, (t) => {
      identityToken = t;
    });
    if (!res.ok) {
      const body = await readText(res);
      const err = registryError(res.status, body);
      throw new BerthError(err.code, `Get "${url.href}": ${err.message}`);
    }
    await discard(res);
    return identityToken ? { status: 'Login Succeeded', identityToken } : { status: 'Login Succeeded' };
  }

  async blobExists(ref: Reference, digest: Digest, auth?: AuthConfig, signal?: AbortSignal): Promise<boolean> {
    const url = this.#url(ref.domain, `/v2/${ref.path}/blobs/${digest}`);
    const res = await this.#authorizedFetch(url, { method: 'HEAD', redirect: 'manual' }, { domain: ref.domain, scopes: [pushScope(ref.path)], auth, signal });
    await discard(res);
    // A redirect to blob storage means the registry has it.
    if (res.ok || isRedirect(res.status)) return true;
    if (res.status === 404) return false;
    throw pushError(res.status, '', ref);
  }

  async pushBlob(ref: Reference, blob: { digest: Digest; size: number }, source: BlobSource, opts: PushBlobOptions = {}): Promise<PushBlobResult> {
    const scopes = [pushScope(ref.path)];
    const uploads = this.#url(ref.domain, `/v2/${ref.path}/blobs/uploads/`);
    const ctx: AuthContext = { domain: ref.domain, scopes, auth: opts.auth, signal: opts.signal };
    let location: URL | undefined;
    if (opts.mountFrom && opts.mountFrom !== ref.path) {
      const mountUrl = new URL(uploads);
      mountUrl.searchParams.set('mount', blob.digest);
      mountUrl.searchParams.set('from', opts.mountFrom);
      const res = await this.#authorizedFetch(
        mountUrl,
        { method: 'POST', headers: { 'content-length': '0' } },
        { ...ctx, scopes: [...scopes, pullScope(opts.mountFrom)] },
      );
      await discard(res);
      if (res.status === 201) return 'mounted';
      // 202: no mount, but an upload session to use. Anything else: start a plain upload.
      if (res.status === 202) location = uploadLocation(res, mountUrl);
    }
    if (!location) {
      const res = await this.#authorizedFetch(uploads, { method: 'POST', headers: { 'content-length': '0' } }, ctx);
      if (res.status !== 202) throw pushError(res.status, await readText(res), ref, `starting upload of ${blob.digest}`);
      await discard(res);
      location = uploadLocation(res, uploads);
    }
    const chunkSize = Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
    let offset = 0;
    const report = (n: number) => opts.onProgress?.(n);
    if (blob.size > chunkSize) {
      // Chunked: PATCH ranges, always following the Location and Range the registry answers with.
      let stalls = 0;
      while (offset < blob.size) {
        const end = Math.min(offset + chunkSize, blob.size) - 1;
        const start = offset;
        const url = location;
        const res = await this.#uploadFetch(url, ref, ctx, () => ({
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}`, 'content-length': String(end - start + 1) },
          body: streamBody(source(start, end), (n) => report(start + n)),
          duplex: 'half',
        }));
        if (res.status === 416) {
          await discard(res);
          ({ location, offset } = await this.#uploadStatus(url, ref, ctx));
        } else if (res.status === 202) {
          await discard(res);
          location = uploadLocation(res, url);
          offset = rangeEnd(res.headers.get('range')) ?? end + 1;
        } else {
          throw pushError(res.status, await readText(res), ref, `uploading ${blob.digest}`);
        }
        if (offset <= start) {
          if (++stalls > 3) throw new BerthError('unavailable', `upload of ${blob.digest} to ${ref.domain} makes no progress at offset ${offset}`);
        } else stalls = 0;
        if (offset > blob.size) throw new BerthError('unavailable', `registry ${ref.domain} reports ${offset} bytes received of the ${blob.size}-byte blob ${blob.digest}`);
      }
    }
    const final = new URL(location);
    final.searchParams.set('digest', blob.digest);
    const rest = blob.size - offset;
    const res = await this.#uploadFetch(final, ref, ctx, () =>
      rest > 0
        ? {
            method: 'PUT',
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(rest) },
            body: streamBody(source(offset, blob.size - 1), (n) => report(offset + n)),
            duplex: 'half',
          }
        : { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': '0' } },
    );
    if (res.status !== 201 && res.status !== 204) throw pushError(res.status, await readText(res), ref, `uploading ${blob.digest}`);
    await discard(res);
    const answered = res.headers.get('docker-content-digest');
    if (answered && answered !== blob.digest) {
      throw new BerthError('invalid_argument', `digest mismatch: registry ${ref.domain} stored ${answered} for blob ${blob.digest}`);
    }
    report(blob.size);
    return 'uploaded';
  }

  async putManifest(ref: Reference, manifest: { mediaType: string; bytes: Buffer }, auth?: AuthConfig, signal?: AbortSignal): Promise<Digest> {
    const digest = sha256(manifest.bytes);
    const url = this.#url(ref.domain, `/v2/${ref.path}/manifests/${ref.digest ?? ref.tag ?? DEFAULT_TAG}`);
    const res = await this.#authorizedFetch(
      url,
      { method: 'PUT', headers: { 'content-type': manifest.mediaType }, body: new Uint8Array(manifest.bytes) },
      { domain: ref.domain, scopes: [pushScope(ref.path)], auth, signal },
    );
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw pushError(res.status, await readText(res), ref, 'pushing manifest');
    await discard(res);
    const answered = res.headers.get('docker-content-digest');
    if (answered && answered !== digest) {
      throw new BerthError('invalid_argument', `digest mismatch: registry ${ref.domain} answered ${answered} for manifest ${digest}`);
    }
    return digest;
  }

  /** An upload request: authorized on the registry's own origin, sent bare to storage elsewhere. */
  async #uploadFetch(url: URL, ref: Reference, ctx: AuthContext, init: () => RequestInit): Promise<Response> {
    const registryOrigin = this.#url(ref.domain, '/').origin;
    if (url.origin === registryOrigin) return this.#authorizedFetch(url, init, ctx);
    const fresh = init();
    const headers = new Headers(fresh.headers);
    headers.set('user-agent', this.#userAgent);
    return this.#send(url, { ...fresh, headers }, ctx.signal);
  }

  /** GET an upload's status after a 416: where to continue and from which offset. */
  async #uploadStatus(url: URL, ref: Reference, ctx: AuthContext): Promise<{ location: URL; offset: number }> {
    const res = await this.#uploadFetch(url, ref, ctx, () => ({ method: 'GET' }));
    if (res.status !== 204 && res.status !== 200) throw pushError(res.status, await readText(res), ref, 'reading upload status');
    await discard(res);
    return { location: uploadLocation(res, url), offset: rangeEnd(res.headers.get('range')) ?? 0 };
  }

  #url(domain: string, path: string): URL {
    return new URL(path, endpointFor(domain, this.#insecure));
  }

  /** fetch, with network failures as 'unavailable' naming the host, and aborts passed through. */
  async #send(url: URL, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    return this.#guard(url, signal, () => this.#fetch(url, signal ? { ...init, signal } : init), init.method ?? 'GET');
  }

  async #guard<T>(url: URL, signal: AbortSignal | undefined, run: () => Promise<T>, method = 'GET'): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      if (err instanceof BerthError) throw err;
      const verb = method.charAt(0) + method.slice(1).toLowerCase();
      throw new BerthError('unavailable', `${verb} "${url.href}": ${describeNetworkError(err, url)}`, { cause: err });
    }
  }

  /**
   * Send with whatever authorization is already known for the domain; on a 401,
   * learn the challenge, authenticate, and retry once. A second 401 is final.
   */
  async #authorizedFetch(
    url: URL,
    initOrFactory: RequestInit | (() => RequestInit),
    ctx: AuthContext,
    onIdentityToken?: (token: string) => void,
  ): Promise<Response> {
    // A factory makes a fresh init (and body stream) for the retry after a 401.
    const attempt = async (authorization: string | undefined) => {
      const init = typeof initOrFactory === 'function' ? initOrFactory() : initOrFactory;
      const headers = new Headers(init.headers);
      headers.set('user-agent', this.#userAgent);
      if (authorization) headers.set('authorization', authorization);
      return this.#send(url, { ...init, headers }, ctx.signal);
    };
    const first = await attempt(await this.#authorizationFor(ctx));
    if (first.status !== 401) return first;

    const challenges = parseWwwAuthenticate(first.headers.get('www-authenticate') ?? '');
    const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!challenge) return first; // nothing we can answer: the caller reports the 401
    await discard(first);
    this.#challenges.set(ctx.domain, challenge);
    const scopes = challenge.params['scope'] ? [...new Set([...ctx.scopes, ...challenge.params['scope'].split(' ')])] : ctx.scopes;
    // Cached under the scopes we asked for, so the next request finds it up front.
    const authorization = await this.#authorizationFor(ctx, { fresh: true, onIdentityToken, requestScopes: scopes });
    if (!authorization) {
      throw new BerthError('unauthorized', 'unauthorized: authentication required');
    }
    return attempt(authorization);
  }

  /** The Authorization header for ctx, given the domain's known challenge (none if unknown). */
  async #authorizationFor(
    ctx: AuthContext,
    opts: { fresh?: boolean; onIdentityToken?: ((token: string) => void) | undefined; requestScopes?: string[] } = {},
  ): Promise<string | undefined> {
    const challenge = this.#challenges.get(ctx.domain);
    if (!challenge) return undefined;
    const { auth } = ctx;
    if (challenge.scheme === 'basic') {
      return auth?.username && auth.password !== undefined ? basicHeader(auth) : undefined;
    }
    if (challenge.scheme !== 'bearer') return undefined;
    if (auth?.registrytoken) return `Bearer ${auth.registrytoken}`;
    const key = JSON.stringify([ctx.domain, identityKey(auth), [...ctx.scopes].sort()]);
    const cached = this.#tokens.get(key);
    if (!opts.fresh && cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    // Concurrent requests for one scope (parallel layer downloads) share one token request.
    const fetched = await this.#tokenFlights.do(key, async () => {
      const t = await this.#fetchToken(challenge, opts.requestScopes ? { ...ctx, scopes: opts.requestScopes } : ctx);
      this.#tokens.set(key, { token: t.token, expiresAt: t.expiresAt });
      return t;
    });
    if (fetched.refreshToken) opts.onIdentityToken?.(fetched.refreshToken);
    return `Bearer ${fetched.token}`;
  }

  /** The token dance: OAuth2 refresh-token POST with an identity token, else GET with Basic. */
  async #fetchToken(challenge: Challenge, ctx: AuthContext): Promise<{ token: string; expiresAt: number; refreshToken?: string }> {
    const realmText = challenge.params['realm'];
    let realm: URL;
    try {
      realm = new URL(realmText ?? '');
    } catch {
      throw new BerthError('unauthorized', `unauthorized: invalid token realm ${JSON.stringify(realmText ?? '')} from ${ctx.domain}`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new BerthError('unauthorized', `unauthorized: unsupported token realm ${realm.href}`);
    }
    const service = challenge.params['service'];
    const { auth } = ctx;
    let res: Response;
    if (auth?.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: auth.identitytoken, client_id: CLIENT_ID });
      if (service) form.set('service', service);
      if (ctx.scopes.length > 0) form.set('scope', ctx.scopes.join(' '));
      res = await this.#send(
        realm,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': this.#userAgent },
          body: form.toString(),
        },
        ctx.signal,
      );
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const scope of ctx.scopes) url.searchParams.append('scope', scope);
      const headers: Record<string, string> = { 'user-agent': this.#userAgent };
      if (auth?.username && auth.password !== undefined) {
        url.searchParams.set('account', auth.username);
        headers['authorization'] = basicHeader(auth);
        if (ctx.wantIdentityToken) {
          url.searchParams.set('offline_token', 'true');
          url.searchParams.set('client_id', CLIENT_ID);
        }
      }
      res = await this.#send(url, { headers }, ctx.signal);
    }
    if (!res.ok) {
      const body = await readText(res);
      const err = registryError(res.status, body);
      // A token server refusing credentials is the registry refusing them.
      const code = res.status === 401 || res.status === 403 || res.status === 400 ? 'unauthorized' : err.code;
      throw new BerthError(code, err.message);
    }
    let body: TokenResponse;
    try {
      body = JSON.parse(await readText(res, MAX_MANIFEST_BYTES)) as TokenResponse;
    } catch (err) {
      throw new BerthError('unauthorized', `unauthorized: malformed token response from ${realm.host}`, { cause: err });
    }
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new BerthError('unauthorized', `unauthorized: authorization server did not include a token in the response`);
    }
    const lifetime = Math.max(typeof body.expires_in === 'number' ? body.expires_in : 0, MIN_TOKEN_LIFETIME_S);
    const issued = typeof body.issued_at === 'string' ? Date.parse(body.issued_at) : NaN;
    const expiresAt = (Number.isNaN(issued) ? Date.now() : issued) + lifetime * 1000 - TOKEN_EXPIRY_MARGIN_MS;
    const out: { token: string; expiresAt: number; refreshToken?: string } = { token, expiresAt };
    if (typeof body.refresh_token === 'string' && body.refresh_token) out.refreshToken = body.refresh_token;
    return out;
  }
}

function pullScope(path: string): string {
  return `repository:${path}:pull`;
}

function pushScope(path: string): string {
  return `repository:${path}:pull,push`;
}

/** The upload session URL from a 202 (relative ones resolved against the request). */
function uploadLocation(res: Response, requestUrl: URL): URL {
  const location = res.headers.get('location');
  if (!location) throw new BerthError('unavailable', `registry ${requestUrl.host} answered ${res.status} to an upload without a Location header`);
  try {
    return new URL(location, requestUrl);
  } catch (err) {
    throw new BerthError('unavailable', `registry ${requestUrl.host} sent an invalid upload Location ${JSON.stringify(location)}`, { cause: err });
  }
}

/** The next offset a `Range: 0-N` header (or distribution's `bytes=0-N`) asks for: N + 1. */
function rangeEnd(range: string | null): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '');
  return m ? Number(m[1]) + 1 : undefined;
}

/** A request body from a Node stream, counting bytes as fetch reads them. */
function streamBody(source: Readable, onBytes: (sent: number) => void): ReadableStream<Uint8Array> {
  let sent = 0;
  const counted = source.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        onBytes(sent);
        cb(null, chunk);
      },
    }),
  );
  source.once('error', (err) => counted.destroy(err));
  return Readable.toWeb(counted) as unknown as ReadableStream<Uint8Array>;
}

/** dockerd's wording for a refused push; the registry's own message otherwise. */
function pushError(status: number, body: string, ref: Reference, doing?: string): BerthError {
  const err = registryError(status, body);
  const first = describeRegistryErrors(body)?.first;
  if (first?.code === 'DENIED' || status === 403) return new BerthError(err.code, 'denied: requested access to the resource is denied');
  if (err.code === 'unauthorized') return err;
  return new BerthError(err.code, doing ? `${doing} to ${familiarName(ref)}: ${err.message}` : err.message);
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** dockerd's wording (translatePullError) for a refused or missing manifest. */
function manifestError(status: number, body: string, ref: Reference): BerthError {
  const err = registryError(status, body);
  const first = describeRegistryErrors(body)?.first;
  switch (first?.code) {
    case 'DENIED':
      return new BerthError(
        err.code,
        `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${first.message}`,
      );
    case 'NAME_UNKNOWN':
      return new BerthError(err.code, `repository ${familiarName(ref)} not found: ${err.message}`);
  }
  if (err.code === 'not_found') return new BerthError(err.code, `manifest for ${familiarString(ref)} not found: ${err.message}`);
  return err;
}

export function createRegistryClient(opts: ExtendedRegistryClientOptions): RegistryClient {
  return new Client(opts);
}
