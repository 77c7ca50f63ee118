// Volumes as the container service uses them: resolving a container's volume
// requests into volumes (created on first use) and docker's copy-up of the
// image's content into a volume the first time it is mounted.
import { execFile } from 'node:child_process';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, messageOf } from '../errors/index.js';
import { ANONYMOUS_LABEL, type Volume, type VolumeCreateOptions } from '../volume/index.js';
import type { VolumeRequest } from './config.js';
import type { VolumeMountPoint } from './records.js';

const run = promisify(execFile);

/** The slice of the volume service containers need. */
export interface VolumeProvider {
  create(opts: VolumeCreateOptions): Promise<Volume>;
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
}

/** Create (or find) the volume of each request; anonymous ones get a random name and docker's anonymous label. */
export async function resolveVolumes(provider: VolumeProvider | undefined, requests: readonly VolumeRequest[]): Promise<VolumeMountPoint[]> {
  if (requests.length === 0) return [];
  if (!provider) throw new BerthError('not_implemented', 'volumes are not available in this daemon');
  const out: VolumeMountPoint[] = [];
  try {
    for (const r of requests) {
      const anonymous = r.name === '';
      const opts: VolumeCreateOptions = anonymous ? { Labels: { [ANONYMOUS_LABEL]: '', ...r.labels } } : { Name: r.name, Labels: r.labels ?? {} };
      const v = await provider.create(opts);
      out.push({ name: v.Name, source: v.Mountpoint, destination: r.destination, readonly: r.readonly, noCopy: r.noCopy, anonymous });
    }
  } catch (err) {
    await removeAnonymous(provider, out);
    throw err;
  }
  return out;
}

export async function removeAnonymous(provider: VolumeProvider | undefined, mounts: readonly VolumeMountPoint[]): Promise<void> {
  for (const m of mounts) if (m.anonymous) await provider?.remove(m.name).catch(() => undefined);
}

/**
 * docker's copy-up: a volume still empty gets what the image has at the mount
 * path (owners, modes, symlinks and times kept by cp -a), before the first mount.
 */
export async function copyUp(rootfs: string, mount: VolumeMountPoint): Promise<void> {
  if (mount.noCopy) return;
  const present = await readdir(mount.source).catch(() => undefined);
  if (!present || present.length > 0) return;
  const from = await resolveInRoot(rootfs, mount.destination);
  if (!from || !(await lstat(from).then((s) => s.isDirectory(), () => false))) return;
  try {
    await run('cp', ['-a', `${from}/.`, `${mount.source}/`]);
  } catch (err) {
    throw new BerthError('internal', `copying image content into volume ${mount.name}: ${messageOf(err)}`, { cause: err });
  }
}

/** `path` inside `root` with symlinks resolved as the container would see them (never leaving root); undefined if absent. */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  let pending = posix.normalize(path).split('/').filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; pending.length > 0; ) {
    const part = pending.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    if (part === '.') continue;
    const full = join(root, ...done, part);
    const st = await lstat(full).catch(() => undefined);
    if (!st) return undefined;
    if (st.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const target = await readlink(full);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter(Boolean), ...pending];
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}
