// Mounting the descriptions a snapshotter returns, with the native mount(2).
import { MNT_DETACH, MS, sys } from '../native/index.js';
import type { Mount } from './types.js';

const FLAG_OPTIONS: Record<string, number> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
};

/** Split mount options into mount(2) flags and the filesystem's data string. */
export function parseMountOptions(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const flag = FLAG_OPTIONS[o];
    if (flag !== undefined) flags |= flag;
    else if (o !== 'rw') data.push(o);
  }
  return { flags, data: data.join(',') };
}

/** Mount each description on `target`, in order. A read-only bind needs a second, remounting call. */
export function mountAll(mounts: readonly Mount[], target: string): void {
  for (const m of mounts) {
    const { flags, data } = parseMountOptions(m.options);
    if (m.type === 'bind') {
      sys.mount(m.source, target, '', flags & (MS.BIND | MS.REC), '');
      if (flags & ~(MS.BIND | MS.REC)) sys.mount('', target, '', flags | MS.REMOUNT | MS.BIND, '');
    } else {
      sys.mount(m.source, target, m.type, flags, data);
    }
  }
}

/** Unmount `target` (lazily with `detach`, for a mount still in use). */
export function unmount(target: string, opts: { detach?: boolean } = {}): void {
  sys.umount2(target, opts.detach ? MNT_DETACH : 0);
}
