// Test helpers for real containers: a minimal busybox rootfs, a Runc on a
// temporary root, and cleanup (containers deleted, cgroups removed, mounts
// undone, files removed) registered before any of it exists. Not exported.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rmdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { buildSpec } from './spec.js';
import { writeBundle } from './bundle.js';
import { probeHost } from './host.js';
import { Runc } from './runc.js';
import type { HostInfo, RuntimeSpec, SpecInput } from './types.js';

interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

const BUSYBOX = '/usr/bin/busybox';

export interface Box {
  dir: string;
  runc: Runc;
  host: HostInfo;
  /** unique cgroup parent of this test, e.g. /berth-test-1a2b3c */
  cgroupParent: string;
  /** a bundle directory with a fresh busybox rootfs and the spec built from `input` */
  bundle(name: string, input: Omit<SpecInput, 'rootfs' | 'host'>): Promise<{ path: string; spec: RuntimeSpec }>;
}

async function busyboxRootfs(rootfs: string): Promise<void> {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) await symlink('busybox', join(rootfs, 'bin', a));
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

export async function box(t: AfterHook): Promise<Box> {
  const cgroupParent = `/berth-test-${randomBytes(6).toString('hex')}`;
  const made: { runc?: Runc } = {};
  // Registered first, so it runs before tempRoot's removal (after-hooks run in order).
  t.after(async () => {
    const runc = made.runc;
    if (runc) {
      for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, { force: true }).catch(() => undefined);
    }
    for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      const parent = join('/sys/fs/cgroup', hierarchy, cgroupParent);
      for (const child of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
        if (child.isDirectory()) await rmdir(join(parent, child.name)).catch(() => undefined);
      }
      await rmdir(parent).catch(() => undefined);
    }
  });
  const dir = await tempRoot(t, 'berth-runtime-');
  const runc = new Runc({ root: join(dir, 'runc'), logDir: join(dir, 'runc-log') });
  made.runc = runc;
  const host = await probeHost();
  return {
    dir,
    runc,
    host,
    cgroupParent,
    async bundle(name, input) {
      const path = join(dir, 'bundles', name);
      const rootfs = join(path, 'rootfs');
      await busyboxRootfs(rootfs);
      const spec = buildSpec({ ...input, rootfs, host });
      await writeBundle(path, spec);
      return { path, spec };
    },
  };
}

export const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
