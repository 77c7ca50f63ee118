// The registry's HTTP surface (node:http, no framework): routes on the raw
// request path, so "..", percent-escapes and uppercase reach name validation
// instead of being normalised away. Handlers parse, call one storage method,
// and shape the reply; every failure becomes the spec's JSON error here.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors/index.js';
import { nullLogger, type Digest, type Logger } from '../util/index.js';
import type { Htpasswd } from './auth.js';
import type { Access, TokenAuth } from './token.js';
import { distErr, DistributionError, type SpecErrorCode } from './errors.js';
import { MAX_MANIFEST_BYTES, MediaTypes } from './manifest.js';
import { checkDigest, checkName, parseManifestRef } from './names.js';
import type { ChunkRange, RegistryStorage } from './storage.js';

export interface HandlerOptions {
  /** Refuse every write (POST, PATCH, PUT, DELETE) with 405 UNSUPPORTED, as distribution's read-only mode. */
  readOnly?: boolean;
  /** Allow manifest and blob DELETE; without it they are 405 UNSUPPORTED. */
  delete?: boolean;
  /** Basic auth; every /v2/ request needs valid credentials when set. */
  htpasswd?: Htpasswd;
  realm?: string;
  /** Bearer token auth (distribution's `auth: token`): every /v2/ request needs a token granting what it does. */
  token?: TokenAuth;
  log?: Logger;
}

const STATUS: Record<SpecErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  RANGE_INVALID: 416,
};

type Headers = Record<string, string | number>;

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  /** Whether the request's credentials allow `access` (with token auth; otherwise always). */
  may: (access: Access) => boolean;
}

/**
 * What a request needs under token auth, as distribution asks for it: pull to
 * read a repository, pull and push to write, delete to delete a manifest or
 * blob, registry:catalog:* for the catalog, nothing for the /v2/ ping.
 */
