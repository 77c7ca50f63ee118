// The client side of a build context, as docker's CLI prepares it: a
// directory becomes a tar (.dockerignore applied, by src/build/context), a
// tar file or a tar on stdin is sent as it is, a Dockerfile on stdin becomes a
// tar holding just `Dockerfile`, and a Dockerfile from outside the context
// (or `-f -`) is added under a random name. Everything is streamed.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { CliError } from './context.js';
import { readAll } from './client.js';

export const DEFAULT_DOCKERFILE = 'Dockerfile';

/** docker's archiveHeaderSize: enough for the ustar magic at offset 257. */
const HEADER_SIZE = 512;

/** Compressed (gzip, bzip2, xz, zstd) or a tar header: docker's IsArchive. */
export function isArchiveHeader(head: Uint8Array): boolean {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const starts = (magic: number[]) => magic.every((v, i) => b[i] === v);
  if (starts([0x1f, 0x8b]) || starts([0x42, 0x5a, 0x68]) || starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || starts([0x28, 0xb5, 0x2f, 0xfd])) return true;
  return b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';
}

const ARCHIVE_SUFFIX = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$/i;

/** Reads up to `n` bytes; the returned stream still yields everything, those bytes first. */
export async function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  await new Promise<void>((resolvePeek, reject) => {
    const onReadable = () => {
      let chunk: Buffer | string | null;
      while (size < n && (chunk = stream.read() as Buffer | string | null) !== null) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        chunks.push(buf);
        size += buf.length;
      }
      if (size >= n) done();
    };
    const onEnd = () => {
      ended = true;
      done();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const done = () => {
      cleanup();
      resolvePeek();
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
  const head = Buffer.concat(chunks);
  const out = new PassThrough();
  out.write(head);
  if (ended) out.end();
  else {
    stream.on('error', (err) => out.destroy(err));
    stream.pipe(out);
  }
  return { head: head.subarray(0, n), stream: out };
}

/** A tar holding one file. */
export async function singleFileTar(name: string, content: Uint8Array): Promise<Readable> {
  const { default: tar } = await import('tar-stream'); // only these cases need it: keep the usual build's start-up small
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644, size: content.byteLength }, Buffer.from(content));
  pack.finalize();
  return pack as unknown as Readable;
}

/**
 * docker's AddDockerfileToBuildContext: the context tar with `name` added
 * and listed in .dockerignore (created if absent), so COPY . never sees it.
 * Entries are passed through one by one, never all held in memory.
 */
