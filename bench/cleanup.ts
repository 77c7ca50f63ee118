// Cleanup and provenance shared by the benchmarks: what a benchmark's daemon
// left in runc, its monitors, its cgroup tree, and the commit measured.
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run, sleep } from '../test/harness/exec.js';
import { REPO_ROOT } from '../test/harness/daemon.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

const exists = (path: string): Promise<boolean> => readdir(path).then(() => true, () => false);

/** Every runc container under `runcRoot`, force-deleted (kills its processes). */
export async function deleteRuncContainers(runcRoot: string): Promise<void> {
  if (!(await exists(runcRoot))) return; // runc would create a missing --root
  const ids = (await run('runc', ['--root', runcRoot, 'list', '-q'])).stdout.split('\n').filter(Boolean);
  for (const id of ids) await run('runc', ['--root', runcRoot, 'delete', '-f', id]);
}

/** The berth-monitor processes of this daemon's containers (their --runtime-root is under `root`), killed. */
export async function killMonitors(root: string): Promise<void> {
  const containers = join(root, 'containers');
  for (const id of await readdir(containers).catch(() => [] as string[])) {
    const pid = Number((await readFile(join(containers, id, 'monitor.pid'), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv[0]?.endsWith('berth-monitor') && argv.includes(id) && argv.some((a) => a.startsWith(root))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
    }
  }
}

/**
 * The cgroup `path` in every hierarchy, children first. Processes still in it
 * are in our own uniquely named parent, so ours: killed, then rmdir retried.
 */
export async function removeCgroupTree(path: string): Promise<void> {
  const remove = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await remove(join(dir, e.name));
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const procs = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
      for (const pid of procs) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      try {
        await rmdir(dir);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY') throw err;
        await sleep(100);
      }
    }
    throw new Error(`cgroup ${dir} stays busy`);
  };
  for (const hierarchy of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    await remove(join(CGROUP_ROOT, hierarchy, path));
  }
}

/** The commit measured, and whether src/ had uncommitted changes (read-only git). */
export async function treeOf(): Promise<string> {
  const head = await run('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']);
  if (head.code !== 0) return 'unknown tree';
  const dirty = (await run('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--', 'src'])).stdout.trim();
  return `${head.stdout.trim()}${dirty ? ` + uncommitted changes in src/ (${dirty.split('\n').length} paths)` : ''}`;
}

