// A daemon ready to run containers: its own cgroup parent, and a busybox
// image (the fixture, loaded and tagged busybox:latest).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { busybox } from '../fixtures/index.js';
import { startDaemon, type Daemon, type DaemonOptions } from './daemon.js';
import { run, type AfterHook } from './exec.js';

/**
 * Removes every container of the daemon through runc (while its state dir
 * still exists), then the cgroup parent. With node:test, register it before
 * the daemon's own cleanup: hooks run in registration order.
 */
export async function removeContainers(root: string, cgroupParent: string): Promise<void> {
  const runcRoot = join(root, 'runc');
  // runc would create a missing --root: only ask when the daemon made one
  if (await access(runcRoot).then(() => true, () => false)) {
    const ids = (await run('runc', ['--root', runcRoot, 'list', '-q'])).stdout.split('\n').filter(Boolean);
    for (const id of ids) await run('runc', ['--root', runcRoot, 'delete', '-f', id]);
  }
  for (const ctl of await readdir('/sys/fs/cgroup').catch(() => [])) {
    await rmdir(join('/sys/fs/cgroup', ctl, cgroupParent)).catch(() => undefined);
  }
}

export async function daemonWithBusybox(t: AfterHook, opts: DaemonOptions = {}): Promise<Daemon> {
  const cgroupParent = `/berth-test-${randomBytes(4).toString('hex')}`;
  const state: { root?: string } = {};
  t.after(async () => {
    if (state.root) await removeContainers(state.root, cgroupParent);
  });
  const d = await startDaemon(t, { ...opts, extraArgs: [...(opts.extraArgs ?? []), '--cgroup-parent', cgroupParent] });
  state.root = d.root;
  const bb = await busybox();
  const archive = join(d.dir, 'busybox.tar');
  await run('tar', ['-C', bb.layoutDir, '-cf', archive, '.']);
  const loaded = await d.cli(['load', '-i', archive]);
  assert.equal(loaded.code, 0, loaded.stderr);
  const tagged = await d.cli(['tag', bb.configDigest, 'busybox:latest']);
  assert.equal(tagged.code, 0, tagged.stderr);
  return d;
}
