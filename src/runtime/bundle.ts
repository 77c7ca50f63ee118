// OCI bundles on disk (config.json beside a rootfs) and the resolution of
// docker's `--user` against the image's /etc/passwd and /etc/group, with
// docker's rules and messages (moby/sys/user GetExecUser).
import { randomUUID } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BerthError } from '../errors/index.js';
import { writeFileAtomic } from '../util/index.js';
import type { ResolvedUser, RuntimeSpec } from './types.js';

/** config.json text. Infinity (an unlimited rlimit) becomes RLIM_INFINITY, which JSON numbers in JS cannot hold. */
export function serializeSpec(spec: RuntimeSpec): string {
  const mark = `rlim-infinity-${randomUUID()}`; // unique, so no string in the spec can collide with it
  const text = JSON.stringify(spec, (_key, value: unknown) => (value === Infinity ? mark : value), 2);
  return text.split(`"${mark}"`).join('18446744073709551615') + '\n';
}

/**
 * Write `<dir>/config.json` atomically; `dir` must exist. Not fsynced: the bundle is
 * written anew at every start, and no container outlives a power cut to need it
 * (containerd keeps its bundles on tmpfs).
 */
export async function writeBundle(dir: string, spec: RuntimeSpec): Promise<string> {
  const path = join(dir, 'config.json');
  await writeFileAtomic(path, serializeSpec(spec), 0o600, { durable: false });
  return path;
}

/**
 * `path` inside `root` with symlinks followed as if `root` were "/": an
 * image's /etc/passwd -> /somewhere never escapes the rootfs.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length) {
    const part = parts.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, part);
    let target: string | undefined;
    try {
      if ((await lstat(candidate)).isSymbolicLink()) target = await readlink(candidate);
    } catch {
      /* missing: the rest is taken literally */
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > 40) throw new BerthError('invalid_argument', `too many levels of symbolic links: ${path}`);
    if (target.startsWith('/')) done.length = 0;
    parts.unshift(...target.split('/').filter(Boolean));
  }
  return join(root, ...done);
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (f.length < 4 || !Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = Number(f[2]);
    if (f.length < 3 || !Number.isInteger(gid)) continue;
    out.push({ name: f[0] ?? '', gid, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

const MAX_ID = 2 ** 31 - 1;
function numericId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n > MAX_ID) throw new BerthError('invalid_argument', `uids and gids must be in range 0-${MAX_ID}`);
  return n;
}

/**
 * Resolve "", "uid", "uid:gid", "name", "name:group" (and mixes) against the
 * passwd and group files' contents (null = file absent). Supplementary groups
 * come from the group file only when no group is given, as in docker;
 * `groupAdd` (--group-add) are appended.
 */
export function resolveUserFrom(
  userSpec: string,
  passwd: PasswdEntry[] | null,
  group: GroupEntry[] | null,
  groupAdd: readonly string[] = [],
): ResolvedUser {
  const [userArg = '', groupArg = ''] = userSpec.split(':', 2) as [string?, string?];
  const user: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  let matchedName: string | undefined;
  const uidArg = userArg === '' ? 0 : numericId(userArg);
  const entry = passwd?.find((p) => (uidArg === undefined ? p.name === userArg : p.uid === uidArg));
  if (entry) {
    Object.assign(user, { uid: entry.uid, gid: entry.gid, home: entry.home || '/' });
    matchedName = entry.name;
  } else if (uidArg === undefined) {
    throw new BerthError('invalid_argument', `unable to find user ${userArg}: no matching entries in passwd file`);
  } else {
    user.uid = uidArg;
  }

  if (groupArg !== '') {
    const gidArg = numericId(groupArg);
    const g = group?.find((e) => (gidArg === undefined ? e.name === groupArg : e.gid === gidArg));
    if (g) user.gid = g.gid;
    else if (gidArg !== undefined) user.gid = gidArg;
    else throw new BerthError('invalid_argument', `unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName !== undefined && group) {
    user.additionalGids = group.filter((g) => g.members.includes(matchedName)).map((g) => g.gid);
  }

  for (const add of groupAdd) {
    const gidArg = numericId(add);
    const g = group?.find((e) => (gidArg === undefined ? e.name === add : e.gid === gidArg));
    if (g) user.additionalGids.push(g.gid);
    else if (gidArg !== undefined) user.additionalGids.push(gidArg);
    else throw new BerthError('invalid_argument', `Unable to find group ${add}: no matching entries in group file`);
  }
  return user;
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/** resolveUserFrom with the files of a container's rootfs (symlinks kept inside it). */
export async function resolveUser(rootfs: string, userSpec: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  const [passwdText, groupText] = await Promise.all([
    resolveInRoot(rootfs, '/etc/passwd').then(readOptional),
    resolveInRoot(rootfs, '/etc/group').then(readOptional),
  ]);
  return resolveUserFrom(userSpec, passwdText === null ? null : parsePasswd(passwdText), groupText === null ? null : parseGroup(groupText), groupAdd);
}
