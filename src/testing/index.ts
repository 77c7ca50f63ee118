// Helpers for tests that touch real resources: every test gets its own
// directory and removes (after unmounting) only what lies beneath it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sys, MNT_DETACH } from '../native/index.js';

interface AfterHook {
  after(fn: () => Promise<void> | void): void;
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

export async function unmountBelow(dir: string): Promise<void> {
  for (const p of await mountsBelow(dir)) {
    try {
      sys.umount2(p, MNT_DETACH);
    } catch {
      /* already gone */
    }
  }
}

/** A fresh directory for one test, unmounted and removed after it, pass or fail. */
export async function tempRoot(t: AfterHook, prefix = 'berth-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    await unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
