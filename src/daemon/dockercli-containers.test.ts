// The real docker CLI's container commands against the API server with the
// scripted FakeContainerService: run (foreground, --rm, -d, exit codes), ps,
// logs, stop, rm, inspect, wait.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { serveFakes } from './fakes.js';

const DOCKER = '/usr/local/bin/docker';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function start(t: TestContext) {
  const dir = await tempRoot(t, 'berth-dockercli-ctr-');
  const served = await serveFakes(dir);
  t.after(() => served.api.close(1000));
  const config = join(dir, 'docker-config');
  await mkdir(config);
  // Requests in arrival order, without the version prefix and query: the sequence the CLI drives.
  const seen: string[] = [];
  const record = (req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/v[0-9.]+/, '');
    const cond = url.searchParams.get('condition');
    seen.push(`${req.method} ${path.replace(/[0-9a-f]{64}/, 'ID')}${cond ? `?condition=${cond}` : ''}${req.headers.upgrade ? ' (upgrade)' : ''}`);
  };
  served.api.server.on('request', record);
  served.api.server.on('upgrade', record);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, DOCKER_HOST: `unix://${served.socket}`, DOCKER_CONFIG: config };
  const docker = (...args: string[]) =>
    new Promise<Run>((resolve) => {
      const child = execFile(DOCKER, args, { env, timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end();
    });
  return { ...served, docker, seen };
}

test('docker run --rm busybox echo hi: create, attach, wait, start; prints hi and exits 0', async (t) => {
  const { docker, seen, containers } = await start(t);
  const r = await docker('run', '--rm', 'busybox', 'echo', 'hi');
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'hi\n');
  assert.equal(r.code, 0);
  assert.deepEqual(
    seen.filter((s) => !s.startsWith('HEAD /_ping')),
    ['POST /containers/create', 'POST /containers/ID/attach (upgrade)', 'POST /containers/ID/wait?condition=removed', 'POST /containers/ID/start'],
  );
  assert.equal(containers.containers.length, 0, '--rm removed it');
  const created = containers.calls.find((c) => c.method === 'create')?.args[0] as { HostConfig: { AutoRemove: boolean }; Cmd: string[] };
  assert.equal(created.HostConfig.AutoRemove, true);
  assert.deepEqual(created.Cmd, ['echo', 'hi']);
});

test('docker run: exit codes, stderr, start failures, missing images', async (t) => {
  const { docker } = await start(t);
  const three = await docker('run', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
  assert.equal(three.code, 3);
  assert.equal(three.stdout, 'out\n');
  assert.equal(three.stderr, 'err\n');

  const noExec = await docker('run', '--rm', 'busybox', 'nosuchcmd');
  assert.equal(noExec.code, 127);
  assert.match(noExec.stderr, /executable file not found in \$PATH/);

  const noImage = await docker('run', '--pull', 'never', 'nope');
  assert.equal(noImage.code, 125);
  assert.match(noImage.stderr, /No such image: nope/);
});

test('docker run -d, ps, logs, stop, wait, inspect, rm -f', async (t) => {
  const { docker } = await start(t);
  const run = await docker('run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo started; sleep 1000');
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  await docker('create', '--name', 'idle', 'busybox');

  const ps = await docker('ps');
  assert.equal(ps.code, 0, ps.stderr);
  const [header, ...rows] = ps.stdout.trimEnd().split('\n');
  assert.match(header ?? '', /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.equal(rows.length, 1);
  assert.match(rows[0] ?? '', new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c echo started;…"\\s+.*Up Less than a second\\s+web$`));
  const names = await docker('ps', '-a', '--format', '{{.Names}}');
  assert.deepEqual(names.stdout.trim().split('\n').sort(), ['idle', 'web']);

  const logs = await docker('logs', 'web');
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, 'started\n');
  const stamped = await docker('logs', '-t', 'web');
  assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT[0-9:.]+Z started\n$/);

  const inspect = await docker('inspect', 'web');
  assert.equal(inspect.code, 0, inspect.stderr);
  const [info] = JSON.parse(inspect.stdout) as { Id: string; State: { Running: boolean } }[];
  assert.equal(info?.Id, id);
  assert.equal(info?.State.Running, true);
  const fmt = await docker('inspect', '--format', '{{.Name}} {{.State.Status}}', 'web');
  assert.equal(fmt.code, 0, fmt.stderr);
  assert.equal(fmt.stdout, '/web running\n');
  // The generic inspect tries containers, then images.
  const mixed = await docker('inspect', '--format', '{{.Id}}', 'web', 'busybox');
  assert.equal(mixed.stdout, `${id}\nsha256:${'a'.repeat(64)}\n`);

  const stop = await docker('stop', '-t', '1', 'web');
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout.trim(), 'web');
  const wait = await docker('wait', 'web');
  assert.equal(wait.stdout.trim(), '143');

  const rm = await docker('rm', '-f', 'web', 'idle');
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(rm.stdout.trim().split('\n'), ['web', 'idle']);
  const gone = await docker('rm', 'web');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No such container: web/);
  assert.equal((await docker('ps', '-aq')).stdout, '');
});
