// Test helper (not exported from index.ts): a real cgroup v1 group under each
// controller this tests reads, holding a busy `sh` child, with cleanup
// registered before anything exists: kill the child, wait for it, rmdir.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

export const CGROUP_ROOT = '/sys/fs/cgroup';
const CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'blkio'];

export interface BusyCgroup {
  /** e.g. /berth-stats-test-1a2b3c, under each controller */
  cgroupsPath: string;
  pid: number;
  memoryLimit: number;
  pidsLimit: number;
}

export async function busyCgroup(t: AfterHook): Promise<BusyCgroup> {
  const cgroupsPath = `/berth-stats-test-${randomBytes(6).toString('hex')}`;
  const dirs = CONTROLLERS.map((c) => join(CGROUP_ROOT, c, cgroupsPath));
  const made: { child?: ChildProcess } = {};
  t.after(async () => {
    const child = made.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    for (const dir of dirs) {
      // An exited task leaves the group shortly after; rmdir fails with EBUSY until then.
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          await sleep(20);
        }
      }
    }
  });
  for (const dir of dirs) await mkdir(dir);
  const memoryLimit = 64 * 1024 * 1024;
  const pidsLimit = 16;
  await writeFile(join(CGROUP_ROOT, 'memory', cgroupsPath, 'memory.limit_in_bytes'), String(memoryLimit));
  await writeFile(join(CGROUP_ROOT, 'pids', cgroupsPath, 'pids.max'), String(pidsLimit));
  const child = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
  made.child = child;
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the busy child');
  for (const dir of dirs) await writeFile(join(dir, 'cgroup.procs'), String(pid));
  return { cgroupsPath, pid, memoryLimit, pidsLimit };
}
