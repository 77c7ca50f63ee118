// pause/unpause, rename, top, container prune and diff end to end: the real
// docker CLI (and berth's) against a berth daemon running real containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { daemonWithBusybox, run, type Daemon } from './harness/index.js';

async function runcStatus(d: Daemon, id: string): Promise<string> {
  const r = await run('runc', ['--root', join(d.root, 'runc'), 'state', id]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { status: string }).status;
}

test('docker pause / unpause: runc freezes the container, ps shows (Paused), errors are 409s', async (t) => {
  const d = await daemonWithBusybox(t);
  const started = await d.docker(['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '1000']);
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  const paused = await d.docker(['pause', 'sleeper']);
  assert.equal(paused.code, 0, paused.stderr);
  assert.equal(paused.stdout, 'sleeper\n');
  assert.equal(await runcStatus(d, id), 'paused');
  const ps = await d.docker(['ps', '--format', '{{.Names}} {{.State}} {{.Status}}']);
  assert.match(ps.stdout.trim(), /^sleeper paused Up .* \(Paused\)$/);
  const again = await d.docker(['pause', 'sleeper']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`Container ${id} is already paused`));
  const inspect = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', 'sleeper']);
  assert.equal(inspect.stdout.trim(), 'paused true true');

  const resumed = await d.docker(['unpause', 'sleeper']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(await runcStatus(d, id), 'running');
  const ps2 = await d.docker(['ps', '--format', '{{.State}} {{.Status}}']);
  assert.match(ps2.stdout.trim(), /^running Up (?!.*Paused)/);
  const notPaused = await d.cli(['unpause', 'sleeper']);
  assert.equal(notPaused.code, 1);
  assert.equal(notPaused.stderr, `Error response from daemon: Container ${id} is not paused\n`);

  // a paused container stops (it is thawed for the signal)
  assert.equal((await d.cli(['pause', 'sleeper'])).code, 0);
  const stop = await d.docker(['stop', '-t', '1', 'sleeper']);
  assert.equal(stop.code, 0, stop.stderr);
  const notRunning = await d.docker(['pause', 'sleeper']);
  assert.equal(notRunning.code, 1);
  assert.match(notRunning.stderr, new RegExp(`Container ${id} is not running`));
});

test('docker rename: inspect by the new name; a taken name is a conflict', async (t) => {
  const d = await daemonWithBusybox(t);
  const first = await d.docker(['create', '--name', 'first', 'busybox', 'true']);
  assert.equal(first.code, 0, first.stderr);
  const other = await d.docker(['create', '--name', 'other', 'busybox', 'true']);
  assert.equal(other.code, 0, other.stderr);
  const otherId = other.stdout.trim();
  const renamed = await d.docker(['rename', 'first', 'second']);
  assert.equal(renamed.code, 0, renamed.stderr);
  const inspect = await d.docker(['inspect', '-f', '{{.Id}} {{.Name}}', 'second']);
  assert.equal(inspect.stdout.trim(), `${first.stdout.trim()} /second`);
  const gone = await d.docker(['inspect', 'first']);
  assert.equal(gone.code, 1);
  const taken = await d.docker(['rename', 'second', 'other']);
  assert.equal(taken.code, 1);
  assert.match(
    taken.stderr,
    new RegExp(
      `Conflict\\. The container name "/other" is already in use by container "${otherId}"\\. You have to remove \\(or rename\\) that container to be able to reuse that name\\.`,
    ),
  );
  const viaBerth = await d.cli(['rename', 'second', 'third']);
  assert.equal(viaBerth.code, 0, viaBerth.stderr);
  const names = await d.docker(['ps', '-a', '--format', '{{.Names}}']);
  assert.deepEqual(names.stdout.trim().split('\n').sort(), ['other', 'third']);
});

test('docker top shows the container process; ps options pass through; 409 when not running', async (t) => {
  const d = await daemonWithBusybox(t);
  const started = await d.docker(['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '1000']);
  assert.equal(started.code, 0, started.stderr);
  const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'sleeper'])).stdout.trim();
  const top = await d.docker(['top', 'sleeper']);
  assert.equal(top.code, 0, top.stderr);
  const lines = top.stdout.trim().split('\n');
  assert.deepEqual(lines[0]?.split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.equal(lines.length, 2, top.stdout);
  assert.equal(lines[1]?.split(/\s+/)[1], pid);
  assert.match(lines[1] ?? '', /sleep 1000$/);
  const custom = await d.docker(['top', 'sleeper', '-o', 'pid,comm']);
  assert.equal(custom.code, 0, custom.stderr);
  assert.deepEqual(custom.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['PID', 'COMMAND'], [pid, 'sleep']]);
  const berth = await d.cli(['top', 'sleeper', '-o', 'pid,args']);
  assert.equal(berth.code, 0, berth.stderr);
  assert.match(berth.stdout, new RegExp(`^PID\\s+COMMAND\\n${pid}\\s+sleep 1000\\n$`));
  assert.equal((await d.docker(['kill', 'sleeper'])).code, 0);
  assert.equal((await d.docker(['wait', 'sleeper'])).code, 0);
  const stopped = await d.docker(['top', 'sleeper']);
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /is not running/);
});

test('docker container prune -f removes only the stopped containers', async (t) => {
  const d = await daemonWithBusybox(t);
  const running = await d.docker(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '1000']);
  assert.equal(running.code, 0, running.stderr);
  const exited: string[] = [];
  for (const name of ['done1', 'done2']) {
    const r = await d.docker(['run', '--name', name, 'busybox', 'sh', '-c', 'echo data > /file']);
    assert.equal(r.code, 0, r.stderr);
    exited.push((await d.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim());
  }
  const created = await d.docker(['create', '--name', 'fresh', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  exited.push(created.stdout.trim());
  const pruned = await d.docker(['container', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  const [head, ...rest] = pruned.stdout.split('\n');
  assert.equal(head, 'Deleted Containers:');
  assert.deepEqual(rest.slice(0, 3).sort(), [...exited].sort());
  assert.match(pruned.stdout, /\n\nTotal reclaimed space: \d+(\.\d+)?k?B\n$/);
  const left = await d.docker(['ps', '-a', '--format', '{{.Names}}']);
  assert.equal(left.stdout.trim(), 'keep');
  const again = await d.cli(['container', 'prune', '-f']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'Total reclaimed space: 0B\n');
});

test('docker diff lists added, deleted and modified paths of the writable layer', async (t) => {
  const d = await daemonWithBusybox(t);
  const r = await d.docker(['run', '--name', 'changer', 'busybox', 'sh', '-c', 'echo x > /etc/new; rm /bin/ls']);
  assert.equal(r.code, 0, r.stderr);
  const diff = await d.docker(['diff', 'changer']);
  assert.equal(diff.code, 0, diff.stderr);
  assert.equal(diff.stdout, 'C /bin\nD /bin/ls\nC /etc\nA /etc/new\n');
  const berth = await d.cli(['diff', 'changer']);
  assert.equal(berth.stdout, diff.stdout);
  const fresh = await d.docker(['create', '--name', 'fresh', 'busybox', 'true']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal((await d.docker(['diff', 'fresh'])).stdout, '');
});
