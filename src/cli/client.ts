// The Engine API client: HTTP over the daemon's unix socket with a
// keep-alive agent, API version negotiated once per invocation via /_ping.
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions as HttpRequestOptions } from 'node:http';
import type { Readable } from 'node:stream';
import { BerthError, type ErrorCode } from '../errors/index.js';

export const CLIENT_API_VERSION = '1.50';
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** The daemon could not be reached at all. */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(
    readonly host: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot connect to the berth daemon at ${host}. Is the berth daemon running?`, options);
  }
}

/** Maps HTTP statuses back to domain codes: the reverse of the daemon's table. */
const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_argument',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  304: 'not_modified',
  501: 'not_implemented',
  503: 'unavailable',
};

/** An error response from the daemon; `message` is the daemon's own text. */
export class ApiError extends BerthError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(CODE_OF_STATUS[status] ?? 'internal', message);
    this.name = 'ApiError';
  }
}

/** unix:///path or a bare path -> socket path. */
export function socketPathOf(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/') || host.startsWith('.')) return host;
  throw new BerthError('invalid_argument', `unsupported host: ${host} (only unix:// sockets are supported)`);
}

/** Canonical unix:// form of a host flag value. */
export function normalizeHost(host: string): string {
  return host.startsWith('unix://') ? host : `unix://${socketPathOf(host)}`;
}

export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  body?: string | Uint8Array | Readable;
  /** Skip the version prefix (for /_ping). */
  unversioned?: boolean;
}

export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else if (typeof value === 'boolean') params.set(key, value ? '1' : '0');
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * An HTTP request to the daemon's socket. servername '' spares Node's agent working out a
 * TLS server name for it, a costly IPv6 regex (~15 ms of a CLI call); the agent reads the
 * option though RequestOptions does not declare it.
 */
export function daemonRequest(options: HttpRequestOptions & { socketPath: string }, onResponse?: (res: IncomingMessage) => void): ClientRequest {
  return httpRequest({ ...options, servername: '' } as HttpRequestOptions, onResponse);
}

/** Lower of two dotted API versions. */
export function minVersion(a: string, b: string): string {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? a : b;
  }
  return a;
}

export class ApiClient {
  readonly host: string;
  readonly socketPath: string;
  readonly #agent = new Agent({ keepAlive: true });
  #version: Promise<string> | undefined;

  constructor(host: string) {
    this.host = normalizeHost(host);
    this.socketPath = socketPathOf(host);
  }

  /** GET /_ping once, then use min(our version, the server's). */
  apiVersion(): Promise<string> {
    this.#version ??= this.request('GET', '/_ping', { unversioned: true }).then(async (res) => {
      await drain(res);
      const header = res.headers['api-version'];
      const server = typeof header === 'string' && /^\d+\.\d+$/.test(header) ? header : CLIENT_API_VERSION;
      return minVersion(CLIENT_API_VERSION, server);
    });
    return this.#version;
  }

  /** Sends a request; non-2xx statuses become ApiError, socket failures ConnectError. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const prefix = options.unversioned ? '' : `/v${await this.apiVersion()}`;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { 'User-Agent': 'berth-cli', ...options.headers };
      const body = options.body;
      if ((typeof body === 'string' || body instanceof Uint8Array) && !('Content-Type' in headers)) headers['Content-Type'] = 'application/json';
      const req = daemonRequest({ socketPath: this.socketPath, path: prefix + path + buildQuery(options.query), method, headers, agent: this.#agent }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.#connectionError(err)));
      if (body === undefined) req.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
    if (res.statusCode !== undefined && res.statusCode >= 400) {
      const text = (await readAll(res)).toString('utf8');
      throw new ApiError(res.statusCode, errorMessage(text, res.statusCode));
    }
    return res;
  }

  /** A request whose response body is JSON. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, options);
    const text = (await readAll(res)).toString('utf8');
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  /** Lets the process exit: closes the keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  #connectionError(err: NodeJS.ErrnoException): Error {
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') return new ConnectError(this.host, { cause: err });
    if (err.code === 'EACCES') {
      return new Error(`permission denied while trying to connect to the berth daemon socket at ${this.host}: ${err.message}`, { cause: err });
    }
    return err;
  }
}

function errorMessage(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    /* not JSON: use the text as it is */
  }
  return text.trim() || `request failed with status ${status}`;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

async function drain(stream: Readable): Promise<void> {
  for await (const _chunk of stream) {
    /* discard */
  }
}

/** Splits a stream of concatenated or newline-separated JSON values. */
export async function* jsonStream<T = unknown>(stream: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let buf = '';
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let start = 0;
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          yield JSON.parse(buf.slice(start, i + 1)) as T;
          buf = buf.slice(i + 1);
          i = -1;
        }
      }
    }
    if (depth === 0) buf = buf.trimStart();
  }
  if (buf.trim()) throw new Error(`unexpected end of JSON stream: ${buf.slice(0, 80)}`);
}
