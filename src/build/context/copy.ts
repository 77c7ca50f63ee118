// COPY/ADD into a rootfs, buildkit's (fsutil copy) rules:
// - dest is relative to WORKDIR; a trailing '/' (or '.') makes it a directory;
// - several sources need such a directory dest;
// - a directory source copies its contents (dest created with the source
//   directory's mode if missing; an existing dest keeps its own metadata);
// - a file lands inside dest when dest is (or is written as) a directory;
// - missing parents are made 0755 and owned like the copied files;
// - entries keep mode and mtime, are owned 0:0 unless --chown, symlinks stay
//   symlinks, hard links inside the copied set stay hard links;
// - the destination resolves with symlinks inside the rootfs; below it,
//   nothing is followed: a symlink where a directory is needed is an error
//   ("cannot copy to non-directory"), as in buildkit.
// ADD unpacks local tar archives (sniffed by content) with the archive's own
// owners; docker does not apply --chown to extracted content either.
import {
  chmodSync,
  constants,
  copyFileSync,
  createReadStream,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import { posix } from 'node:path';
import { BerthError } from '../../errors/index.js';
import { containerUser, extractArchive, resolveInRootfs, type RootfsView } from '../../container/index.js';
import { decompressAny } from './decompress.js';
import { walkMatch } from './sources.js';
import type { CopyOptions, SourceMatch } from './types.js';

interface Owner {
  uid: number;
  gid: number;
}

const lstatOrNull = (p: string): Stats | undefined => lstatSync(p, { throwIfNoEntry: false });

/** Does a container path name a directory by its spelling ("/a/", "a/.", ".")? */
function namesDirectory(dest: string): boolean {
  return dest === '.' || dest.endsWith('/') || dest.endsWith('/.');
}

/** The container directory `path` on the host, made (0755, owner) with any missing parents. */
function ensureDir(view: RootfsView, path: string, owner: Owner): string {
  const host = resolveInRootfs(view, path, { followLast: true });
  const st = lstatOrNull(host);
  if (st?.isDirectory()) return host;
  if (st) throw new BerthError('invalid_argument', `cannot copy to non-directory: ${path}`);
  if (path !== '/') ensureDir(view, posix.dirname(path), owner);
  // the parent resolved to a real directory, so this host path has no symlink left in it
  mkdirSync(host, { mode: 0o755 });
  chmodSync(host, 0o755);
  lchownSync(host, owner.uid, owner.gid);
  return host;
}

/** Is the file a tar (plain or compressed), judged as buildkit does: the first header parses. */
export async function isTarArchive(path: string): Promise<boolean> {
  const st = lstatOrNull(path);
  if (!st?.isFile() || st.size === 0) return false;
  const file = createReadStream(path);
  let stream: NodeJS.ReadableStream | undefined;
  try {
    const d = await decompressAny(file);
    stream = d.stream;
    const chunks: Buffer[] = [];
    let have = 0;
    for await (const chunk of d.stream) {
      chunks.push(chunk as Buffer);
      have += (chunk as Buffer).length;
      if (have >= 512) break;
    }
    const head = Buffer.concat(chunks);
    return head.length >= 512 && validTarHeader(head.subarray(0, 512));
  } catch {
    return false;
  } finally {
    (stream as { destroy?: () => void } | undefined)?.destroy?.();
    file.destroy();
  }
}

function validTarHeader(block: Buffer): boolean {
  if (block.every((b) => b === 0)) return false;
  const field = block.toString('latin1', 148, 156).replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

class Copier {
  /** first destination of each (dev, ino) with several links */
  readonly #links = new Map<string, string>();
  /** directory times are set last: writing inside a directory changes its mtime */
  readonly #dirTimes: { host: string; st: Stats }[] = [];

  constructor(
    private readonly owner: Owner,
    private readonly chmod: number | undefined,
  ) {}

  #mode(st: Stats): number {
    return this.chmod ?? st.mode & 0o7777;
  }

  /** Replace whatever is at `host` by a copy of the source entry (directories merge). */
  entry(src: string, st: Stats, host: string, containerPath: string): void {
    const existing = lstatOrNull(host);
    if (st.isDirectory()) {
      if (existing && !existing.isDirectory()) throw new BerthError('invalid_argument', `cannot copy to non-directory: ${containerPath}`);
      if (!existing) mkdirSync(host, { mode: 0o700 });
      chmodSync(host, this.#mode(st));
      lchownSync(host, this.owner.uid, this.owner.gid);
      this.#dirTimes.push({ host, st });
      return;
    }
    if (existing?.isDirectory()) throw new BerthError('invalid_argument', `cannot replace directory ${containerPath} with a file`);
    if (existing) rmSync(host, { force: true });
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), host);
      lchownSync(host, this.owner.uid, this.owner.gid);
      lutimesSync(host, st.atime, st.mtime);
      return;
    }
    if (!st.isFile()) return; // devices, fifos and sockets are not copied
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined && lstatOrNull(first)?.isFile()) {
        linkSync(first, host);
        return;
      }
      this.#links.set(key, host);
    }
    copyFileSync(src, host, constants.COPYFILE_EXCL);
    chmodSync(host, this.#mode(st));
    lchownSync(host, this.owner.uid, this.owner.gid);
    utimesSync(host, st.atime, st.mtime);
  }

  /** A directory's contents into the (existing, real) directory `destHost`. */
  contents(match: SourceMatch, destHost: string, destPath: string): void {
    for (const e of walkMatch(match)) {
      if (e.rel === '') continue;
      const host = `${destHost}/${e.rel}`;
      // a parent the excludes left out (re-included child) is made as a plain directory
      this.#parents(destHost, e.rel);
      this.entry(e.host, e.st, host, posix.join(destPath, e.rel));
    }
  }

  #parents(destHost: string, rel: string): void {
    const parts = rel.split('/').slice(0, -1);
    let host = destHost;
    for (const part of parts) {
      host = `${host}/${part}`;
      const st = lstatOrNull(host);
      if (st?.isDirectory()) continue;
      if (st) throw new BerthError('invalid_argument', `cannot copy to non-directory: ${host}`);
      mkdirSync(host, { mode: 0o755 });
      chmodSync(host, 0o755);
      lchownSync(host, this.owner.uid, this.owner.gid);
    }
  }

  finish(): void {
    for (const d of this.#dirTimes.reverse()) utimesSync(d.host, d.st.atime, d.st.mtime);
  }
}

