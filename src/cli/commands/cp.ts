// cp, export and commit, following the docker CLI: cp decides on the client
// which directory to extract into and how to rename the archive's root entry
// (pkg/archive's CopyInfoSourcePath / CopyInfoDestinationPath /
// PrepareArchiveCopy), so the daemon only ever archives one path or extracts
// into one directory.
import { createWriteStream, type Stats } from 'node:fs';
import { chmod, lstat, link, lutimes, mkdir, open, readdir, readlink, realpath, rename, rm, stat, symlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fullName, parseReference } from '../../reference/index.js';
import { encodeHeader, END_OF_ARCHIVE, padding, TarParser, type TarHeader } from '../../util/index.js';
import { ApiError, readAll } from '../client.js';
import { bool, CliError, list, str, type CommandContext, type Handler } from '../context.js';
import { UsageError } from '../args.js';
import { humanSizeWithPrecision } from '../format/units.js';

/** Docker's ContainerPathStat, from the X-Docker-Container-Path-Stat header. */
interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const isDirMode = (mode: number) => mode >= MODE_DIR;
const isSymlinkMode = (mode: number) => Math.floor(mode / MODE_SYMLINK) % 2 === 1;

/** "CONTAINER:PATH" or a local path (absolute, or starting with "." like ./a:b). */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

const hasTrailingSeparator = (p: string) => p.length > 1 && p.endsWith('/');
const specifiesCurrentDir = (p: string) => posix.basename(p) === '.';

/** Keep a trailing "/" or "/." the cleaning dropped: they say "this is a directory". */
function preserveTrailing(cleaned: string, original: string): string {
  if (specifiesCurrentDir(original) && !specifiesCurrentDir(cleaned)) return `${cleaned.replace(/\/$/, '')}/.`;
  if (hasTrailingSeparator(original) && !hasTrailingSeparator(cleaned)) return `${cleaned}/`;
  return cleaned;
}

/** pkg/archive's SplitPathDirEntry: "/a/b/." -> ["/a/b", "."], "/a/b/" -> ["/a", "b"]. */
export function splitPathDirEntry(path: string): [string, string] {
  let cleaned = posix.normalize(path);
  if (cleaned.length > 1) cleaned = cleaned.replace(/\/$/, '');
  if (specifiesCurrentDir(path)) cleaned = `${cleaned === '/' ? '' : cleaned}/.`;
  return [posix.dirname(cleaned), posix.basename(cleaned) || '/'];
}

/** What an archive copy needs to know of a source or destination. */
interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

function rebaseNameOf(path: string, resolved: string): [string, string] {
  let out = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(out)) out += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(out)) out += '/';
  return [out, posix.basename(path) !== posix.basename(out) ? posix.basename(path) : ''];
}

/**
 * pkg/archive's PrepareArchiveCopy: the directory to extract into and the
 * renaming of the archive's root entry (old base -> new base), or docker's
 * error for the combination.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase: [string, string] | null } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path, rebase: null };
  if (dst.exists && src.isDir) throw new CliError('cannot copy directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  if (!dst.exists && !src.isDir && (hasTrailingSeparator(dst.path) || specifiesCurrentDir(dst.path))) throw new CliError('no such directory');
  return { dstDir, rebase: [srcBase, dstBase] };
}

/** RebaseArchiveEntries: the first occurrence of oldBase in a name becomes newBase. */
const rebaseName = (name: string, rebase: [string, string] | null) => (rebase ? name.replace(rebase[0], rebase[1]) : name);

// ---- local tar writing and reading ---------------------------------------------

async function* fileBytes(path: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) {
        yield Buffer.alloc(left); // shrank under us: keep the tar well-formed
        break;
      }
      left -= bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
  if (padding(size)) yield Buffer.alloc(padding(size));
}