export async function addDockerfileToTar(context: Readable, name: string, content: Uint8Array): Promise<Readable> {
  const { default: tar } = await import('tar-stream');
  const extract = tar.extract();
  const pack = tar.pack();
  let dockerignore: Buffer | undefined;
  const fail = (err: Error) => {
    pack.destroy(err);
    extract.destroy(err);
  };
  extract.on('entry', (header, stream, next) => {
    const entryName = header.name.replace(/^\.\//, '');
    if (entryName === '.dockerignore' && header.type === 'file') {
      readAll(stream as unknown as Readable).then((bytes) => {
        dockerignore = bytes;
        next();
      }, fail);
      return;
    }
    const sink = pack.entry(header, (err) => (err ? fail(err) : next()));
    stream.on('error', fail);
    stream.pipe(sink);
  });
  extract.on('finish', () => {
    const ignore = Buffer.concat([dockerignore ?? Buffer.from('.dockerignore'), Buffer.from(`\n${name}\n`)]);
    pack.entry({ name, mode: 0o644, size: content.byteLength }, Buffer.from(content));
    pack.entry({ name: '.dockerignore', mode: 0o644, size: ignore.length }, ignore);
    pack.finalize();
  });
  extract.on('error', fail);
  context.on('error', fail);
  context.pipe(extract as unknown as NodeJS.WritableStream);
  return pack as unknown as Readable;
}

/** docker's name for a Dockerfile added to the context: ".dockerfile." and 20 random hex digits. */
export const randomDockerfileName = (): string => `.dockerfile.${randomBytes(10).toString('hex')}`;

/** The directory-context tar maker (src/build/context), loaded when a build needs it. */
export type CreateContextTar = (dir: string, opts: { dockerfile?: string }) => Readable;

/** Loaded on first use, from the build module's client surface (none of the daemon's side). */
export async function loadCreateContextTar(): Promise<CreateContextTar> {
  return (await import('../build/client.js')).createContextTar;
}

export interface ContextRequest {
  /** PATH as given: a directory, a tar file, or "-" */
  path: string;
  /** -f as given ('' for the default, "-" for stdin) */
  file: string;
  stdin: Readable;
  cwd: string;
  /** injectable for tests; defaults to src/build/context's */
  createContextTar?: CreateContextTar;
}

export interface PreparedContext {
  /** the tar (maybe compressed) to send */
  body: Readable;
  /** the query's `dockerfile`: a path inside the context */
  dockerfile: string;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Go's EvalSymlinks error for a missing path names the first component that is missing. */
async function firstMissing(path: string): Promise<string> {
  let probe = path;
  for (;;) {
    const parent = dirname(probe);
    if (parent === probe) return probe;
    try {
      await lstat(parent);
      return probe;
    } catch {
      probe = parent;
    }
  }
}

/** docker's getDockerfileRelPath: the Dockerfile's path relative to the (symlink-resolved) context. */
async function dockerfileRelPath(contextDir: string, given: string): Promise<string> {
  let abs: string;
  if (given === '') {
    abs = join(contextDir, DEFAULT_DOCKERFILE);
    // As docker: a lower-case "dockerfile" is used when there is no "Dockerfile".
    try {
      await lstat(abs);
    } catch {
      try {
        await lstat(join(contextDir, 'dockerfile'));
        abs = join(contextDir, 'dockerfile');
      } catch {
        /* keep the default for the error below */
      }
    }
  } else {
    abs = isAbsolute(given) ? given : join(contextDir, given);
  }
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    if (errno(err) === 'ENOENT') {
      throw new CliError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${await firstMissing(abs)}: no such file or directory`);
    }
    throw new CliError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: ${(err as Error).message}`);
  }
  return relative(contextDir, real);
}

async function readStdinDockerfile(stdin: Readable): Promise<Buffer> {
  return readAll(stdin);
}

/** Turns PATH and -f into the tar to send and the Dockerfile's name inside it. */
export async function prepareContext(req: ContextRequest): Promise<PreparedContext> {
  const { path, file, stdin } = req;
  if (path === '-') {
    if (file === '-') throw new CliError('invalid argument: can\'t use stdin for both build context and dockerfile');
    const { head, stream } = await peek(stdin, HEADER_SIZE);
    if (isArchiveHeader(head)) return { body: stream, dockerfile: file || DEFAULT_DOCKERFILE };
    // Not an archive: the input is the Dockerfile itself.
    const dockerfile = await readAll(stream);
    return { body: await singleFileTar(DEFAULT_DOCKERFILE, dockerfile), dockerfile: DEFAULT_DOCKERFILE };
  }

  const absPath = resolve(req.cwd, path);
  let info;
  try {
    info = await stat(absPath);
  } catch {
    throw new CliError(`unable to prepare context: path "${path}" not found`);
  }
  if (info.isFile()) {
    const fh = await open(absPath, 'r');
    let head: Buffer;
    try {
      const buf = Buffer.alloc(HEADER_SIZE);
      const { bytesRead } = await fh.read(buf, 0, HEADER_SIZE, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
    if (!ARCHIVE_SUFFIX.test(path) && !isArchiveHeader(head)) throw new CliError(`unable to prepare context: path "${path}" not found`);
    if (file === '-') throw new CliError('unable to prepare context: a Dockerfile from stdin needs a directory context');
    return { body: createReadStream(absPath), dockerfile: file || DEFAULT_DOCKERFILE };
  }
  if (!info.isDirectory()) throw new CliError(`unable to prepare context: path "${path}" not found`);

  let contextDir: string;
  try {
    contextDir = await realpath(absPath);
  } catch (err) {
    throw new CliError(`unable to prepare context: unable to evaluate symlinks in context path: ${(err as Error).message}`);
  }
  // As docker: -f is relative to the current directory, not to the context.
  const given = file && file !== '-' ? resolve(req.cwd, file) : file;
  // A Dockerfile from stdin needs none in the context (`berth build -f - . <<EOF`).
  const rel = file === '-' ? '' : await dockerfileRelPath(contextDir, given);
  const outside = file === '-' || rel === '..' || rel.startsWith(`..${sep}`);
  const createContextTar = req.createContextTar ?? (await loadCreateContextTar());
  if (!outside) {
    const dockerfile = rel.split(sep).join('/');
    return { body: createContextTar(contextDir, { dockerfile }), dockerfile };
  }
  const content = file === '-' ? await readStdinDockerfile(stdin) : await readAll(createReadStream(given));
  const name = randomDockerfileName();
  return { body: await addDockerfileToTar(createContextTar(contextDir, {}), name, content), dockerfile: name };
}
