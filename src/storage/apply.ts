// The layer applier: a (compressed) OCI layer tar stream -> an overlayfs diff
// directory. The tar is parsed and written synchronously inside one Writable
// (no per-entry promises or streams), so the only asynchrony is the
// decompressor, which runs in zlib's threadpool or a zstd child process and
// keeps decompressing while we write files.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Duplex, PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { BerthError } from '../errors/index.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, sys } from '../native/index.js';
import type { Digest } from '../util/index.js';
import { TarParser, type TarHeader, type TarSink } from '../util/tar.js';
import type { ApplyOptions, ApplyResult, Compression, LayerApplier } from './types.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';
const AUFS_META = '.wh..wh.';
const OPAQUE_XATTR = 'trusted.overlay.opaque';

const escapes = (name: string) => new BerthError('invalid_argument', `layer entry ${JSON.stringify(name)} escapes the root`);
const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Lexically clean a tar path to a relative one; leading '/' is dropped (as docker does), '..' above the root is refused. */
export function cleanEntryPath(name: string): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw escapes(name);
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

const parentOf = (rel: string) => {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
};

/** Writes entries under `root`, never following a symlink: parents are checked with lstat and cached. */
class Extractor {
  #verified = new Set<string>(['']); // relative dirs known to be real directories inside root
  #dirTimes: { path: string; mtime: number }[] = [];
  #fd = -1;
  unpackedSize = 0;
  /** directories made only because an entry lives inside them (no entry of their own) */
  readonly implied = new Set<string>();

  constructor(readonly root: string) {}

