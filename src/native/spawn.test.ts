// The addon's posix_spawn children: exit codes and signals, stdio, cwd, a new
// session, extra descriptors, clean signal state, and many at once all reaped.
import assert from 'node:assert/strict';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { tempRoot } from '../testing/index.js';
import { runChild, spawnChild } from './index.js';

const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

test('runChild: input on stdin, stdout and stderr apart, the exit code; a signal death has no code', async () => {
  assert.deepEqual(await runChild('/bin/sh', ['-c', 'cat; echo oops >&2; exit 3'], { env, input: 'hello\n' }), {
    code: 3,
    signal: null,
    stdout: 'hello\n',
    stderr: 'oops\n',
  });
  assert.deepEqual(await runChild('sh', ['-c', 'kill -TERM $$'], { env }), { code: null, signal: 'SIGTERM', stdout: '', stderr: '' });
});

test('the child has the environment given, the cwd, default signal dispositions, an empty mask and only its own descriptors', async () => {
  const r = await runChild(
    '/bin/sh',
    ['-c', 'echo "$ONLY:$HOME"; pwd; grep -E "^Sig(Ign|Blk)" /proc/self/status; ls /proc/self/fd | sort -n | tr "\\n" " "'],
    { env: { ...env, ONLY: 'this' }, cwd: '/tmp' },
  );
  // ls's own directory descriptor is the one past 0, 1, 2
  assert.equal(r.stdout, 'this:\n/tmp\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n0 1 2 3 ');
  assert.equal(r.code, 0);
});

test('spawnChild: a new session, a descriptor of ours and an extra pipe as fd 3', async (t) => {
  const dir = await tempRoot(t, 'berth-spawn-');
  const errFd = openSync(join(dir, 'err.log'), 'a');
  const child = spawnChild('/bin/sh', ['-c', 'echo to-log >&2; echo "$(cut -d" " -f6 /proc/self/stat) $$" >&3'], { env, fds: ['ignore', 'ignore', errFd, 'pipe'], setsid: true });
  closeSync(errFd);
  assert.equal(child.stdout, null);
  let line = '';
  for await (const chunk of child.pipes.get(3) ?? []) line += String(chunk);
  const [session, pid] = line.trim().split(' ');
  assert.equal(session, pid, 'the child leads its own session');
  assert.equal(Number(pid), child.pid);
  assert.deepEqual(await child.exited, { code: 0, signal: null });
  assert.equal(readFileSync(join(dir, 'err.log'), 'utf8'), 'to-log\n');
});

test('a missing or non-executable file throws at once with its errno code', () => {
  assert.throws(() => spawnChild('/nonexistent/berth-test', [], { env }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  assert.throws(() => spawnChild('berth-no-such-command', [], { env }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  assert.throws(() => spawnChild('/etc/passwd', [], { env }), (e: NodeJS.ErrnoException) => e.code === 'EACCES');
});

test('forty children at once all exit and are reaped', async () => {
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => runChild('/bin/sh', ['-c', `exit ${i % 7}`], { env })));
  assert.deepEqual(
    results.map((r) => r.code),
    Array.from({ length: 40 }, (_, i) => i % 7),
  );
  const zombies = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
  assert.equal(zombies, '', 'no child left unreaped');
});
