// Signalling a container's init without a runc process: `runc kill` costs a Go
// start-up (tens of milliseconds, more under load) for what is one syscall. The
// process is pinned with a pidfd first and only then checked to sit in the
// container's cgroup, so a pid the kernel reused for another process is never
// signalled. The container always has its own PID namespace here, so SIGKILL to
// its init takes every process in it along (what `runc kill --all` is for).
import { closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { sys } from '../native/index.js';

/**
 * Send `signal` to the process `pid` if it is in the cgroup `cgroupsPath`
 * (the spec's linux.cgroupsPath). 'gone' when it has exited or is another
 * process by now.
 */
export async function signalInit(pid: number, cgroupsPath: string, signal: number): Promise<'sent' | 'gone'> {
  if (pid <= 0) return 'gone';
  let fd: number;
  try {
    fd = sys.pidfdOpen(pid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    throw err;
  }
  try {
    const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (!inCgroup(text, cgroupsPath)) return 'gone';
    try {
      sys.pidfdSendSignal(fd, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
      throw err;
    }
    return 'sent';
  } finally {
    closeSync(fd);
  }
}

/** True when a /proc/PID/cgroup text places the process in `cgroupsPath` (v1: any hierarchy; v2: the unified one). */
export function inCgroup(procCgroup: string, cgroupsPath: string): boolean {
  const want = '/' + cgroupsPath.replace(/^\/+/, '');
  return procCgroup.split('\n').some((line) => {
    const path = line.split(':').slice(2).join(':');
    return path === want;
  });
}