async function* walkLocal(path: string, name: string, seen: Map<string, string>): AsyncGenerator<Buffer> {
  const st = await lstat(path);
  const h: TarHeader = {
    name,
    type: 'file',
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: null,
  };
  if (st.isDirectory()) {
    yield encodeHeader({ ...h, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
    for (const child of (await readdir(path)).sort()) yield* walkLocal(join(path, child), `${name.replace(/\/$/, '')}/${child}`, seen);
  } else if (st.isSymbolicLink()) {
    yield encodeHeader({ ...h, type: 'symlink', linkname: await readlink(path) });
  } else if (st.isFIFO()) {
    yield encodeHeader({ ...h, type: 'fifo' });
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? seen.get(key) : undefined;
    if (first !== undefined) {
      yield encodeHeader({ ...h, type: 'link', linkname: first });
      return;
    }
    if (st.nlink > 1) seen.set(key, name);
    yield encodeHeader({ ...h, size: st.size });
    yield* fileBytes(path, st.size);
  } // devices and sockets are not copied by cp
}

/** TarResourceRebase: an archive of one local path, its root entry named `name`. */
function tarLocal(path: string, name: string): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    yield* walkLocal(path, name, new Map());
    yield END_OF_ARCHIVE;
  }
  return Readable.from(all());
}

function cleanName(name: string): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) throw new CliError(`invalid archive: ${JSON.stringify(name)} escapes the destination`);
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

const within = (root: string, p: string) => p === root || p.startsWith(root === '/' ? '/' : `${root}/`);

/**
 * Untar into dstDir as the docker CLI does (owners not changed, directories
 * not replaced by files or the reverse), with nothing written outside dstDir.
 */
async function untarLocal(tar: Readable, dstDir: string, rebase: [string, string] | null): Promise<void> {
  const root = await realpath(dstDir);
  type Job = { h: TarHeader; data: Buffer[] };
  const jobs: Job[] = [];
  let current: Job | null = null;
  const parser = new TarParser((h) => {
    current = { h, data: [] };
    jobs.push(current);
    const job = current;
    return { data: (c) => job.data.push(Buffer.from(c)), end: () => {} };
  });
  const dirTimes: { path: string; mtime: number }[] = [];
  const apply = async (job: Job) => {
    const { h } = job;
    const rel = cleanName(rebaseName(h.name, rebase));
    if (rel === '') return;
    const target = join(root, rel);
    const parent = dirname(target);
    await mkdir(parent, { recursive: true, mode: 0o755 });
    if (!within(root, await realpath(parent))) throw new CliError(`invalid archive: ${JSON.stringify(h.name)} would be written outside ${dstDir}`);
    const existing = await lstat(target).catch(() => null);
    if (existing) {
      if (existing.isDirectory() && h.type !== 'directory') throw new CliError(`cannot overwrite directory "${target}" with non-directory "${h.name}"`);
      if (!existing.isDirectory() && h.type === 'directory') throw new CliError(`cannot overwrite non-directory "${target}" with directory "${h.name}"`);
      if (!existing.isDirectory()) await rm(target, { force: true });
    }
    switch (h.type) {
      case 'directory':
        if (!existing) await mkdir(target, { mode: h.mode & 0o7777 });
        await chmod(target, h.mode & 0o7777);
        dirTimes.push({ path: target, mtime: h.mtime });
        break;
      case 'file': {
        const fh = await open(target, 'wx', 0o600);
        try {
          for (const chunk of job.data) await fh.write(chunk);
          await fh.chmod(h.mode & 0o7777);
          await fh.utimes(h.mtime, h.mtime);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'symlink':
        await symlink(h.linkname, target);
        await lutimes(target, h.mtime, h.mtime).catch(() => {});
        break;
      case 'link':
        await link(join(root, cleanName(rebaseName(h.linkname, rebase))), target);
        break;
      default:
        break; // devices and fifos: not created by an unprivileged-safe cp
    }
  };
  for await (const chunk of tar) {
    parser.push(chunk as Buffer);
    // Entries are written once complete; content of the last may still be arriving.
    while (jobs.length > 1) await apply(jobs.shift() as Job);
  }
  parser.finish();
  while (jobs.length) await apply(jobs.shift() as Job);
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime);
}

// ---- cp ---------------------------------------------------------------------------

const progressSize = (n: number) => humanSizeWithPrecision(n, 3);

function counter(): { stream: Transform; bytes: () => number } {
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, bytes: () => n };
}

