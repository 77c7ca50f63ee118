// The daemon's side of the context: unpack the client's tar into a fresh
// directory. Written synchronously inside one Writable (like the layer
// applier), never following a symlink: every parent is lstat-checked to be a
// real directory created under the root, files are opened O_EXCL|O_NOFOLLOW.
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  chmodSync,
  openSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, messageOf } from '../../errors/index.js';
import { TarParser, type TarHeader } from '../../storage/index.js';
import { decompressAny } from './decompress.js';
import type { BuildContext, OpenContextOptions } from './types.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** Where a file entry's content goes (storage's TarParser sink). */
interface EntrySink {
  data(chunk: Buffer): void;
  end(): void;
}

const readFailure = (message: string, cause?: unknown) =>
  new BerthError('invalid_argument', `failed to read build context: ${message}`, cause === undefined ? undefined : { cause });

/** A tar name as a clean relative path: a leading '/' dropped, '..' out of the root refused. */
function entryPath(name: string): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw readFailure(`entry ${JSON.stringify(name)} points outside the context`);
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

const errnoOf = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

class ContextWriter {
  /** relative dirs known to be real directories (not symlinks) inside the root */
  readonly #dirs = new Set<string>(['']);
  readonly #dirTimes: { rel: string; mtime: number }[] = [];
  unpacked = 0;

  constructor(
    private readonly root: string,
    private readonly maxBytes: number,
  ) {}

  #abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /** Make sure `rel` is a real directory, creating missing ones 0755; a symlink or file in the way is refused. */
  #ensureDir(rel: string): void {
    if (this.#dirs.has(rel)) return;
    const i = rel.lastIndexOf('/');
    this.#ensureDir(i < 0 ? '' : rel.slice(0, i));
    const st = lstatSync(this.#abs(rel), { throwIfNoEntry: false });
    if (!st) {
      mkdirSync(this.#abs(rel), { mode: 0o755 });
      chmodSync(this.#abs(rel), 0o755);
    } else if (!st.isDirectory()) {
      throw readFailure(`${JSON.stringify(rel)} is not a directory but has entries below it`);
    }
    this.#dirs.add(rel);
  }

  /** Remove what an entry replaces (a later entry of the same name wins, as tar -x). */
  #clear(rel: string, keepDir: boolean): void {
    const st = lstatSync(this.#abs(rel), { throwIfNoEntry: false });
    if (!st || (keepDir && st.isDirectory())) return;
    rmSync(this.#abs(rel), { recursive: true, force: true });
    for (const d of this.#dirs) if (d === rel || d.startsWith(`${rel}/`)) this.#dirs.delete(d);
  }

  onEntry(h: TarHeader): EntrySink | null {
    const rel = entryPath(h.name);
    if (rel === '') return null; // the root keeps its own metadata
    const i = rel.lastIndexOf('/');
    this.#ensureDir(i < 0 ? '' : rel.slice(0, i));
    const abs = this.#abs(rel);
    switch (h.type) {
      case 'directory':
        this.#clear(rel, true);
        this.#ensureDir(rel);
        chmodSync(abs, h.mode & 0o7777);
        this.#dirTimes.push({ rel, mtime: h.mtime });
        return null;
      case 'file': {
        this.unpacked += h.size;
        if (this.unpacked > this.maxBytes) {
          throw new BerthError('invalid_argument', `build context is larger than the limit of ${this.maxBytes} bytes`);
        }
        this.#clear(rel, false);
        const fd = openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        let closed = false;
        return {
          data(chunk) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          },
          end() {
            try {
              fchmodSync(fd, h.mode & 0o7777);
              futimesSync(fd, h.mtime, h.mtime);
            } finally {
              if (!closed) closeSync(fd);
              closed = true;
            }
          },
        };
      }
      case 'symlink':
        this.#clear(rel, false);
        symlinkSync(h.linkname, abs);
        lutimesSync(abs, h.mtime, h.mtime);
        return null;
      case 'link': {
        const target = entryPath(h.linkname);
        const j = target.lastIndexOf('/');
        // the target's parents must be real directories, or the link could reach outside
        this.#ensureDir(j < 0 ? '' : target.slice(0, j));
        const st = lstatSync(this.#abs(target), { throwIfNoEntry: false });
        if (!st || st.isDirectory()) throw readFailure(`hard link ${JSON.stringify(h.name)} to missing or directory ${JSON.stringify(h.linkname)}`);
        this.#clear(rel, false);
        linkSync(this.#abs(target), abs);
        return null;
      }
      default:
        return null; // devices and fifos have no place in a build context
    }
  }

  finish(): void {
    for (const d of this.#dirTimes.reverse()) {
      if (this.#dirs.has(d.rel)) utimesSync(this.#abs(d.rel), d.mtime, d.mtime);
    }
  }
}

/** Unpack a context tar (plain, gzip, bzip2, xz or zstd) into a new directory under opts.tmpDir. */
export async function openContext(tar: Readable, opts: OpenContextOptions): Promise<BuildContext> {
  const dir = await mkdtemp(join(opts.tmpDir, 'context-'));
  try {
    const writer = new ContextWriter(dir, opts.maxBytes ?? Number.POSITIVE_INFINITY);
    const parser = new TarParser((h) => writer.onEntry(h));
    const sink = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        try {
          parser.push(chunk);
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
      final(cb) {
        try {
          parser.finish();
          writer.finish();
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
    });
    const { stream } = await decompressAny(tar);
    await pipeline(stream, sink);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw contextError(err);
  }
  let closed = false;
  return {
    dir,
    async close() {
      if (closed) return;
      closed = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function contextError(err: unknown): BerthError {
  const code = errnoOf(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BerthError('unavailable', 'failed to unpack build context: no space left on device', { cause: err });
  }
  if (err instanceof BerthError) {
    if (err.message.startsWith('failed to read build context') || err.message.startsWith('build context is larger')) return err;
    if (err.code === 'invalid_argument') return readFailure(err.message.replace(/^invalid layer tar: /, ''), err);
    return err;
  }
  if (code?.startsWith('Z_') || code === 'ERR_STREAM_PREMATURE_CLOSE') return readFailure(messageOf(err), err);
  return new BerthError('internal', `failed to unpack build context: ${messageOf(err)}`, { cause: err });
}
