// The build cache's view of COPY/ADD sources: a sha256 over names, types,
// permission bits, symlink targets and file contents, never times or owners.
// File contents are hashed once per (dev, ino, size, mtime, ctime): a warm
// rebuild stats every file but reads none that did not change.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readlinkSync, type BigIntStats, type Stats } from 'node:fs';
import { walkMatch } from './sources.js';
import type { SourceMatch } from './types.js';

const CACHE_LIMIT = 100_000;
/**
 * File times come from the kernel's coarse clock: a file rewritten (same size)
 * within one tick of the previous write keeps its times. As git does with its
 * index ("racy git"), a file changed within this margin of now is not cached.
 */
const RACY_MARGIN_NS = 1_000_000_000n;
let reads = 0;

/** content digests by file identity; a Map keeps insertion order, so the oldest is evicted first */
const contentCache = new Map<string, string>();

function cacheKey(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The sha256 of a regular file's content, from the cache when its identity and times are unchanged. */
export async function fileDigest(path: string): Promise<string> {
  const before = lstatSync(path, { bigint: true });
  const key = cacheKey(before);
  const cached = contentCache.get(key);
  if (cached !== undefined) {
    contentCache.delete(key); // refresh its place: recently used entries are evicted last
    contentCache.set(key, cached);
    return cached;
  }
  reads++;
  const digest = await hashFile(path);
  // only cache what did not change while it was read, and was not changed too recently to tell
  const after = lstatSync(path, { bigint: true });
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  if (cacheKey(after) === key && nowNs - after.ctimeNs > RACY_MARGIN_NS && nowNs - after.mtimeNs > RACY_MARGIN_NS) {
    contentCache.set(key, digest);
    if (contentCache.size > CACHE_LIMIT) contentCache.delete(contentCache.keys().next().value as string);
  }
  return digest;
}

/** How many file digests the in-process cache holds, and how many files were read so far (for tests). */
export function contentCacheStats(): { size: number; reads: number } {
  return { size: contentCache.size, reads };
}

function typeOf(st: Stats): string {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

export async function checksumSources(matches: SourceMatch[]): Promise<string> {
  const hash = createHash('sha256');
  const field = (s: string) => hash.update(`${s.length}:${s}`);
  for (const match of matches) {
    field('match');
    field(match.relPath);
    field(match.isDir ? 'dir' : 'nondir');
    for (const e of walkMatch(match)) {
      field(e.rel);
      field(typeOf(e.st));
      field((e.st.mode & 0o7777).toString(8));
      field(e.st.isSymbolicLink() ? readlinkSync(e.host) : '');
      field(e.st.isFile() ? await fileDigest(e.host) : '');
    }
  }
  return `sha256:${hash.digest('hex')}`;
}
