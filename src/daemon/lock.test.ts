import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { acquireRootLock } from './lock.js';

test('the root lock is exclusive while its holder lives and released on release', async (t) => {
  const dir = await tempRoot(t, 'berth-lock-');
  const path = join(dir, 'berth.pid');
  const lock = await acquireRootLock(path);
  assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid));
  await assert.rejects(acquireRootLock(path), new RegExp(`pid ${process.pid}`));
  await lock.release();
  await assert.rejects(stat(path), { code: 'ENOENT' });
  const again = await acquireRootLock(path);
  await again.release();
});

test('a lock left by a dead process is taken over', async (t) => {
  const dir = await tempRoot(t, 'berth-lock-');
  const path = join(dir, 'berth.pid');
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  assert.ok(child.pid);
  await writeFile(path, `${child.pid}\n`);
  const lock = await acquireRootLock(path);
  assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid));
  await lock.release();
});