async function statContainerPath(ctx: CommandContext, container: string, path: string): Promise<PathStat> {
  try {
    const res = await ctx.client().request('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
    await readAll(res);
    return decodeStat(res.headers['x-docker-container-path-stat']);
  } catch (err) {
    // A HEAD reply has no body to carry the daemon's message: the docker CLI words it itself.
    if (err instanceof ApiError && err.status === 404) throw new CliError(`Error: No such container:path: ${container}:${path}`);
    throw err;
  }
}

function decodeStat(header: string | string[] | undefined): PathStat {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) throw new CliError('unable to get resource stat from response: no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as PathStat;
}

function localAbsolute(path: string): string {
  return preserveTrailing(resolve(path), path);
}

async function copyFromContainer(ctx: CommandContext, container: string, srcPathIn: string, dstPathIn: string, opts: { followLink: boolean; quiet: boolean }): Promise<void> {
  let srcPath = srcPathIn;
  const dstPath = dstPathIn === '-' ? '-' : localAbsolute(dstPathIn);
  if (dstPath !== '-') {
    const parent = dirname(dstPath.replace(/\/\.?$/, '') || '/');
    if (!(await stat(parent).catch(() => null))) throw new CliError(`invalid output path: directory "${parent}" does not exist`);
  }
  let srcRebase = '';
  if (opts.followLink) {
    const st = await statContainerPath(ctx, container, srcPath);
    if (isSymlinkMode(st.mode)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(srcPath)[0], target);
      [srcPath, srcRebase] = rebaseNameOf(srcPath, target);
    }
  }
  const res = await ctx.client().request('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: srcPath } });
  const stat0 = decodeStat(res.headers['x-docker-container-path-stat']);
  const count = counter();
  if (dstPath === '-') {
    await pipeline(res, ctx.stdout as NodeJS.WritableStream);
    return;
  }
  const src: CopyInfo = { path: srcPath, exists: true, isDir: isDirMode(stat0.mode), rebaseName: srcRebase };
  const dst = await localDestination(dstPath);
  let first: [string, string] | null = null;
  if (srcRebase) first = [splitPathDirEntry(srcPath)[1], srcRebase];
  const { dstDir, rebase } = prepareArchiveCopy(src, dst);
  const chained: [string, string] | null = first && rebase ? [first[0], rebase[1]] : (rebase ?? first);
  await untarLocal(res.pipe(count.stream), dstDir, chained);
  if (!opts.quiet) ctx.stderr.write(`Successfully copied ${progressSize(count.bytes())} to ${dstPath}\n`);
}

/** CopyInfoDestinationPath: follow symlinks at the destination; its parent must be a directory. */
async function localDestination(path: string): Promise<CopyInfo> {
  let p = path;
  for (let n = 0; n <= 10; n++) {
    const st: Stats | null = await lstat(p).catch(() => null);
    if (st && !st.isSymbolicLink()) return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
    if (!st) {
      const parent = splitPathDirEntry(p)[0];
      const pst = await stat(parent).catch(() => null);
      if (!pst) throw new CliError(`stat ${parent}: no such file or directory`);
      if (!pst.isDirectory()) throw new CliError('not a directory');
      return { path: p, exists: false, isDir: false, rebaseName: '' };
    }
    const target = await readlink(p);
    p = target.startsWith('/') ? target : join(splitPathDirEntry(p)[0], target);
  }
  throw new CliError(`too many symlinks in ${path}`);
}

async function copyToContainer(ctx: CommandContext, container: string, srcPath: string, dstPath: string, opts: { followLink: boolean; quiet: boolean; copyUIDGID: boolean }): Promise<void> {
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let st: PathStat | null = null;
  try {
    st = await statContainerPath(ctx, container, dstPath);
    if (isSymlinkMode(st.mode)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(dstPath)[0], target);
      dst.path = target;
      st = await statContainerPath(ctx, container, target);
    }
  } catch (err) {
    // A missing destination is fine when its parent exists; the extraction says if it does not.
    if (!(err instanceof CliError)) throw err;
    st = null;
  }
  if (st) {
    dst.exists = true;
    dst.isDir = isDirMode(st.mode);
  }
  let body: Readable;
  let dstDir: string;
  if (srcPath === '-') {
    if (!dst.isDir) throw new CliError(`destination "${container}:${dstPath}" must be a directory`);
    body = ctx.stdin;
    dstDir = dst.path;
  } else {
    const local = localAbsolute(srcPath);
    let resolvedPath: string;
    let srcRebase = '';
    if (opts.followLink) {
      const real = await realpath(local).catch(() => {
        throw new CliError(`lstat ${local}: no such file or directory`);
      });
      [resolvedPath, srcRebase] = rebaseNameOf(local, real);
    } else {
      const [dir, base] = splitPathDirEntry(local);
      const realDir = await realpath(dir).catch(() => dir);
      resolvedPath = preserveTrailing(join(realDir, base), local);
    }
    const sst = await lstat(resolvedPath).catch(() => null);
    if (!sst) throw new CliError(`lstat ${resolvedPath.replace(/\/\.?$/, '')}: no such file or directory`);
    const src: CopyInfo = { path: resolvedPath, exists: true, isDir: sst.isDirectory(), rebaseName: srcRebase };
    const prepared = prepareArchiveCopy(src, dst);
    dstDir = prepared.dstDir;
    const [sourceDir, sourceBase] = splitPathDirEntry(resolvedPath);
    const rootName = rebaseName(srcRebase || sourceBase, prepared.rebase);
    body = tarLocal(sourceBase === '.' ? sourceDir : join(sourceDir, sourceBase), rootName === '.' ? '.' : rootName);
  }
  const count = counter();
  const res = await ctx.client().request('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
    query: { path: dstDir, noOverwriteDirNonDir: 'true', copyUIDGID: opts.copyUIDGID ? 'true' : undefined },
    headers: { 'Content-Type': 'application/x-tar' },
    body: body.pipe(count.stream),
  });
  await readAll(res);
  if (!opts.quiet) ctx.stderr.write(`Successfully copied ${progressSize(count.bytes())} to ${container}:${dst.path}\n`);
}

