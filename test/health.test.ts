// Health checks, --init and update end to end, through the real docker CLI
// against a berth daemon running real containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { daemonWithBusybox, type Daemon } from './harness/index.js';

/** Poll until fn returns a value (not a timing assertion: the deadline only keeps a broken run from hanging). */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

async function healthOf(d: Daemon, name: string): Promise<{ Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] }> {
  const r = await d.docker(['inspect', '-f', '{{json .State.Health}}', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as never;
}

test('health checks: starting, unhealthy after the retries, healthy once the probe passes; ps, filters, inspect and events', async (t) => {
  const d = await daemonWithBusybox(t);
  const since = Math.floor(Date.now() / 1000) - 1;
  const started = await d.docker([
    'run', '-d', '--name', 'doc', '--health-cmd', 'test -f /tmp/ok && echo fine',
    '--health-interval', '200ms', '--health-retries', '2', '--health-timeout', '5s',
    'busybox', 'sleep', '1000',
  ]);
  assert.equal(started.code, 0, started.stderr);
  assert.equal((await healthOf(d, 'doc')).Status, 'starting');

  const unhealthy = await eventually('unhealthy', async () => {
    const h = await healthOf(d, 'doc');
    return h.Status === 'unhealthy' ? h : undefined;
  });
  assert.ok(unhealthy.FailingStreak >= 2);
  assert.ok(unhealthy.Log.length >= 2 && unhealthy.Log.length <= 5);
  assert.ok(unhealthy.Log.every((l) => l.ExitCode === 1));
  const ps = await d.docker(['ps', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps.stdout, /^doc Up .* \(unhealthy\)$/m);
  const filtered = await d.docker(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}']);
  assert.equal(filtered.stdout, 'doc\n');
  assert.equal((await d.docker(['ps', '--filter', 'health=healthy', '-q'])).stdout, '');

  assert.equal((await d.docker(['exec', 'doc', 'touch', '/tmp/ok'])).code, 0);
  const healthy = await eventually('healthy', async () => {
    const h = await healthOf(d, 'doc');
    return h.Status === 'healthy' ? h : undefined;
  });
  assert.equal(healthy.FailingStreak, 0);
  assert.deepEqual(healthy.Log.at(-1), { ...healthy.Log.at(-1), ExitCode: 0, Output: 'fine\n' });
  assert.match((await d.docker(['ps', '--format', '{{.Status}}'])).stdout, /\(healthy\)/);

  const events = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'event=health_status', '--format', '{{.Action}}']);
  assert.equal(events.code, 0, events.stderr);
  assert.deepEqual(events.stdout.trim().split('\n'), ['health_status: unhealthy', 'health_status: healthy']);

  // --no-healthcheck turns an image's or a flag's check off; the container has no Health then
  const none = await d.docker(['run', '-d', '--name', 'plain', '--no-healthcheck', 'busybox', 'sleep', '1000']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Health}}', 'plain'])).stdout.trim(), '<nil>');
  assert.equal((await d.docker(['ps', '--filter', 'health=none', '--format', '{{.Names}}'])).stdout, 'plain\n');
});

test('a probe that outlives its timeout counts as a failure with docker\'s message', async (t) => {
  const d = await daemonWithBusybox(t);
  const started = await d.docker(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-interval', '100ms', '--health-timeout', '300ms', '--health-retries', '1', 'busybox', 'sleep', '1000']);
  assert.equal(started.code, 0, started.stderr);
  const h = await eventually('unhealthy', async () => {
    const v = await healthOf(d, 'slow');
    return v.Status === 'unhealthy' ? v : undefined;
  });
  assert.equal(h.Log[0]?.ExitCode, -1);
  assert.equal(h.Log[0]?.Output, 'Health check exceeded timeout (300ms)');
});

test('--init: tini is PID 1 and the command its child; signals reach it', async (t) => {
  const d = await daemonWithBusybox(t);
  const r = await d.docker(['run', '--rm', '--init', 'busybox', 'ps', '-o', 'pid,args']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').slice(1).map((l) => l.trim());
  assert.equal(lines[0], '1 /sbin/docker-init -- ps -o pid,args');
  assert.match(lines[1] ?? '', /^\d+ ps -o pid,args$/);
  // sh as PID 1 ignores SIGTERM; under tini it dies of it (143) right away
  const c = await d.docker(['run', '-d', '--init', '--name', 'tini', 'busybox', 'sh', '-c', 'sleep 1000']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await d.docker(['kill', '-s', 'TERM', 'tini'])).code, 0);
  const waited = await d.docker(['wait', 'tini']);
  assert.equal(waited.stdout.trim(), '143');
});

test('docker update: new memory and pids limits reach the live cgroup; restart policy changes', async (t) => {
  const d = await daemonWithBusybox(t);
  const c = await d.docker(['run', '-d', '--name', 'up', '-m', '32m', 'busybox', 'sleep', '1000']);
  assert.equal(c.code, 0, c.stderr);
  const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'up'])).stdout.trim();
  const cgroups = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  const cgroupOf = (ctl: string) => {
    const line = cgroups.split('\n').find((l) => l.split(':')[1]?.split(',').includes(ctl));
    assert.ok(line, `no ${ctl} cgroup`);
    return `/sys/fs/cgroup/${ctl}${line.split(':')[2]}`;
  };
  const memLimit = () => readFile(`${cgroupOf('memory')}/memory.limit_in_bytes`, 'utf8').then((s) => s.trim());
  assert.equal(await memLimit(), String(32 * 1024 * 1024));
  const up = await d.docker(['update', '-m', '64m', '--memory-swap', '128m', '--pids-limit', '50', '--restart', 'on-failure:3', 'up']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout, 'up\n');
  assert.equal(await memLimit(), String(64 * 1024 * 1024));
  assert.equal((await readFile(`${cgroupOf('pids')}/pids.max`, 'utf8')).trim(), '50');
  const hc = await d.docker(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'up']);
  assert.equal(hc.stdout.trim(), `${64 * 1024 * 1024} 50 on-failure:3`);
  const missing = await d.docker(['update', '-m', '64m', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nope/);
});
