// Helpers for tests that touch real resources: every test gets its own
// directory and removes (after unmounting) only what lies beneath it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

export { mountsBelow, unmountBelow } from '../storage/index.js';
import { unmountBelow } from '../storage/index.js';

/** A fresh directory for one test, unmounted and removed after it, pass or fail. */
export async function tempRoot(t: AfterHook, prefix = 'berth-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    await unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