export const cp: Handler = async (ctx, { flags, args }) => {
  const [source = '', destination = ''] = args;
  if (!source) throw new UsageError('source can not be empty', 125);
  if (!destination) throw new UsageError('destination can not be empty', 125);
  const src = splitCpArg(source);
  const dst = splitCpArg(destination);
  const followLink = bool(flags, 'follow-link');
  // as the docker CLI: progress only on a terminal
  const quiet = bool(flags, 'quiet') || !ctx.stderr.isTTY;
  if (src.container && dst.container) throw new CliError('copying between containers is not supported');
  if (src.container) {
    if (!src.path) throw new CliError('source path can not be empty');
    return copyFromContainer(ctx, src.container, src.path, dst.path, { followLink, quiet });
  }
  if (dst.container) {
    if (!dst.path) throw new CliError('destination path can not be empty');
    return copyToContainer(ctx, dst.container, src.path, dst.path, { followLink, quiet, copyUIDGID: bool(flags, 'archive') });
  }
  throw new CliError('must specify at least one container source');
};

// ---- export and commit --------------------------------------------------------------

export const exportContainer: Handler = async (ctx, { flags, args }) => {
  const output = str(flags, 'output');
  if (!output && ctx.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await ctx.client().request('GET', `/containers/${encodeURIComponent(args[0] as string)}/export`);
  if (!output) {
    await pipeline(res, ctx.stdout as NodeJS.WritableStream);
    return;
  }
  // beside the target and renamed, so a failed export leaves no half file
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  try {
    await pipeline(res, createWriteStream(tmp, { mode: 0o644 }) as Writable);
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CliError(`failed to export container: ${(err as Error).message}`);
  }
};

export const commit: Handler = async (ctx, { flags, args }) => {
  const [container, reference] = args as [string, string | undefined];
  let repo: string | undefined;
  let tag: string | undefined;
  if (reference) {
    let ref;
    try {
      ref = parseReference(reference);
    } catch (err) {
      throw new CliError(`invalid reference format: ${(err as Error).message}`);
    }
    if (ref.digest) throw new CliError('refusing to create a tag with a digest reference');
    repo = fullName(ref);
    tag = ref.tag;
  }
  const reply = await ctx.client().json<{ Id: string }>('POST', '/commit', {
    query: {
      container,
      repo,
      tag,
      comment: str(flags, 'message') || undefined,
      author: str(flags, 'author') || undefined,
      pause: bool(flags, 'pause'),
      changes: list(flags, 'change'),
    },
  });
  ctx.stdout.write(`${reply.Id}\n`);
};
