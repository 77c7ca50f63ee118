// ADD <url>: a plain download with Node's fetch, hashed as it is written.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, messageOf } from '../../errors/index.js';
import type { FetchedFile } from './types.js';

/** The name docker gives a downloaded file: the URL path's last segment, else "download". */
export function downloadName(url: URL): string {
  const segment = url.pathname.split('/').pop() ?? '';
  let name = segment;
  try {
    name = decodeURIComponent(segment);
  } catch {
    /* keep it encoded */
  }
  return name === '' || name === '.' || name === '..' || name.includes('/') ? 'download' : name;
}

export async function fetchUrl(url: string, tmpDir: string): Promise<FetchedFile> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BerthError('invalid_argument', `invalid URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BerthError('invalid_argument', `unsupported URL scheme for ADD: ${parsed.protocol}`);
  }
  let res: Response;
  try {
    res = await fetch(parsed, { redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    throw new BerthError('unavailable', `failed to GET ${url}: ${messageOf(cause ?? err)}`, { cause: err });
  }
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel().catch(() => {});
    throw new BerthError('invalid_argument', `failed to GET ${url} with status ${res.status} ${res.statusText}`.trimEnd());
  }
  const hostPath = join(tmpDir, `download-${randomUUID()}`);
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
    await pipeline(body, hasher, createWriteStream(hostPath, { mode: 0o600, flags: 'wx' }));
  } catch (err) {
    await rm(hostPath, { force: true });
    throw new BerthError('unavailable', `failed to GET ${url}: ${messageOf(err)}`, { cause: err });
  }
  const lastModified = res.headers.get('last-modified');
  const mtimeMs = lastModified ? Date.parse(lastModified) : NaN;
  const mtime = Number.isFinite(mtimeMs) ? new Date(mtimeMs) : undefined;
  if (mtime) await utimes(hostPath, mtime, mtime);
  return { hostPath, name: downloadName(parsed), ...(mtime ? { mtime } : {}), digest: `sha256:${hash.digest('hex')}` };
}
