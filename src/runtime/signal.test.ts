import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { inCgroup, signalInit } from './signal.js';

test('inCgroup matches the path in any hierarchy, exactly', () => {
  const v1 = '12:pids:/berth/abc\n4:memory:/berth/abc\n1:name=systemd:/user.slice\n0::/\n';
  assert.equal(inCgroup(v1, '/berth/abc'), true);
  assert.equal(inCgroup(v1, 'berth/abc'), true);
  assert.equal(inCgroup(v1, '/berth/ab'), false);
  assert.equal(inCgroup(v1, '/berth/abc/x'), false);
  assert.equal(inCgroup('0::/berth/abc\n', '/berth/abc'), true);
  assert.equal(inCgroup('', '/berth/abc'), false);
});

test('signalInit signals a process in the cgroup, and never one elsewhere or gone', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  try {
    const own = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n')[0]!.split(':').slice(2).join(':');
    // not its cgroup: left alone
    assert.equal(await signalInit(pid, `${own}/not-this-one`, 15), 'gone');
    assert.equal(child.exitCode, null);
    const exited = once(child, 'exit');
    assert.equal(await signalInit(pid, own, 15), 'sent');
    const [, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, 'SIGTERM');
    // reaped: nothing to signal
    assert.equal(await signalInit(pid, own, 15), 'gone');
    assert.equal(await signalInit(0, own, 15), 'gone');
  } finally {
    child.kill('SIGKILL');
  }
});