export function accessFor(method: string, path: string): Access[] {
  if (path === '/v2/' || path === '/v2') return [];
  if (path === '/v2/_catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  const p = repoPath(path);
  if (!p) return [];
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' && !p.isUpload ? ['delete'] : ['pull', 'push'];
  return [{ type: 'repository', name: p.name, actions }];
}

/** `/v2/NAME/KIND/REST` (the name may hold slashes), unvalidated; undefined for other paths. */
function repoPath(path: string): { name: string; kind: string; rest: string; isUpload: boolean } | undefined {
  const m = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\/(.*)$/.exec(path);
  if (!m) return undefined;
  const [, name, kind, rest] = m as unknown as [string, string, string, string];
  return { name, kind, rest, isUpload: kind === 'blobs' && /^uploads(\/|$)/.test(rest) };
}

function send(res: ServerResponse, status: number, headers: Headers = {}, body?: string | Buffer): void {
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Length': payload?.length ?? 0, ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : payload);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Headers = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

function sendError(res: ServerResponse, err: unknown, log: Logger, extra: Headers = {}): void {
  let status = 500;
  let code = 'UNKNOWN';
  let message = err instanceof Error ? err.message : String(err);
  let detail: unknown;
  if (err instanceof DistributionError) {
    status = STATUS[err.specCode];
    code = err.specCode === 'RANGE_INVALID' ? 'BLOB_UPLOAD_INVALID' : err.specCode;
    detail = err.detail;
  } else if (err instanceof BerthError && err.code === 'invalid_argument') {
    status = 400;
    code = 'UNSUPPORTED';
  } else {
    log.error('registry request failed', { err: message });
    message = 'unknown error';
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { errors: [{ code, message, detail: detail ?? null }] }, extra);
}

/**
 * Reads a request body up to `limit` bytes; undefined once it is over. The
 * rest is still read and dropped: leaving the loop early would destroy the
 * socket before the 413 could be sent, and the client would see a reset.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

function parseChunkRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[= ])?(\d+)-(\d+)$/.exec(header.trim());
  if (!m) throw distErr('BLOB_UPLOAD_INVALID', 'malformed Content-Range', { contentRange: header });
  const range = { start: Number(m[1]), end: Number(m[2]) };
  if (range.end < range.start) throw distErr('RANGE_INVALID', 'Content-Range ends before it starts', { contentRange: header });
  return range;
}

/** A single byte range of a blob of `size` bytes; null when unsatisfiable. */
function parseByteRange(header: string, size: number): { start: number; end: number } | null | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // ignored, as RFC 9110 allows for ranges we do not support
  const [a, b] = [m[1] as string, m[2] as string];
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/** `n`/`last` pagination of a sorted list, with the Link header the spec describes. */
function paginate(items: string[], query: URLSearchParams, path: string): { page: string[]; headers: Headers } {
  const last = query.get('last');
  let rest = last === null ? items : items.filter((i) => i > last);
  const nRaw = query.get('n');
  if (nRaw === null) return { page: rest, headers: {} };
  if (!/^\d+$/.test(nRaw)) throw distErr('UNSUPPORTED', 'n must be a non-negative integer', { n: nRaw });
  const n = Number(nRaw);
  const page = rest.slice(0, n);
  rest = rest.slice(n);
  const headers: Headers = {};
  if (rest.length > 0 && page.length > 0) {
    headers.Link = `<${path}?n=${n}&last=${encodeURIComponent(page[page.length - 1] as string)}>; rel="next"`;
  }
  return { page, headers };
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createRegistryHandler(storage: RegistryStorage, opts: HandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const log = opts.log ?? nullLogger;
  const realm = opts.realm ?? 'berth-registry';

  const blobLocation = (name: string, digest: Digest) => `/v2/${name}/blobs/${digest}`;
  const uploadHeaders = (name: string, uuid: string, size: number): Headers => ({
    Location: `/v2/${name}/blobs/uploads/${uuid}`,
    Range: `0-${size > 0 ? size - 1 : 0}`,
    'Docker-Upload-UUID': uuid,
  });

  async function manifests(r: Request, name: string, refText: string): Promise<void> {
    const { res, req, method } = r;
    const ref = parseManifestRef(refText);
    if (method === 'GET' || method === 'HEAD') {
      const info = method === 'GET' ? await storage.getManifest(name, ref) : { ...(await storage.statManifest(name, ref)), body: undefined };
      const headers: Headers = { 'Content-Type': info.mediaType, 'Docker-Content-Digest': info.digest, ETag: `"${info.digest}"` };
      if (info.body) send(res, 200, headers, info.body);
      else send(res, 200, { ...headers, 'Content-Length': info.size });
      return;
    }
    if (method === 'PUT') {
      checkName(name);
      const body = await readBody(req, MAX_MANIFEST_BYTES);
      if (!body) {
        sendJson(res, 413, { errors: [{ code: 'SIZE_INVALID', message: 'manifest too big', detail: { limit: MAX_MANIFEST_BYTES } }] });
        return;
      }
      const { digest, parsed } = await storage.putManifest(name, ref, body, req.headers['content-type']);
      const headers: Headers = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
      if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
      send(res, 201, headers);
      return;
    }
    if (method === 'DELETE') {
      await storage.deleteManifest(name, ref);
      send(res, 202);
      return;
    }
    throw distErr('UNSUPPORTED', 'method not allowed');
  }

  async function blobs(r: Request, name: string, digestText: string): Promise<void> {
    const { res, req, method } = r;
    const digest = checkDigest(digestText);
    if (method === 'GET' || method === 'HEAD') {
      const blob = await storage.blob(name, digest);
      const headers: Headers = {
        'Content-Type': 'application/octet-stream',
        'Docker-Content-Digest': digest,
        ETag: `"${digest}"`,
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'max-age=31536000',
      };
      if (method === 'HEAD') {
        await storage.touch(digest); // a pusher's existence check: keep it through gc's grace period
        send(res, 200, { ...headers, 'Content-Length': blob.size });
        return;
      }
      const rangeHeader = req.headers.range;
      const range = rangeHeader ? parseByteRange(rangeHeader, blob.size) : undefined;
      if (range === null) {
        send(res, 416, { 'Content-Range': `bytes */${blob.size}` });
        return;
      }
      if (range) {
        res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}` });
      } else {
        res.writeHead(200, { ...headers, 'Content-Length': blob.size });
      }
      const start = range?.start ?? 0;
      const count = range ? range.end - range.start + 1 : blob.size;
      if (await sendZeroCopy(res, blob.path, start, count)) return;
      // 1 MiB reads: a quarter of the syscalls and stream turns of the 64 KiB default on large layers
      const stream = createReadStream(blob.path, { highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end } : {}) });
      try {
        await pipeline(stream, res);
      } catch (err) {
        if (!res.destroyed) throw err; // else the client hung up mid-blob: nothing to answer
      }
      return;
    }
    if (method === 'DELETE') {
      await storage.deleteBlob(name, digest);
      send(res, 202, { 'Docker-Content-Digest': digest });
      return;
    }
    throw distErr('UNSUPPORTED', 'method not allowed');
  }

  async function startUpload(r: Request, name: string): Promise<void> {
    const { res, req, query, method } = r;
    if (method !== 'POST') throw distErr('UNSUPPORTED', 'method not allowed');
    checkName(name);
    const mount = query.get('mount');
    const from = query.get('from');
    // A mount needs pull on the source too; without it, an ordinary upload, as distribution does.
    if (mount !== null && from !== null && r.may({ type: 'repository', name: from, actions: ['pull'] })) {
      const digest = checkDigest(mount);
      if (await storage.mount(name, checkName(from), digest)) {
        send(res, 201, { Location: blobLocation(name, digest), 'Docker-Content-Digest': digest });
        return;
      }
      // Not mountable: the spec says to fall back to an ordinary upload session.
    }
    const digestText = query.get('digest');
    if (digestText !== null) {
      const digest = checkDigest(digestText);
      await storage.putBlob(name, digest, req);
      send(res, 201, { Location: blobLocation(name, digest), 'Docker-Content-Digest': digest });
      return;
    }
    req.resume();
    const { uuid } = await storage.startUpload(name);
    send(res, 202, uploadHeaders(name, uuid, 0));
  }

  async function upload(r: Request, name: string, uuid: string): Promise<void> {
    const { res, req, method, query } = r;
    checkName(name);
    if (method === 'GET') {
      const st = await storage.uploadStatus(name, uuid);
      send(res, 204, uploadHeaders(name, uuid, st.size));
      return;
    }
    if (method === 'PATCH') {
      const range = parseChunkRange(req.headers['content-range']);
      try {
        const st = await storage.appendUpload(name, uuid, req, range);
        send(res, 202, uploadHeaders(name, uuid, st.size));
      } catch (err) {
        if (err instanceof DistributionError && err.specCode === 'RANGE_INVALID') {
          const st = await storage.uploadStatus(name, uuid);
          sendError(res, err, log, uploadHeaders(name, uuid, st.size));
          return;
        }
        throw err;
      }
      return;
    }
    if (method === 'PUT') {
      const digestText = query.get('digest');
      if (digestText === null) throw distErr('DIGEST_INVALID', 'the closing PUT needs ?digest=');
      const digest = checkDigest(digestText);
      const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
      const range = hasBody ? parseChunkRange(req.headers['content-range']) : undefined;
      if (!hasBody) req.resume();
      await storage.completeUpload(name, uuid, digest, hasBody ? req : undefined, range);
      send(res, 201, { Location: blobLocation(name, digest), 'Docker-Content-Digest': digest });
      return;
    }
    if (method === 'DELETE') {
      await storage.cancelUpload(name, uuid);
      send(res, 204);
      return;
    }
    throw distErr('UNSUPPORTED', 'method not allowed');
  }

  async function route(r: Request): Promise<void> {
    const { res, method, path, query } = r;
    const isWrite = WRITE_METHODS.has(method);
    if (path === '/v2/' || path === '/v2') {
      sendJson(res, 200, {});
      return;
    }
    if (path === '/v2/_catalog') {
      const { page, headers } = paginate(await storage.repositories(), query, '/v2/_catalog');
      sendJson(res, 200, { repositories: page }, headers);
      return;
    }
    const p = repoPath(path);
    if (!p) {
      sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'unknown endpoint', detail: { path } }] });
      return;
    }
    const { name, kind, rest, isUpload } = p;
    checkName(name);
    if (isWrite && opts.readOnly) throw distErr('UNSUPPORTED', 'the registry is read-only');
    if (method === 'DELETE' && !isUpload && !opts.delete) throw distErr('UNSUPPORTED', 'deletes are disabled (start the registry with --delete)');
    if (kind === 'manifests' && rest && !rest.includes('/')) return manifests(r, name, rest);
    if (kind === 'blobs' && (rest === 'uploads' || rest === 'uploads/')) return startUpload(r, name);
    if (kind === 'blobs' && rest.startsWith('uploads/') && !rest.slice(8).includes('/')) return upload(r, name, rest.slice(8));
    if (kind === 'blobs' && rest && !rest.includes('/')) return blobs(r, name, rest);
    if (kind === 'tags' && rest === 'list') {
      if (method !== 'GET' && method !== 'HEAD') throw distErr('UNSUPPORTED', 'method not allowed');
      const { page, headers } = paginate(await storage.tags(name), query, `/v2/${name}/tags/list`);
      sendJson(res, 200, { name, tags: page }, headers);
      return;
    }
    if (kind === 'referrers' && rest && !rest.includes('/')) {
      if (method !== 'GET' && method !== 'HEAD') throw distErr('UNSUPPORTED', 'method not allowed');
      const digest = checkDigest(rest);
      const artifactType = query.get('artifactType') ?? undefined;
      const manifests = await storage.referrers(name, digest, artifactType);
      const headers: Headers = { 'Content-Type': MediaTypes.ociIndex };
      if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
      send(res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }));
      return;
    }
    sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'unknown endpoint', detail: { path } }] });
  }

  return (req, res) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const r: Request = {
      req,
      res,
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      may: () => true,
    };
    const handle = async () => {
      if (opts.htpasswd && !(await opts.htpasswd.check(req.headers.authorization))) {
        sendError(res, distErr('UNAUTHORIZED', 'authentication required'), log, { 'WWW-Authenticate': `Basic realm="${realm}"` });
        return;
      }
      if (opts.token) {
        const needed = accessFor(r.method, r.path);
        const decision = opts.token.authorize(req.headers.authorization, needed);
        if (!decision.ok) {
          req.resume(); // an upload body we will not read
          const detail = needed.flatMap((a) => a.actions.map((action) => ({ Type: a.type, Name: a.name, Action: action })));
          sendError(res, distErr('UNAUTHORIZED', decision.message, detail), log, { 'WWW-Authenticate': decision.challenge });
          return;
        }
        r.may = decision.granted;
      }
      await route(r);
    };
    handle().then(
      () => log.debug('request', { method: r.method, path: r.path, status: res.statusCode }),
      (err: unknown) => {
        sendError(res, err, log);
        log.debug('request', { method: r.method, path: r.path, status: res.statusCode });
      },
    );
  };
}

type SendFile = (outFd: number, inFd: number, offset: number, count: number, cb: (err: Error | null, sent: number) => void) => void;
let sendFileFn: Promise<SendFile | undefined> | undefined;

/** The native sendfile(2), when the addon is there (the registry image runs without it). */
function nativeSendFile(): Promise<SendFile | undefined> {
  sendFileFn ??= import('../native/index.js').then(
    (m) => (typeof m.sys.sendFile === 'function' ? m.sys.sendFile.bind(m.sys) : undefined), // an addon built before sendFile: stream
    () => undefined,
  );
  return sendFileFn;
}

/**
 * A blob's bytes straight from the file to a plain TCP socket with sendfile(2), as Go's
 * registry serves them: no copy through user space. False (nothing sent) when it can't be
 * used (TLS, no addon, no file descriptor); the caller then streams. Headers are written first.
 */
async function sendZeroCopy(res: ServerResponse, path: string, start: number, count: number): Promise<boolean> {
  const socket = res.socket as (Socket & { _handle?: { fd?: number } }) | null;
  // libuv's TCP handle exposes its descriptor; a TLS socket has no plain one to write to
  const fd = socket && !(socket instanceof TLSSocket) ? socket._handle?.fd : undefined;
  if (!socket || typeof fd !== 'number' || fd < 0 || count === 0) return false;
  const sendFile = await nativeSendFile();
  if (!sendFile) return false;
  // the headers must be on the wire before the body goes out underneath Node
  res.flushHeaders();
  await new Promise<void>((r) => setImmediate(r));
  if (socket.writableLength > 0) await new Promise<void>((r) => socket.once('drain', r));
  const file = await open(path, 'r');
  try {
    await new Promise<void>((resolve, reject) => sendFile(fd, file.fd, start, count, (err) => (err ? reject(err) : resolve())));
  } catch {
    socket.destroy(); // the client went away mid-blob (or the file shrank): this response can't be completed
    return true;
  } finally {
    await file.close();
  }
  res.end();
  return true;
}
