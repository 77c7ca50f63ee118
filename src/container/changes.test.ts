// overlayChanges on hand-made upper/lower trees; parsePsOutput on ps text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sys, S_IFCHR } from '../native/index.js';
import { tempRoot } from '../testing/index.js';
import { overlayChanges, parsePsOutput, treeSize } from './changes.js';

test('overlayChanges: whiteouts deleted, paths found below modified, the rest added; init mount points ignored', async (t) => {
  const root = await tempRoot(t);
  const lower = join(root, 'lower');
  const upper = join(root, 'upper');
  for (const d of ['bin', 'etc', 'usr/lib', 'var']) await mkdir(join(lower, d), { recursive: true });
  await writeFile(join(lower, 'bin/ls'), 'ls');
  await writeFile(join(lower, 'etc/passwd'), 'root');
  for (const d of ['bin', 'etc', 'usr/lib', 'var', 'opt/app', 'proc']) await mkdir(join(upper, d), { recursive: true });
  sys.mknod(join(upper, 'bin/ls'), S_IFCHR | 0o000, 0, 0);
  await writeFile(join(upper, 'etc/passwd'), 'root,more');
  await writeFile(join(upper, 'etc/hostname'), ''); // runc's bind mount target
  await writeFile(join(upper, 'opt/app/run'), 'x');
  await chmod(join(upper, 'var'), 0o700); // a directory whose mode changed is modified
  // usr and usr/lib are only copied up: unchanged, so not listed
  const changes = await overlayChanges(upper, [lower]);
  assert.deepEqual(
    changes.map((c) => `${c.Kind} ${c.Path}`),
    ['0 /bin', '2 /bin/ls', '0 /etc', '0 /etc/passwd', '1 /opt', '1 /opt/app', '1 /opt/app/run', '0 /var'],
  );
  assert.deepEqual(await overlayChanges(join(root, 'missing'), [lower]), []);
  assert.equal(await treeSize(upper), 'root,more'.length + 1);
});

test('parsePsOutput keeps the container pids and merges the command column', () => {
  const out = 'UID PID PPID CMD\nroot 1 0 /sbin/init splash\nroot 42 1 sleep 1000\nroot 43 42 sh -c x\n';
  assert.deepEqual(parsePsOutput(out, [42, 43]), {
    Titles: ['UID', 'PID', 'PPID', 'CMD'],
    Processes: [['root', '42', '1', 'sleep 1000'], ['root', '43', '42', 'sh -c x']],
  });
  assert.throws(() => parsePsOutput('UID CMD\nroot x\n', [1]), /Couldn't find PID field/);
});