  #abs(rel: string): string {
    return rel === '' ? this.root : this.root + '/' + rel;
  }

  onEntry(h: TarHeader): TarSink | null {
    const rel = cleanEntryPath(h.name);
    if (rel === '') return null; // the layer root itself: the snapshot dir's metadata is ours
    if (rel.startsWith(AUFS_META)) return null; // aufs metadata (.wh..wh.plnk/...), as docker skips it
    const parent = parentOf(rel);
    const base = rel.slice(parent.length === 0 ? 0 : parent.length + 1);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.#ensureDir(parent, h.name);
      if (base === OPAQUE) {
        sys.lsetxattr(this.#abs(parent), OPAQUE_XATTR, Buffer.from('y'));
      } else if (!base.startsWith(AUFS_META)) {
        // .wh.NAME -> overlay whiteout: a 0/0 character device at NAME
        const hidden = base.slice(WHITEOUT_PREFIX.length);
        if (hidden === '' || hidden === '.' || hidden === '..') throw new BerthError('invalid_argument', `invalid whiteout ${JSON.stringify(h.name)}`);
        const target = parent === '' ? hidden : parent + '/' + hidden;
        this.#create(target, () => sys.mknod(this.#abs(target), S_IFCHR, 0, 0));
      } // other .wh..wh. names are aufs metadata: skipped
      return null;
    }

    this.#ensureDir(parent, h.name);
    const path = this.#abs(rel);
    switch (h.type) {
      case 'file':
        return this.#file(rel, path, h);
      case 'directory':
        this.#directory(rel, path, h);
        return null;
      case 'symlink':
        this.#create(rel, () => symlinkSync(h.linkname, path));
        lchownSync(path, h.uid, h.gid);
        this.#xattrs(path, h);
        lutimesSync(path, h.mtime, h.mtime);
        return null;
      case 'link':
        this.#hardlink(rel, path, h);
        return null;
      case 'char':
      case 'block':
      case 'fifo': {
        const kind = h.type === 'char' ? S_IFCHR : h.type === 'block' ? S_IFBLK : S_IFIFO;
        this.#create(rel, () => sys.mknod(path, kind | h.mode, h.devmajor, h.devminor));
        this.#metadata(path, h);
        lutimesSync(path, h.mtime, h.mtime);
        return null;
      }
    }
  }

  /** After the last entry: directory mtimes, since creating entries inside changed them. */
  finish(): void {
    for (let i = this.#dirTimes.length - 1; i >= 0; i--) {
      const { path, mtime } = this.#dirTimes[i]!;
      lutimesSync(path, mtime, mtime);
    }
  }

  /** On failure: close a file left open mid-entry. */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #file(rel: string, path: string, h: TarHeader): TarSink {
    this.#create(rel, () => {
      this.#fd = openSync(path, CREATE_FLAGS, 0o600);
    });
    this.unpackedSize += h.size;
    const end = () => {
      const fd = this.#fd;
      fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode); // after chown, which clears setuid/setgid
      this.#xattrs(path, h);
      futimesSync(fd, h.mtime, h.mtime);
      this.#fd = -1;
      closeSync(fd);
    };
    if (h.size === 0) {
      end();
      return { data() {}, end() {} };
    }
    return {
      data: (chunk) => {
        let off = 0;
        while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off);
      },
      end,
    };
  }

  #directory(rel: string, path: string, h: TarHeader): void {
    try {
      mkdirSync(path, 0o755);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      // An existing directory is kept (its contents merge); anything else is replaced.
      if (!lstatSync(path).isDirectory()) {
        this.#remove(rel);
        mkdirSync(path, 0o755);
      }
    }
    this.#verified.add(rel);
    this.implied.delete(rel);
    this.#metadata(path, h);
    this.#dirTimes.push({ path, mtime: h.mtime });
  }

  #hardlink(rel: string, path: string, h: TarHeader): void {
    const targetRel = cleanEntryPath(h.linkname);
    if (targetRel === '') throw escapes(h.name);
    this.#ensureDir(parentOf(targetRel), h.name, false);
    const target = this.#abs(targetRel);
    const st = lstatSync(target, { throwIfNoEntry: false });
    if (!st || st.isDirectory()) {
      throw new BerthError('invalid_argument', `layer entry ${JSON.stringify(h.name)}: hardlink target ${JSON.stringify(h.linkname)} is not an earlier file of the layer`);
    }
    if (targetRel === rel) return;
    this.#create(rel, () => linkSync(target, path));
  }

  /** chown before chmod (chown clears setuid); no chmod through symlinks. */
  #metadata(path: string, h: TarHeader): void {
    lchownSync(path, h.uid, h.gid);
    chmodSync(path, h.mode);
    this.#xattrs(path, h);
  }

  #xattrs(path: string, h: TarHeader): void {
    if (!h.xattrs) return;
    for (const [name, value] of h.xattrs) {
      // overlay's own attributes would let a layer forge redirects or metacopy; never taken from a tar
      if (name.startsWith('trusted.overlay.')) continue;
      sys.lsetxattr(path, name, value);
    }
  }

  /** Run `make`; if something is already at `rel`, remove it and retry once (a later entry replaces an earlier). */
  #create(rel: string, make: () => void): void {
    try {
      make();
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      this.#remove(rel);
      make();
    }
  }

  #remove(rel: string): void {
    const path = this.#abs(rel);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      rmSync(path, { recursive: true, force: true });
      for (const d of this.#verified) if (d === rel || d.startsWith(rel + '/')) this.#verified.delete(d);
    } else {
      unlinkSync(path);
    }
  }

  /** Make sure `rel` is a real directory inside root (creating missing ones when `create`), never through a symlink. */
  #ensureDir(rel: string, entry: string, create = true): void {
    if (this.#verified.has(rel)) return;
    this.#ensureDir(parentOf(rel), entry, create);
    const path = this.#abs(rel);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) {
      if (!create) throw new BerthError('invalid_argument', `layer entry ${JSON.stringify(entry)}: ${JSON.stringify(rel)} does not exist`);
      mkdirSync(path, 0o755);
      this.implied.add(rel);
    } else if (st.isSymbolicLink()) {
      throw escapes(entry);
    } else if (!st.isDirectory()) {
      throw new BerthError('invalid_argument', `layer entry ${JSON.stringify(entry)}: ${JSON.stringify(rel)} is not a directory`);
    }
    this.#verified.add(rel);
  }
}

