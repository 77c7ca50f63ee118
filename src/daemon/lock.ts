// One daemon per root: <root>/berth.pid, created exclusively. Node has no
// flock, so a pid file is the lock; one left by a dead daemon is taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { BerthError } from '../errors/index.js';

export interface RootLock {
  readonly path: string;
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, just not ours to signal
  }
}

export async function acquireRootLock(path: string): Promise<RootLock> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return {
        path,
        async release() {
          // Only remove the file while it still names us.
          const owner = parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
          if (owner === process.pid) await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(path, 'utf8').catch(() => '');
    const pid = parseInt(text, 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new BerthError('conflict', `another berth daemon (pid ${pid}) is using this root; lock file ${path}`);
    }
    // Stale (dead pid, or a half-written file from a crash): take it over.
    // A torn write is only possible between create and write, so an empty file whose creator is gone is stale too.
    if (text.trim() === '' && attempt === 0) {
      await new Promise((r) => setTimeout(r, 50)); // give a creator mid-write a moment
      continue;
    }
    await rm(path, { force: true });
  }
  throw new BerthError('conflict', `could not take the lock file ${path}`);
}
