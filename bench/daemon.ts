// The berth daemon every benchmark measures: the test harness's daemon on its
// own --cgroup-parent, with the busybox fixture loaded as busybox:latest. What
// it starts (runc containers, monitors, the cgroup tree) is removed by
// `cleanup`, after the benchmark's own later registrations.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { deleteRuncContainers, killMonitors, removeCgroupTree } from './cleanup.js';
import { busybox, type Fixture } from '../test/fixtures/index.js';
import { runOk, type Cleanup } from '../test/harness/exec.js';
import { startDaemon, type Daemon } from '../test/harness/daemon.js';

export async function benchDaemon(cleanup: Cleanup, extraArgs: string[] = []): Promise<{ d: Daemon; busybox: Fixture; cgroupParent: string }> {
  const cgroupParent = `/berth-bench-${randomBytes(4).toString('hex')}`;
  const d = await startDaemon(cleanup, { extraArgs: ['--cgroup-parent', cgroupParent, ...extraArgs] });
  cleanup.after(async () => {
    await deleteRuncContainers(join(d.root, 'runc'));
    await killMonitors(d.root);
    await removeCgroupTree(cgroupParent);
  });
  const bb = await busybox();
  const archive = join(d.dir, 'busybox.tar');
  await runOk('tar', ['-C', bb.layoutDir, '-cf', archive, '.']);
  for (const args of [['load', '-i', archive], ['tag', bb.configDigest, 'busybox:latest']]) {
    const r = await d.cli(args);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  return { d, busybox: bb, cgroupParent };
}
