// Persistent network namespaces as files: the native addon unshares a network
// namespace on a short-lived thread and bind-mounts it onto <root>/netns/<id>
// (what `unshare --net=<file>` does, without a process start), with loopback
// up, so it outlives every process in it (and the daemon). Removal is umount + unlink. A network namespace
// mount does not need a private parent (unlike a persisted mount namespace),
// so the directory is a plain one.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { BerthError, messageOf } from '../errors/index.js';
import { MNT_DETACH, MS, sys } from '../native/index.js';

/** True when `path` is a mount point of a namespace file (nsfs) in our mount table. */
export async function isNetnsMounted(path: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((line) => {
    const f = line.split(' ');
    const point = f[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    return point === path && line.includes(' - nsfs ');
  });
}

/** Create (or keep) the namespace file at `path`, loopback up. */
export async function createNetns(path: string): Promise<void> {
  if (await isNetnsMounted(path)) return;
  await mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true, mode: 0o711 });
  const fh = await open(path, 'a', 0o444);
  await fh.close();
  try {
    sys.createNetns(path);
  } catch (err) {
    await rm(path, { force: true });
    throw new BerthError('internal', `create network namespace ${path}: ${messageOf(err)}`, { cause: err });
  }
}

/** Unmount and unlink; a missing file is fine. */
export async function removeNetns(path: string): Promise<void> {
  // Several stacked mounts are possible after a racing create; peel them all.
  while (await isNetnsMounted(path)) {
    try {
      sys.umount2(path, MNT_DETACH);
    } catch (err) {
      throw new BerthError('internal', `unmount network namespace ${path}: ${messageOf(err)}`, { cause: err });
    }
  }
  await rm(path, { force: true });
}

/**
 * Move the namespace mounted at `from` to `to` (a pre-wired sandbox handed to a
 * container): a mount point cannot be renamed, so bind it at `to`, then drop `from`.
 */
export async function moveNetns(from: string, to: string): Promise<void> {
  const fh = await open(to, 'a', 0o444);
  await fh.close();
  try {
    sys.mount(from, to, '', MS.BIND, '');
  } catch (err) {
    await rm(to, { force: true });
    throw new BerthError('internal', `move network namespace ${from} to ${to}: ${messageOf(err)}`, { cause: err });
  }
  await removeNetns(from);
}
