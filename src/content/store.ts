// Local content store in the OCI image layout: <root>/oci-layout,
// <root>/blobs/sha256/<hex>, in-flight writes in <root>/ingest/<random>.
// A blob becomes visible only by rename after fsync and a digest check, so a
// crash leaves at worst an ingest file, which `open` sweeps.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, statSync, write, writev, fsync, close as closeFd, open as openFd } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { BerthError, notFound } from '../errors/index.js';
import { hexOf, isDigest, syncDir, writeFileAtomic, type Digest } from '../util/index.js';
import type { BlobInfo, ContentStore, Expected, Ingest } from './types.js';

const fsyncAsync = promisify(fsync);
const closeAsync = promisify(closeFd);
const openAsync = promisify(openFd);

function checkDigest(digest: string): Digest {
  if (!isDigest(digest)) throw new BerthError('invalid_argument', `invalid digest: ${JSON.stringify(digest)}`);
  return digest;
}

function verify(expected: Expected | undefined, actual: BlobInfo): void {
  if (expected?.digest !== undefined && expected.digest !== actual.digest) {
    throw new BerthError('invalid_argument', `digest mismatch: expected ${expected.digest}, got ${actual.digest}`);
  }
  if (expected?.size !== undefined && expected.size !== actual.size) {
    throw new BerthError('invalid_argument', `size mismatch for ${actual.digest}: expected ${expected.size} bytes, got ${actual.size}`);
  }
}

/** Writes to an open fd, hashing each chunk as it passes; Writable's buffer gives backpressure. */
class HashingFileWriter extends Writable {
  readonly hash: Hash = createHash('sha256');
  written = 0;
  constructor(readonly fd: number) {
    super({ highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.written += chunk.length;
    this.#writeAll(chunk, 0, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    let total = 0;
    for (const b of bufs) {
      this.hash.update(b);
      total += b.length;
    }
    this.written += total;
    writev(this.fd, bufs, (err, n) => {
      if (err) return cb(err);
      if (n === total) return cb();
      // A short writev: finish the remainder one buffer at a time.
      this.#writeAll(Buffer.concat(bufs), n, cb);
    });
  }

  #writeAll(buf: Buffer, offset: number, cb: (err?: Error | null) => void): void {
    if (offset >= buf.length) return cb();
    write(this.fd, buf, offset, buf.length - offset, null, (err, n) => {
      if (err) return cb(err);
      this.#writeAll(buf, offset + n, cb);
    });
  }
}

class FileIngest implements Ingest {
  #done = false;
  readonly #writer: HashingFileWriter;
  constructor(
    readonly store: LocalContentStore,
    readonly file: string,
    fd: number,
    readonly expected: Expected | undefined,
  ) {
    this.#writer = new HashingFileWriter(fd);
  }

  get stream(): Writable {
    return this.#writer;
  }

  get written(): number {
    return this.#writer.written;
  }

  async commit(): Promise<BlobInfo> {
    if (this.#done) throw new BerthError('conflict', 'ingest already committed or aborted');
    this.#done = true;
    const w = this.#writer;
    try {
      if (!w.writableEnded) w.end();
      await finished(w);
      await fsyncAsync(w.fd);
    } catch (err) {
      await this.#cleanup();
      throw err;
    }
    await closeAsync(w.fd);
    const info: BlobInfo = { digest: `sha256:${w.hash.digest('hex')}`, size: w.written };
    try {
      verify(this.expected, info);
    } catch (err) {
      await rm(this.file, { force: true });
      throw err;
    }
    await this.store.moveIntoPlace(this.file, info.digest);
    return info;
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#cleanup();
  }

  async #cleanup(): Promise<void> {
    const w = this.#writer;
    if (!w.destroyed) w.destroy();
    await finished(w).catch(() => undefined);
    await closeAsync(w.fd).catch(() => undefined);
    await rm(this.file, { force: true });
  }
}

export class LocalContentStore implements ContentStore {
  readonly #blobs: string;
  readonly #ingests: string;

  private constructor(readonly root: string) {
    this.#blobs = join(root, 'blobs', 'sha256');
    this.#ingests = join(root, 'ingest');
  }

  /** Create or open a store; removes ingests left by a crash (one daemon owns a root). */
  static async open(root: string): Promise<LocalContentStore> {
    const store = new LocalContentStore(root);
    await mkdir(store.#blobs, { recursive: true });
    await rm(store.#ingests, { recursive: true, force: true });
    await mkdir(store.#ingests, { recursive: true });
    const layout = join(root, 'oci-layout');
    if (!(await stat(layout).catch(() => undefined))) {
      await writeFileAtomic(layout, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
    return store;
  }

  path(digest: Digest): string {
    return join(this.#blobs, hexOf(checkDigest(digest)));
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    const st = await stat(this.path(digest)).catch(() => undefined);
    return st?.isFile() ? { digest, size: st.size } : undefined;
  }

  /** Throws 'not_found' synchronously when the blob is absent. */
  read(digest: Digest, range?: { start?: number; end?: number }): Readable {
    const file = this.path(digest);
    if (!statSync(file, { throwIfNoEntry: false })) throw notFound(`content ${digest}: not found`);
    return createReadStream(file, { start: range?.start, end: range?.end, highWaterMark: 1 << 20 });
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`content ${digest}: not found`, { cause: err });
      throw err;
    }
  }

  async put(data: Uint8Array, expected?: Expected): Promise<BlobInfo> {
    const info: BlobInfo = { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.byteLength };
    verify(expected, info);
    if (await this.info(info.digest)) return info;
    const file = this.#ingestPath();
    try {
      const fh = await open(file, 'wx', 0o644);
      try {
        await writeFile(fh, data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    await this.moveIntoPlace(file, info.digest);
    return info;
  }

  async ingest(expected?: Expected): Promise<Ingest> {
    if (expected?.digest !== undefined) checkDigest(expected.digest);
    const file = this.#ingestPath();
    // A raw fd, not a FileHandle: a FileHandle would be closed by GC under us.
    const fd = await openAsync(file, 'wx', 0o644);
    return new FileIngest(this, file, fd, expected);
  }

  /** 'not_found' when absent. */
  async delete(digest: Digest): Promise<void> {
    const file = this.path(digest);
    try {
      await rm(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`content ${digest}: not found`, { cause: err });
      throw err;
    }
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const name of (await readdir(this.#blobs)).sort()) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const st = await stat(join(this.#blobs, name)).catch(() => undefined);
      if (st?.isFile()) yield { digest, size: st.size };
    }
  }

  /** @internal Rename a verified, fsynced ingest file to its blob name. An existing blob holds the same bytes. */
  async moveIntoPlace(file: string, digest: Digest): Promise<void> {
    try {
      await rename(file, this.path(digest));
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    await syncDir(this.#blobs);
  }

  #ingestPath(): string {
    return join(this.#ingests, randomBytes(12).toString('hex'));
  }
}
