// The real bin/berth process against the daemon's API server serving the
// scripted FakeContainerService: run (foreground exit codes, --rm, -d, pull on
// a missing image), ps formats, logs, stop, rm, wait, inspect.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempRoot } from '../testing/index.js';
import { serveFakes } from '../daemon/fakes.js';
import { timestampArg } from './commands/containers.js';
import { startErrorCode } from './commands/run.js';
import { ramInBytes } from './runflags.js';

const BIN = fileURLToPath(new URL('../../../bin/berth', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function withDaemon(t: TestContext) {
  const dir = await tempRoot(t, 'berth-cli-ctr-');
  const served = await serveFakes(dir);
  t.after(() => served.api.close(1000));
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', BERTH_HOST: `unix://${served.socket}`, BERTH_CONFIG: join(dir, 'config'), FROM_CLI_ENV: 'inherited' };
  // Async spawn: the server lives in this process, so the event loop must keep running.
  const berth = (...args: string[]) =>
    new Promise<Result>((resolve, reject) => {
      const child = spawn(BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end();
    });
  return { ...served, dir, berth };
}

test('run in the foreground: output on the right streams, the container exit code, --rm removes', async (t) => {
  const { berth, containers } = await withDaemon(t);
  const hi = await berth('run', '--rm', 'busybox', 'echo', 'hi');
  assert.deepEqual(hi, { code: 0, stdout: 'hi\n', stderr: '' });
  assert.equal(containers.containers.length, 0);

  const three = await berth('run', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
  assert.deepEqual(three, { code: 3, stdout: 'out\n', stderr: 'err\n' });

  const noExec = await berth('run', 'busybox', 'nosuchcmd');
  assert.equal(noExec.code, 127);
  assert.match(noExec.stderr, /^berth: Error response from daemon: .*executable file not found in \$PATH/);

  const noImage = await berth('run', '--pull', 'never', 'nope');
  assert.equal(noImage.code, 125);
  assert.equal(noImage.stderr, 'berth: Error response from daemon: No such image: nope\n');
});

test('run flags become the create request; a missing image is pulled first', async (t) => {
  const { berth, containers, images, dir } = await withDaemon(t);
  const envFile = join(dir, 'env.list');
  await writeFile(envFile, '# comment\nFROM_FILE=1\n\nFROM_CLI_ENV\nUNSET_VAR\n');
  const r = await berth(
    'run', '-d', '--name', 'cfg', '-e', 'A=1', '--env', 'FROM_CLI_ENV', '--env-file', envFile, '-w', '/tmp', '-u', '1000:1000',
    '--entrypoint', '/bin/sh', '-h', 'box', '-l', 'tier=web', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '--restart', 'on-failure:3',
    '--read-only', '--tmpfs', '/run:size=1m', '-v', '/src:/dst:ro', '-m', '512m', '--memory-swap', '1g', '--cpus', '1.5', '-c', '512',
    '--cpuset-cpus', '0-1', '--pids-limit', '100', '--ulimit', 'nofile=1024:2048', '--cap-add', 'NET_ADMIN', '--cap-drop', 'MKNOD',
    '--security-opt', 'no-new-privileges', '--group-add', 'audio', '--init', '--network', 'host', '-t',
    'busybox', '-c', 'echo', '--not-a-berth-flag',
  );
  assert.equal(r.code, 0, r.stderr);
  const [body, opts] = containers.calls.find((c) => c.method === 'create')?.args as [Record<string, unknown>, Record<string, unknown>];
  assert.deepEqual(opts, { name: 'cfg' });
  assert.deepEqual(body.Cmd, ['-c', 'echo', '--not-a-berth-flag']);
  assert.deepEqual(body.Entrypoint, ['/bin/sh']);
  assert.deepEqual(body.Env, ['FROM_FILE=1', 'FROM_CLI_ENV=inherited', 'A=1', 'FROM_CLI_ENV=inherited']);
  assert.equal(body.WorkingDir, '/tmp');
  assert.equal(body.User, '1000:1000');
  assert.equal(body.Hostname, 'box');
  assert.deepEqual(body.Labels, { tier: 'web' });
  assert.equal(body.StopSignal, 'SIGINT');
  assert.equal(body.StopTimeout, 5);
  assert.equal(body.Tty, true);
  assert.deepEqual(body.HostConfig, {
    Binds: ['/src:/dst:ro'],
    Tmpfs: { '/run': 'size=1m' },
    NetworkMode: 'host',
    RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
    AutoRemove: false,
    CapAdd: ['NET_ADMIN'],
    CapDrop: ['MKNOD'],
    GroupAdd: ['audio'],
    Privileged: false,
    ReadonlyRootfs: true,
    SecurityOpt: ['no-new-privileges'],
    Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
    CpusetCpus: '0-1',
    CpuShares: 512,
    PidsLimit: 100,
    Init: true,
    Memory: 512 * 1024 * 1024,
    MemorySwap: 1024 ** 3,
    NanoCpus: 1_500_000_000,
  });

  const pulled = await berth('run', '--rm', 'localhost:5000/fresh:2', 'echo', 'pulled');
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(pulled.stdout, 'pulled\n');
  assert.match(pulled.stderr, /^Unable to find image 'localhost:5000\/fresh:2' locally\n/);
  assert.match(pulled.stderr, /Status: Downloaded newer image for localhost:5000\/fresh:2/);
  assert.deepEqual(images.calls.find((c) => c.method === 'pull')?.args[0], 'localhost:5000/fresh:2');
});

test('run -d, ps tables and formats, logs, stop, wait, inspect, rm', async (t) => {
  const { berth } = await withDaemon(t);
  const run = await berth('run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo started; echo warn >&2; sleep 1000');
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal((await berth('create', '--name', 'idle', 'busybox')).code, 0);

  const ps = await berth('ps');
  const lines = ps.stdout.trimEnd().split('\n');
  // CREATED depends on how long ago the container was made: only its shape is checked.
  assert.match(lines[0] ?? '', /^CONTAINER ID   IMAGE     COMMAND                  CREATED +STATUS                  PORTS     NAMES$/);
  assert.match(lines[1] ?? '', new RegExp(`^${id.slice(0, 12)}   busybox   "sh -c echo started;…"   (Less than a second|\\d+ seconds?) ago +Up Less than a second             web$`));
  assert.equal(lines[0]?.indexOf('STATUS'), lines[1]?.indexOf('Up '));
  assert.equal(lines.length, 2);
  assert.deepEqual((await berth('ps', '-a', '--format', '{{.Names}}')).stdout.split('\n'), ['idle', 'web', '']);
  assert.equal((await berth('ps', '-q', '--no-trunc')).stdout, `${id}\n`);
  assert.equal((await berth('container', 'ls', '-l', '--format', '{{.Names}} {{.State}}')).stdout, 'idle created\n');
  assert.equal((await berth('ps', '-a', '--filter', 'status=created', '--format', 'json')).stdout.split('\n').length, 2);
  assert.match((await berth('ps', '-s')).stdout, /SIZE\n.*12B \(virtual 4\.26MB\)\n$/);

  const logs = await berth('logs', 'web');
  assert.deepEqual(logs, { code: 0, stdout: 'started\n', stderr: 'warn\n' });
  assert.match((await berth('logs', '-t', '--tail', '1', 'web')).stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z warn\n$/);

  const inspect = await berth('inspect', '--format', '{{.Name}} {{.State.Status}}', 'web');
  assert.deepEqual(inspect, { code: 0, stdout: '/web running\n', stderr: '' });
  const mixed = await berth('inspect', '--format', '{{.Id}}', 'web', 'busybox', 'ghost');
  assert.equal(mixed.code, 1);
  assert.equal(mixed.stdout, `${id}\nsha256:${'a'.repeat(64)}\n`);
  assert.equal(mixed.stderr, 'Error: No such object: ghost\n');
  const onlyContainers = await berth('container', 'inspect', 'busybox');
  assert.equal(onlyContainers.code, 1);
  assert.match(onlyContainers.stderr, /No such container: busybox/);

  assert.deepEqual(await berth('stop', '-t', '1', 'web'), { code: 0, stdout: 'web\n', stderr: '' });
  assert.deepEqual(await berth('wait', 'web'), { code: 0, stdout: '143\n', stderr: '' });
  const rm = await berth('rm', 'web', 'ghost', 'idle');
  assert.equal(rm.code, 1);
  assert.equal(rm.stdout, 'web\nidle\n');
  assert.equal(rm.stderr, 'Error response from daemon: No such container: ghost\n');
  assert.equal((await berth('ps', '-aq')).stdout, '');
});

test('start -a attaches and returns the exit code; rm -f removes a running container', async (t) => {
  const { berth } = await withDaemon(t);
  assert.equal((await berth('create', '--name', 'job', 'busybox', 'sh', '-c', 'echo done; exit 4')).code, 0);
  assert.deepEqual(await berth('start', '-a', 'job'), { code: 4, stdout: 'done\n', stderr: '' });
  await berth('run', '-d', '--name', 'svc', 'busybox', 'sh', '-c', 'sleep 9');
  const refused = await berth('rm', 'svc');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /container is running/);
  assert.deepEqual(await berth('container', 'rm', '-f', 'svc'), { code: 0, stdout: 'svc\n', stderr: '' });
  const kill = await berth('kill', 'job');
  assert.equal(kill.code, 1);
  assert.match(kill.stderr, /is not running/);
});

test('memory units, timestamps and start error codes follow docker', () => {
  assert.equal(ramInBytes('512m', '--memory'), 512 * 1024 ** 2);
  assert.equal(ramInBytes('1.5GB', '--memory'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('100k', '--memory'), 102_400);
  assert.equal(ramInBytes('4096', '--memory'), 4096);
  assert.throws(() => ramInBytes('lots', '--memory'), /invalid size: 'lots'/);
  assert.equal(timestampArg('1700000000'), '1700000000');
  assert.equal(timestampArg('10m', 1_700_000_600_000), '1700000000.000000000');
  assert.equal(timestampArg('2024-01-02T03:04:05.5Z'), '1704164645.500000000');
  assert.equal(startErrorCode('exec: "x": executable file not found in $PATH'), 127);
  assert.equal(startErrorCode('exec: "/etc": permission denied'), 126);
  assert.equal(startErrorCode('cgroup setup failed'), 125);
});