/** Copy matches to dest inside the rootfs view with docker's COPY/ADD rules. */
export async function copyInto(view: RootfsView, matches: SourceMatch[], dest: string, opts: CopyOptions): Promise<void> {
  const instruction = opts.instruction ?? (opts.extractArchives ? 'ADD' : 'COPY');
  const owner = opts.owner ?? { uid: 0, gid: 0 };
  const asDir = namesDirectory(dest);
  const destPath = posix.join(dest.startsWith('/') ? '/' : opts.workdir || '/', dest).replace(/(.)\/$/, '$1');
  const patterns = new Set(matches.map((m) => m.pattern));
  if ((patterns.size > 1 || matches.length > 1) && !asDir) {
    throw new BerthError('invalid_argument', `When using ${instruction} with more than one source file, the destination must be a directory and end with a /`);
  }
  if (asDir) ensureDir(view, destPath, owner);
  const copier = new Copier(owner, opts.chmod);
  for (const match of matches) {
    if (match.isDir) {
      const host = resolveInRootfs(view, destPath, { followLast: true });
      const existing = lstatOrNull(host);
      if (existing && !existing.isDirectory()) throw new BerthError('invalid_argument', `cannot copy to non-directory: ${destPath}`);
      if (!existing) {
        ensureDir(view, posix.dirname(destPath), owner);
        copier.entry(match.hostPath, lstatSync(match.hostPath), host, destPath);
      }
      copier.contents(match, host, destPath);
      continue;
    }
    if (opts.extractArchives && (await isTarArchive(match.hostPath))) {
      ensureDir(view, destPath, owner);
      const { stream } = await decompressAny(createReadStream(match.hostPath));
      await extractArchive(view, destPath, stream, {});
      continue;
    }
    const destHost = resolveInRootfs(view, destPath, { followLast: true });
    const intoDir = asDir || lstatOrNull(destHost)?.isDirectory() === true;
    const target = intoDir ? posix.join(destPath, posix.basename(match.relPath || match.hostPath)) : destPath;
    ensureDir(view, posix.dirname(target), owner);
    const targetHost = resolveInRootfs(view, target, { followLast: true });
    copier.entry(match.hostPath, lstatSync(match.hostPath), targetHost, target);
  }
  copier.finish();
}

/** COPY --chown's "user[:group]": numbers as given (a lone uid is also the gid), names from the rootfs. */
export function resolveChown(view: RootfsView, spec: string): Owner {
  const [user = '', group] = spec.split(':', 2);
  if (user === '') throw new BerthError('invalid_argument', `invalid chown string: ${JSON.stringify(spec)}`);
  const numeric = (s: string) => /^\d+$/.test(s);
  if (numeric(user) && (group === undefined || numeric(group))) {
    const uid = Number(user);
    return { uid, gid: group === undefined ? uid : Number(group) };
  }
  try {
    return containerUser(view, spec);
  } catch (err) {
    const message = (err as Error).message;
    const missingUser = /unable to find user ([^:]+):/.exec(message);
    if (missingUser) {
      const name = missingUser[1]!;
      throw new BerthError('invalid_argument', `unable to convert uid/gid chown string to host mapping: can't find uid for user ${name}: no such user: ${name}`, { cause: err });
    }
    const missingGroup = /unable to find group ([^:]+):/.exec(message);
    if (missingGroup) {
      const name = missingGroup[1]!;
      throw new BerthError('invalid_argument', `unable to convert uid/gid chown string to host mapping: can't find gid for group ${name}: no such group: ${name}`, { cause: err });
    }
    throw err;
  }
}
