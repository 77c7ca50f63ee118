// docker cp and docker export on a container's filesystem: paths are resolved
// inside the container's root (symlinks never lead out of it, as moby's
// FollowSymlinkInScope), then mapped through its volume, bind and tmpfs mounts,
// so a path under a volume reads and writes the volume. Tars are written and
// read with our own codec (src/util/tar.ts).
import { lstat, readdir, readlink } from 'node:fs/promises';
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
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { posix } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors/index.js';
import { sys, S_IFBLK, S_IFCHR, S_IFIFO } from '../native/index.js';
import { decompress, encodeHeader, END_OF_ARCHIVE, TarParser, type TarHeader } from '../storage/index.js';
import { fileEntryBody } from '../util/index.js';
import type { RootfsView } from './types.js';

/** Docker's ContainerPathStat (the X-Docker-Container-Path-Stat header, base64 JSON). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits: type bits high, permission bits low */
  mode: number;
  /** RFC 3339 with nanoseconds */
  mtime: string;
  /** for a symlink: its target resolved in the container, as an absolute container path */
  linkTarget: string;
}

/** Go's os.FileMode type bits (uint32; 1<<31 does not fit a JS int, hence 2 ** n). */
export const GoFileMode = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
} as const;

type ViewMount = RootfsView['mounts'][number];

/** Where a container path lives on the host. */
interface Resolved {
  /** the host path */
  host: string;
  /** the cleaned container path it was resolved to (symlinks followed) */
  path: string;
  /** the mount holding it, if any */
  mount: ViewMount | undefined;
}

const MAX_LINKS = 255;

const hasTrailingSeparator = (p: string) => p.length > 1 && p.endsWith('/');
const specifiesCurrentDir = (p: string) => posix.basename(p) === '.' || p.endsWith('/.');

/** The container path as an absolute one, keeping a trailing "/" or "/." (they mean "a directory"). */
function absolute(path: string): string {
  const clean = posix.join('/', path);
  if (specifiesCurrentDir(path) && clean !== '/') return `${clean}/.`;
  if (hasTrailingSeparator(path) && clean !== '/') return `${clean}/`;
  return clean;
}

/** Mounts that have content on the host: a stopped container's tmpfs has none. */
function activeMounts(view: RootfsView): ViewMount[] {
  return view.mounts
    .filter((m) => (m.type !== 'tmpfs' || (view.running && m.source !== '')) && m.destination.startsWith('/'))
    .map((m) => ({ ...m, destination: posix.normalize(m.destination).replace(/(.)\/$/, '$1') }))
    .sort((a, b) => b.destination.length - a.destination.length);
}

function mountOf(mounts: ViewMount[], path: string): ViewMount | undefined {
  return mounts.find((m) => path === m.destination || path.startsWith(m.destination === '/' ? '/' : `${m.destination}/`));
}

function hostOf(view: RootfsView, mounts: ViewMount[], path: string): { host: string; mount: ViewMount | undefined } {
  const mount = mountOf(mounts, path);
  if (mount) return { host: posix.join(mount.source, path.slice(mount.destination.length)), mount };
  return { host: path === '/' ? posix.normalize(view.rootfs).replace(/(.)\/$/, '$1') : posix.join(view.rootfs, path), mount: undefined };
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function resolveScoped(view: RootfsView, mounts: ViewMount[], path: string, followLast: boolean): Resolved {
  let pending = posix.join('/', path).split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      done.pop(); // never above the root
      continue;
    }
    const candidate = '/' + [...done, part].join('/');
    const isLast = pending.length === 0;
    const st = isLast && !followLast ? null : lstatOrNull(hostOf(view, mounts, candidate).host);
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new BerthError('invalid_argument', `too many links in ${path}`);
      const target = readlinkSyncSafe(hostOf(view, mounts, candidate).host);
      const parts = target.split('/').filter((p) => p !== '' && p !== '.');
      if (target.startsWith('/')) done.length = 0;
      pending = [...parts, ...pending];
      continue;
    }
    done.push(part);
  }
  const resolved = '/' + done.join('/');
  return { path: resolved, ...hostOf(view, mounts, resolved) };
}

function readlinkSyncSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch (err) {
    throw new BerthError('internal', `readlink ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A container path on the host, symlinks resolved inside the container's root
 * (`..` and absolute links never leave it) and then mapped through its mounts.
 * With followLast false a final symlink is not followed (as docker cp's source).
 */
export function resolveInRootfs(view: RootfsView, path: string, opts: { followLast?: boolean } = {}): string {
  return resolveScoped(view, activeMounts(view), path, opts.followLast ?? false).host;
}

/** The not-found error dockerd gives for a path: "Could not find the file /x in container c". */
function fileNotFound(path: string, container: string): BerthError {
  return new BerthError('not_found', `Could not find the file ${path} in container ${container}`);
}

/** Source path: parent resolved in scope, last element kept (docker's container.ResolvePath). */
function resolveSource(view: RootfsView, mounts: ViewMount[], path: string, container: string): { abs: string; resolved: Resolved; st: Stats } {
  const abs = absolute(path);
  // "dir/" and "dir/." name the directory a final symlink points at (docker's ResolvePath splits there)
  const resolved = resolveScoped(view, mounts, abs, hasTrailingSeparator(abs) || specifiesCurrentDir(abs));
  const st = lstatOrNull(resolved.host);
  if (!st) throw fileNotFound(path, container);
  if ((hasTrailingSeparator(abs) || specifiesCurrentDir(abs)) && !st.isDirectory()) {
    throw new BerthError('invalid_argument', `lstat ${path}: not a directory`);
  }
  return { abs, resolved, st };
}

export function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.mode & 0o4000) mode += GoFileMode.setuid;
  if (st.mode & 0o2000) mode += GoFileMode.setgid;
  if (st.mode & 0o1000) mode += GoFileMode.sticky;
  if (st.isDirectory()) mode += GoFileMode.dir;
  else if (st.isSymbolicLink()) mode += GoFileMode.symlink;
  else if (st.isCharacterDevice()) mode += GoFileMode.device + GoFileMode.charDevice;
  else if (st.isBlockDevice()) mode += GoFileMode.device;
  else if (st.isFIFO()) mode += GoFileMode.namedPipe;
  else if (st.isSocket()) mode += GoFileMode.socket;
  return mode;
}

/** Go's RFC3339Nano of a file time (UTC; trailing zeros of the fraction dropped). */
function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

interface ContainerName {
  /** the name the client used, for dockerd's error messages */
  container?: string;
}

/** HEAD /containers/{id}/archive: docker's ContainerPathStat of a path (a final symlink is not followed). */
export async function statPath(view: RootfsView, path: string, opts: ContainerName = {}): Promise<ContainerPathStat> {
  const mounts = activeMounts(view);
  const { abs, resolved } = resolveSource(view, mounts, path, opts.container ?? 'container');
  const st = await lstat(resolved.host, { bigint: true });
  const plain = lstatSync(resolved.host);
  let linkTarget = '';
  if (plain.isSymbolicLink()) linkTarget = resolveScoped(view, mounts, abs, true).path;
  return { name: posix.basename(abs), size: plain.size, mode: goFileMode(plain), mtime: rfc3339Nano(st.mtimeNs), linkTarget };
}

// ---- writing tars -------------------------------------------------------------

const devMajor = (rdev: number) => Math.floor(rdev / 256) & 0xfff;
const devMinor = (rdev: number) => (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);

function xattrsOf(path: string): Map<string, Buffer> | null {
  let xattrs: Map<string, Buffer> | null = null;
  let names: string[];
  try {
    names = sys.llistxattr(path);
  } catch {
    return null; // filesystems without xattrs
  }
  for (const name of names) {
    if (name.startsWith('trusted.overlay.')) continue; // overlay's bookkeeping, not content
    const value = sys.lgetxattr(path, name);
    if (value !== null) (xattrs ??= new Map()).set(name, value);
  }
  return xattrs;
}

interface WalkOptions {
  view: RootfsView;
  /** mounts to follow into (none for export) */
  mounts: ViewMount[];
  /** container paths whose contents are left out (export: /proc, /sys) */
  skipContents: Set<string>;
}

/** One entry (and, for a directory, everything below it) named `name` in the tar. */
async function* walk(o: WalkOptions, host: string, containerPath: string, name: string, seen: Map<string, string>): AsyncGenerator<Buffer> {
  let st: Stats;
  try {
    st = await lstat(host);
  } catch {
    return; // removed while we walked
  }
  const header: TarHeader = {
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
    xattrs: xattrsOf(host),
  };
  if (st.isDirectory()) {
    yield encodeHeader({ ...header, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
    if (o.skipContents.has(containerPath)) return;
    let children: string[];
    try {
      children = (await readdir(host)).sort();
    } catch {
      return;
    }
    for (const child of children) {
      const childPath = containerPath === '/' ? `/${child}` : `${containerPath}/${child}`;
      const childName = name === '' || name.endsWith('/') ? `${name}${child}` : `${name}/${child}`;
      // A mount point shows the mount's content, as inside the container.
      const mount = o.mounts.find((m) => m.destination === childPath);
      const childHost = mount ? mount.source : `${host}/${child}`;
      yield* walk(o, childHost, childPath, childName, seen);
    }
    return;
  }
  if (st.isSymbolicLink()) {
    yield encodeHeader({ ...header, type: 'symlink', linkname: await readlink(host) });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    yield encodeHeader({ ...header, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) });
  } else if (st.isFIFO()) {
    yield encodeHeader({ ...header, type: 'fifo' });
  } else if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = seen.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...header, type: 'link', linkname: first });
        return;
      }
      seen.set(key, name);
    }
    yield encodeHeader({ ...header, size: st.size });
    yield* fileEntryBody(host, st.size, 'pad');
  } // sockets are not archived (as docker)
}

function tarStream(gen: () => AsyncGenerator<Buffer>): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    yield* gen();
    yield END_OF_ARCHIVE;
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 1 << 20 });
}

/**
 * GET /containers/{id}/archive: a tar of one path, its entries named from the
 * path's basename (/etc/hostname -> "hostname", /etc -> "etc/..."), volume
 * contents under it included. A final symlink is archived as the link.
 * The returned stat is what HEAD gives for the same path.
 */
export async function archivePath(view: RootfsView, path: string, opts: ContainerName = {}): Promise<{ stat: ContainerPathStat; tar: Readable }> {
  const mounts = activeMounts(view);
  const stat = await statPath(view, path, opts);
  const { abs, resolved } = resolveSource(view, mounts, path, opts.container ?? 'container');
  const base = posix.basename(abs) || '/';
  const seen = new Map<string, string>();
  const tar = tarStream(() => walk({ view, mounts, skipContents: new Set() }, resolved.host, resolved.path, base === '/' ? '.' : base, seen));
  return { stat, tar };
}

/** GET /containers/{id}/export: the whole root filesystem (no volumes, no /proc or /sys contents). */
export function exportRootfs(view: RootfsView): Readable {
  const o: WalkOptions = { view, mounts: [], skipContents: new Set(['/proc', '/sys']) };
  const seen = new Map<string, string>();
  return tarStream(async function* () {
    const children = (await readdir(view.rootfs)).sort();
    for (const child of children) yield* walk(o, `${view.rootfs}/${child}`, `/${child}`, child, seen);
  });
}

// ---- extracting ---------------------------------------------------------------

export interface ExtractOptions extends ContainerName {
  /** error instead of replacing a directory with a non-directory or the reverse */
  noOverwriteDirNonDir?: boolean;
  /** chown everything to the container's user (docker cp -a); else the tar's owners are kept */
  copyUIDGID?: boolean;
  /** the container's Config.User, for copyUIDGID */
  user?: string;
  /** HostConfig.ReadonlyRootfs: only writable mounts may be written */
  readonlyRootfs?: boolean;
}

function lookupId(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined) return Number(f[2]);
  }
  return undefined;
}

/** The uid/gid of Config.User ("name", "uid", "name:group", "uid:gid") from the container's passwd and group. */
export function containerUser(view: RootfsView, user: string | undefined): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [u = '', g] = user.split(':', 2);
  const mounts = activeMounts(view);
  const passwd = resolveScoped(view, mounts, '/etc/passwd', true).host;
  const group = resolveScoped(view, mounts, '/etc/group', true).host;
  let uid = /^\d+$/.test(u) ? Number(u) : lookupId(passwd, u);
  if (uid === undefined) throw new BerthError('invalid_argument', `unable to find user ${u}: no matching entries in passwd file`);
  let gid: number | undefined;
  if (g !== undefined) {
    gid = /^\d+$/.test(g) ? Number(g) : lookupId(group, g);
    if (gid === undefined) throw new BerthError('invalid_argument', `unable to find group ${g}: no matching entries in group file`);
  } else {
    // the user's primary group from passwd
    try {
      const line = readFileSync(passwd, 'utf8')
        .split('\n')
        .find((l) => {
          const f = l.split(':');
          return f[0] === u || f[2] === String(uid);
        });
      gid = line ? Number(line.split(':')[3]) : 0;
    } catch {
      gid = 0;
    }
  }
  uid = Number.isFinite(uid) ? uid : 0;
  return { uid, gid: Number.isFinite(gid) ? gid : 0 };
}

function badArchive(message: string): BerthError {
  return new BerthError('invalid_argument', message);
}

/** A tar entry name as a path relative to the extraction point; '..' out of it is refused. */
function entryPath(name: string): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw badArchive(`invalid archive: entry ${JSON.stringify(name)} escapes the extraction point`);
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

const errnoOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * PUT /containers/{id}/archive: extract a tar (plain, gzip or zstd) into the
 * directory `path` of the container. The directory must exist ('not_found')
 * and be one ('invalid_argument'); entries are placed relative to it with
 * every parent resolved inside the container's root, so nothing is written
 * outside it (or outside a mount, except through the container's own paths).
 * Read-only mounts and a read-only rootfs are 'forbidden'. On a bad archive,
 * what this call created is removed again.
 */
export async function extractArchive(view: RootfsView, path: string, input: Readable, opts: ExtractOptions = {}): Promise<void> {
  const container = opts.container ?? 'container';
  const mounts = activeMounts(view);
  const abs = absolute(path);
  const dest = resolveScoped(view, mounts, abs, true);
  const st = lstatOrNull(dest.host);
  if (!st) throw fileNotFound(path, container);
  if (!st.isDirectory()) throw badArchive('extraction point is not a directory');
  checkWritable(dest, opts.readonlyRootfs ?? false);
  const owner = opts.copyUIDGID ? containerUser(view, opts.user) : undefined;

  const extractor = new Extractor(view, mounts, dest.path, opts, owner);
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      try {
        extractor.parser.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    final(cb) {
      try {
        extractor.parser.finish();
        extractor.finishDirs();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  try {
    await pipeline(decompress(input, 'auto'), sink);
  } catch (err) {
    extractor.rollback();
    if (err instanceof BerthError) throw err;
    const code = errnoOf(err);
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'ERR_STREAM_PREMATURE_CLOSE') throw badArchive(`invalid archive: ${(err as Error).message}`);
    throw err;
  }
}

function checkWritable(r: Resolved, readonlyRootfs: boolean): void {
  if (r.mount) {
    if (r.mount.readOnly) throw new BerthError('forbidden', 'mounted volume is marked read-only');
  } else if (readonlyRootfs) throw new BerthError('forbidden', 'container rootfs is marked read-only');
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

class Extractor {
  readonly parser: TarParser;
  /** host paths this extraction created, in order: removed again if it fails */
  readonly #created: string[] = [];
  /** directory times are set last: writing inside a directory changes its mtime */
  readonly #dirTimes: { host: string; mtime: number }[] = [];

  constructor(
    private readonly view: RootfsView,
    private readonly mounts: ViewMount[],
    private readonly dest: string,
    private readonly opts: ExtractOptions,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {
    this.parser = new TarParser((h) => this.#entry(h));
  }

  #entry(h: TarHeader): { data(chunk: Buffer): void; end(): void } | null {
    const rel = entryPath(h.name);
    if (rel === '') return null; // the extraction point itself keeps its metadata (as dockerd)
    const containerPath = posix.join(this.dest, rel);
    const parent = resolveScoped(this.view, this.mounts, posix.dirname(containerPath), true);
    this.#ensureDir(parent);
    const targetPath = posix.join(parent.path, posix.basename(containerPath));
    const target: Resolved = { path: targetPath, ...hostOf(this.view, this.mounts, targetPath) };
    checkWritable(target, this.opts.readonlyRootfs ?? false);
    const host = target.host;
    const existing = lstatOrNull(host);
    const isDir = h.type === 'directory';
    if (existing && !isDir && target.mount?.destination === targetPath)
      throw badArchive(`cannot overwrite mount point "${targetPath}" with non-directory "${h.name}"`);
    if (existing) {
      if (this.opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir)
        throw badArchive(`cannot overwrite directory "${containerPath}" with non-directory "${h.name}"`);
      if (this.opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir)
        throw badArchive(`cannot overwrite non-directory "${containerPath}" with directory "${h.name}"`);
      if (!(existing.isDirectory() && isDir)) rmSync(host, { recursive: true, force: true });
    }
    const uid = this.owner?.uid ?? h.uid;
    const gid = this.owner?.gid ?? h.gid;
    const created = !existing;
    switch (h.type) {
      case 'directory': {
        if (!existing?.isDirectory()) {
          mkdirSync(host, { mode: 0o700 });
          this.#created.push(host);
        }
        lchownSync(host, uid, gid);
        chmodSync(host, h.mode);
        this.#xattrs(host, h);
        this.#dirTimes.push({ host, mtime: h.mtime });
        return null;
      }
      case 'file': {
        const fd = openSync(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        if (created) this.#created.push(host);
        const finish = () => {
          try {
            fchownSync(fd, uid, gid);
            fchmodSync(fd, h.mode);
            this.#xattrs(host, h);
            futimesSync(fd, h.mtime, h.mtime);
          } finally {
            closeSync(fd);
          }
        };
        return {
          data: (chunk) => {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          },
          end: finish,
        };
      }
      case 'symlink':
        symlinkSync(h.linkname, host);
        if (created) this.#created.push(host);
        lchownSync(host, uid, gid);
        lutimesSync(host, h.mtime, h.mtime);
        return null;
      case 'link': {
        const linkRel = entryPath(h.linkname);
        const source = resolveScoped(this.view, this.mounts, posix.join(this.dest, linkRel), false);
        if (!lstatOrNull(source.host)) throw badArchive(`invalid archive: hard link ${JSON.stringify(h.name)} to missing ${JSON.stringify(h.linkname)}`);
        linkSync(source.host, host);
        if (created) this.#created.push(host);
        return null;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        const kind = h.type === 'char' ? S_IFCHR : h.type === 'block' ? S_IFBLK : S_IFIFO;
        sys.mknod(host, kind | (h.mode & 0o7777), h.devmajor, h.devminor);
        if (created) this.#created.push(host);
        lchownSync(host, uid, gid);
        chmodSync(host, h.mode);
        utimesSync(host, h.mtime, h.mtime);
        return null;
      }
    }
  }

  /** Parents missing in the archive are made as dockerd does (0755, root). */
  #ensureDir(parent: Resolved): void {
    const st = lstatOrNull(parent.host);
    if (st?.isDirectory()) return;
    if (st) throw badArchive(`invalid archive: ${parent.path} is not a directory`);
    checkWritable(parent, this.opts.readonlyRootfs ?? false);
    const grand = resolveScoped(this.view, this.mounts, posix.dirname(parent.path), true);
    if (grand.path !== parent.path) this.#ensureDir(grand);
    mkdirSync(parent.host, { mode: 0o755 });
    this.#created.push(parent.host);
  }

  #xattrs(host: string, h: TarHeader): void {
    if (!h.xattrs) return;
    for (const [name, value] of h.xattrs) {
      try {
        sys.lsetxattr(host, name, value);
      } catch (err) {
        // dockerd ignores xattrs the filesystem cannot hold
        if (!/ENOTSUP|EOPNOTSUPP|not supported/i.test((err as Error).message)) throw err;
      }
    }
  }

  finishDirs(): void {
    for (const d of this.#dirTimes.reverse()) utimesSync(d.host, d.mtime, d.mtime);
  }

  rollback(): void {
    for (const p of this.#created.reverse()) rmSync(p, { recursive: true, force: true });
  }
}
