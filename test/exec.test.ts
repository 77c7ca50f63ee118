// exec end to end: the docker CLI and the berth CLI running extra processes
// in real running containers (runc exec into the container's namespaces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonWithBusybox, type Daemon } from './harness/index.js';


/** A running container named `name` that sleeps (PID 1 is `sleep`), with a known hostname. */
async function sleeper(d: Daemon, name: string): Promise<void> {
  const started = await d.docker(['run', '-d', '--name', name, '--hostname', `${name}-host`, 'busybox', 'sleep', '1000']);
  assert.equal(started.code, 0, started.stderr);
}

test('docker exec: output, exit codes, env, user, workdir, a missing executable', async (t) => {
  const d = await daemonWithBusybox(t);
  await sleeper(d, 'c1');
  const hi = await d.docker(['exec', 'c1', 'echo', 'hi']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  const four = await d.docker(['exec', 'c1', 'sh', '-c', 'echo out; echo err >&2; exit 4']);
  assert.equal(four.code, 4);
  assert.equal(four.stdout, 'out\n');
  assert.equal(four.stderr, 'err\n');
  const env = await d.docker(['exec', '-e', 'X=1', 'c1', 'sh', '-c', 'echo $X']);
  assert.equal(env.code, 0, env.stderr);
  assert.equal(env.stdout, '1\n');
  const user = await d.docker(['exec', '-u', 'nobody', 'c1', 'id', '-u']);
  assert.equal(user.code, 0, user.stderr);
  assert.equal(user.stdout, '65534\n');
  const root = await d.docker(['exec', 'c1', 'id', '-u']);
  assert.equal(root.stdout, '0\n');
  const pwd = await d.docker(['exec', '-w', '/tmp', 'c1', 'pwd']);
  assert.equal(pwd.code, 0, pwd.stderr);
  assert.equal(pwd.stdout, '/tmp\n');
  const nope = await d.docker(['exec', 'c1', 'nope']);
  assert.equal(nope.code, 126, nope.stderr);
  assert.match(nope.stdout, /^OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in \$PATH: unknown\r?\n$/);
  assert.equal(nope.stderr, '');
  // -i: stdin reaches the process and its end ends the process's input
  const cat = await d.docker(['exec', '-i', 'c1', 'cat'], { input: 'through stdin\n' });
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'through stdin\n');
});

test('an exec\'d process is in the container: hostname and PID namespace', async (t) => {
  const d = await daemonWithBusybox(t);
  await sleeper(d, 'ns');
  const host = await d.docker(['exec', 'ns', 'hostname']);
  assert.equal(host.code, 0, host.stderr);
  assert.equal(host.stdout, 'ns-host\n');
  const ps = await d.docker(['exec', 'ns', 'ps', '-o', 'pid,args']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^\s*1\s+sleep 1000$/m);
  assert.match(ps.stdout, /^\s*\d+\s+ps -o pid,args$/m);
  const pid1 = await d.docker(['exec', 'ns', 'cat', '/proc/1/cmdline']);
  assert.equal(pid1.stdout, 'sleep\u00001000\u0000');
});

test('exec into a stopped container is refused with docker\'s message; inspect and detach', async (t) => {
  const d = await daemonWithBusybox(t);
  const created = await d.docker(['create', '--name', 'stopped', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  const refused = await d.docker(['exec', 'stopped', 'echo', 'hi']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, new RegExp(`Error response from daemon: Container ${id} is not running`));
  const unknown = await d.request('GET', '/v1.50/exec/nope/json');
  assert.equal(unknown.status, 404);
  assert.match(unknown.text(), /No such exec instance: nope/);

  await sleeper(d, 'bg');
  const detached = await d.docker(['exec', '-d', 'bg', 'sh', '-c', 'echo done > /tmp/marker']);
  assert.equal(detached.code, 0, detached.stderr);
  let marker = '';
  for (let i = 0; i < 100 && marker !== 'done\n'; i++) marker = (await d.docker(['exec', 'bg', 'cat', '/tmp/marker'])).stdout;
  assert.equal(marker, 'done\n');

  // the API: create, start without upgrade (plain multiplexed body), inspect
  const made = await d.request('POST', '/v1.50/containers/bg/exec', { Cmd: ['sh', '-c', 'exit 7'], AttachStdout: true });
  assert.equal(made.status, 201, made.text());
  const execId = (JSON.parse(made.text()) as { Id: string }).Id;
  const before = JSON.parse((await d.request('GET', `/v1.50/exec/${execId}/json`)).text()) as Record<string, unknown>;
  assert.equal(before.Running, false);
  assert.equal(before.ExitCode, null);
  assert.deepEqual(before.ProcessConfig, { privileged: false, user: '', tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 7'] });
  const started = await d.request('POST', `/v1.50/exec/${execId}/start`, { Detach: false });
  assert.equal(started.status, 200, started.text());
  const after = JSON.parse((await d.request('GET', `/v1.50/exec/${execId}/json`)).text()) as Record<string, unknown>;
  assert.equal(after.Running, false);
  assert.equal(after.ExitCode, 7);
  assert.equal(typeof after.Pid, 'number');
  assert.ok((after.Pid as number) > 0);
  assert.match(after.ContainerID as string, /^[0-9a-f]{64}$/);
  const again = await d.request('POST', `/v1.50/exec/${execId}/start`, { Detach: false });
  assert.equal(again.status, 409);
});

test('berth exec: output, exit code, env, user, workdir, and a stopped container', async (t) => {
  const d = await daemonWithBusybox(t);
  await sleeper(d, 'b1');
  const hi = await d.cli(['exec', 'b1', 'echo', 'hi']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  const four = await d.cli(['exec', 'b1', 'sh', '-c', 'echo err >&2; exit 4']);
  assert.equal(four.code, 4);
  assert.equal(four.stderr, 'err\n');
  const env = await d.cli(['exec', '-e', 'X=1', '-u', 'nobody', '-w', '/tmp', 'b1', 'sh', '-c', 'echo $X $(id -u) $(pwd)']);
  assert.equal(env.code, 0, env.stderr);
  assert.equal(env.stdout, '1 65534 /tmp\n');
  const cat = await d.cli(['exec', '-i', 'b1', 'cat'], { input: 'through stdin\n' });
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'through stdin\n');
  const nope = await d.cli(['exec', 'b1', 'nope']);
  assert.equal(nope.code, 126);
  assert.match(nope.stdout, /executable file not found in \$PATH/);
  const stop = await d.cli(['stop', '-t', '1', 'b1']);
  assert.equal(stop.code, 0, stop.stderr);
  const refused = await d.cli(['exec', 'b1', 'echo', 'hi']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Error response from daemon: Container [0-9a-f]{64} is not running/);
});
