// Containers end to end: the berth CLI and the real docker CLI against a
// berth daemon running real containers (runc under berth-monitor, overlay rootfs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonWithBusybox } from './harness/index.js';


test('docker run: output, exit codes, --rm, and a missing executable', async (t) => {
  const d = await daemonWithBusybox(t);
  const hi = await d.docker(['run', '--rm', 'busybox', 'echo', 'hello from berth']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hello from berth\n');
  const three = await d.docker(['run', '--name', 'three', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(three.code, 3);
  assert.equal(three.stdout, 'out\n');
  assert.equal(three.stderr, 'err\n');
  const nope = await d.docker(['run', '--rm', 'busybox', 'nope']);
  assert.equal(nope.code, 127, nope.stderr);
  assert.match(nope.stderr, /executable file not found/);
  // --rm removed both; the named one stays
  const all = await d.docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout.trim(), /^three Exited \(3\) /);
  const logs = await d.docker(['logs', 'three']);
  assert.equal(logs.stdout, 'out\n');
  assert.equal(logs.stderr, 'err\n');
});

test('berth run -d, ps, logs, stop, rm; rmi refuses an image in use', async (t) => {
  const d = await daemonWithBusybox(t);
  const started = await d.cli(['run', '-d', '--name', 'sleeper', 'busybox', 'sh', '-c', 'echo ready; exec sleep 1000']);
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = await d.cli(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}}']);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} sleeper Up `, 'm'));
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('ready'); i++) logs = (await d.cli(['logs', 'sleeper'])).stdout;
  assert.equal(logs, 'ready\n');
  const info = await d.docker(['info', '--format', '{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}}']);
  assert.equal(info.stdout.trim(), '1 1 0');
  const inUse = await d.cli(['rmi', 'busybox']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /image is being used by running container/);
  const busy = await d.cli(['rm', 'sleeper']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /You cannot remove a running container/);
  const stop = await d.cli(['stop', '-t', '1', 'sleeper']);
  assert.equal(stop.code, 0, stop.stderr);
  const state = await d.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'sleeper']);
  assert.equal(state.stdout.trim(), 'exited 137'); // sleep as PID 1 ignores SIGTERM: killed after 1 s
  const rm = await d.cli(['rm', 'sleeper']);
  assert.equal(rm.code, 0, rm.stderr);
  const none = await d.cli(['ps', '-aq']);
  assert.equal(none.stdout.trim(), '');
});

test('a running container survives a daemon killed with SIGKILL and is stopped by the next one', async (t) => {
  const d = await daemonWithBusybox(t);
  const started = await d.cli(['run', '-d', '--name', 'survivor', 'busybox', 'sleep', '1000']);
  assert.equal(started.code, 0, started.stderr);
  const pid = (await d.cli(['inspect', '-f', '{{.State.Pid}}', 'survivor'])).stdout.trim();
  assert.match(pid, /^[1-9]\d*$/);
  await d.kill9();
  await d.restart();
  const after = await d.cli(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'survivor']);
  assert.equal(after.stdout.trim(), `running ${pid}`);
  const stop = await d.cli(['stop', '-t', '1', 'survivor']);
  assert.equal(stop.code, 0, stop.stderr);
  const exited = await d.cli(['inspect', '-f', '{{.State.Status}}', 'survivor']);
  assert.equal(exited.stdout.trim(), 'exited');
});
