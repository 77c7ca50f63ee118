// Mounting the descriptions a snapshotter returns, with the native mount(2).
import { readFile } from 'node:fs/promises';
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

/** Mount points at or below `dir`, deepest first. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(dir + '/'));
  return points.sort((a, b) => b.length - a.length);
}

/** Detach every mount at or below `dir` (what a crash left there), deepest first. */
export async function unmountBelow(dir: string): Promise<void> {
  for (const p of await mountsBelow(dir)) {
    try {
      sys.umount2(p, MNT_DETACH);
    } catch {
      /* already gone */
    }
  }
}