/** Read at least `n` bytes (or to the end) and put them back, to sniff the format. */
function peek(stream: Readable, n: number): Promise<{ head: Buffer; source: Readable }> {
  return new Promise((resolvePeek, reject) => {
    const parts: Buffer[] = [];
    let have = 0;
    const done = (err: Error | null, ended: boolean) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (err) return reject(err);
      const head = Buffer.concat(parts);
      if (ended) return resolvePeek({ head, source: Readable.from(head.length ? [head] : []) });
      stream.unshift(head);
      resolvePeek({ head, source: stream });
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (have < n && (chunk = stream.read() as Buffer | null) !== null) {
        parts.push(chunk);
        have += chunk.length;
      }
      if (have >= n) done(null, false);
    };
    const onEnd = () => done(null, true);
    const onError = (err: Error) => done(err, false);
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  return 'none';
}

interface Decompressor {
  stream: Duplex;
  /** Resolves when the decompressor has exited cleanly (child processes). */
  done: Promise<void>;
  kill(): void;
}

function zstdDecompressor(): Decompressor {
  // Node >= 22.15 has zstd in zlib; Node 20 does not, so we pipe through zstd(1).
  const native = (zlib as unknown as { createZstdDecompress?: () => Duplex }).createZstdDecompress;
  if (typeof native === 'function') return { stream: native(), done: Promise.resolve(), kill() {} };
  const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const stream = Duplex.from({ writable: child.stdin, readable: child.stdout });
  const done = new Promise<void>((resolveDone, reject) => {
    child.on('error', (err) => reject(new BerthError('unavailable', `cannot run zstd to decompress the layer: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      if (code === 0) resolveDone();
      else reject(new BerthError('invalid_argument', `zstd decompression failed (${signal ?? code}): ${stderr.trim()}`));
    });
  });
  done.catch((err: Error) => stream.destroy(err));
  return {
    stream,
    done,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export const applyLayer: LayerApplier = async (layer: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> => {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const { head, source } = await peek(layer, 4);
  const compression = !opts.compression || opts.compression === 'auto' ? sniffCompression(head) : opts.compression;

  const extractor = new Extractor(root);
  const parser = new TarParser((h) => extractor.onEntry(h));
  const hash = createHash('sha256');
  let tarSize = 0;
  const sink = new Writable({
    highWaterMark: 4 << 20,
    write(chunk: Buffer, _enc, cb) {
      // The digest covers every byte, including end-of-archive blocks and anything after them.
      hash.update(chunk);
      tarSize += chunk.length;
      try {
        parser.push(chunk);
      } catch (err) {
        return cb(err as Error);
      }
      cb();
    },
    final(cb) {
      try {
        parser.finish();
        extractor.finish();
      } catch (err) {
        return cb(err as Error);
      }
      cb();
    },
  });

  let decompressor: Decompressor | null = null;
  if (compression === 'gzip') {
    const gunzip = zlib.createGunzip({ chunkSize: 256 << 10 });
    decompressor = { stream: gunzip, done: Promise.resolve(), kill() {} };
  } else if (compression === 'zstd') {
    decompressor = zstdDecompressor();
  }
  try {
    if (decompressor) await Promise.all([pipeline(source, decompressor.stream, sink), decompressor.done]);
    else await pipeline(source, sink);
  } catch (err) {
    decompressor?.kill();
    if (err instanceof BerthError) throw err;
    if (errno(err)?.startsWith('Z_')) throw new BerthError('invalid_argument', `invalid layer: ${(err as Error).message}`, { cause: err });
    throw err;
  } finally {
    extractor.close();
  }
  const diffId: Digest = `sha256:${hash.digest('hex')}`;
  return { diffId, tarSize, unpackedSize: extractor.unpackedSize, impliedDirs: [...extractor.implied] };
};

/**
 * The uncompressed bytes of a (gzip, zstd or plain) layer stream, for
 * consumers other than the applier (docker save writes uncompressed layers).
 */
export function decompress(layer: Readable, compression: Compression | 'auto' = 'auto'): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  (async () => {
    const { head, source } = await peek(layer, 4);
    const kind = compression === 'auto' ? sniffCompression(head) : compression;
    if (kind === 'none') return pipeline(source, out);
    const d = kind === 'gzip' ? { stream: zlib.createGunzip({ chunkSize: 256 << 10 }), done: Promise.resolve(), kill() {} } : zstdDecompressor();
    try {
      await Promise.all([pipeline(source, d.stream, out), d.done]);
    } catch (err) {
      d.kill();
      throw err;
    }
  })().catch((err: Error) => out.destroy(err));
  return out;
}

/**
 * Directories a layer only implies (it has entries inside them but no entry
 * for the directory) were made 0755 root:root; in the merged view they would
 * hide the lower layer's owner and mode. Copy those from the nearest lower
 * layer that has the directory, as containerd does. `lowerDirs` top first.
 */
export function inheritImpliedDirs(dir: string, impliedDirs: readonly string[], lowerDirs: readonly string[]): void {
  for (const rel of impliedDirs) {
    for (const lower of lowerDirs) {
      const st = lstatSync(lower + '/' + rel, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        const path = dir + '/' + rel;
        lchownSync(path, st.uid, st.gid);
        chmodSync(path, st.mode & 0o7777);
        lutimesSync(path, st.atime, st.mtime);
      }
      break;
    }
  }
}
