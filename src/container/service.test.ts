// Real containers: a busybox image imported through the real image store,
// overlay rootfs mounts, berth-monitor and runc, each test on its own daemon root and
// cgroup parent; everything they start is killed and removed afterwards.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'node:test';
import { LocalContentStore } from '../content/index.js';
import { openDatabase, type Db } from '../db/index.js';
import { isCode } from '../errors/index.js';
import { createImageService } from '../image/index.js';
import { createRegistryClient } from '../registry/index.js';
import { Runc } from '../runtime/index.js';
import { OverlaySnapshotter } from '../storage/index.js';
import { tempRoot } from '../testing/index.js';
import { nullLogger } from '../util/index.js';
import { createContainerService, type ContainerEvent, type ContainerStore, type LogEntry } from './index.js';

interface Env {
  root: string;
  db: Db;
  svc: ContainerStore;
  /** a second service on the same root (a daemon restart) */
  reopen(): Promise<ContainerStore>;
}

async function setup(t: test.TestContext): Promise<Env> {
  const cgroupParent = `/berth-test-${randomBytes(6).toString('hex')}`;
  const made: { root?: string; services: ContainerStore[]; db?: Db } = { services: [] };
  // Registered before tempRoot's hook, so it runs first (after-hooks run in order).
  t.after(async () => {
    for (const s of made.services) await s.close();
    const root = made.root;
    if (root) {
      const runc = new Runc({ root: join(root, 'runc'), logDir: join(root, 'runc-log') });
      for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, { force: true }).catch(() => undefined);
      for (const id of await readdir(join(root, 'containers')).catch(() => [] as string[])) {
        const pid = Number((await readFile(join(root, 'containers', id, 'monitor.pid'), 'utf8').catch(() => '0')).trim());
        if (pid > 0) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already exited */
          }
        }
      }
    }
    made.db?.close();
    for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      const parent = join('/sys/fs/cgroup', hierarchy, cgroupParent);
      for (const child of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
        if (child.isDirectory()) await rmdir(join(parent, child.name)).catch(() => undefined);
      }
      await rmdir(parent).catch(() => undefined);
    }
  });
  const root = await tempRoot(t, 'berth-container-');
  made.root = root;
  const db = openDatabase(join(root, 'berth.db'));
  made.db = db;
  const content = await LocalContentStore.open(join(root, 'content'));
  const snapshots = await OverlaySnapshotter.open(join(root, 'overlay'), db);
  const registry = createRegistryClient({ insecureRegistries: [], userAgent: 'berth-test' });
  const images = await createImageService({ db, content, snapshots, registry, log: nullLogger, root });
  const tarPath = join(root, 'busybox.tar');
  execFileSync('/bin/sh', ['-c', ROOTFS_TAR, 'rootfs_tar', tarPath]);
  await images.import(createReadStream(tarPath), { repo: 'busybox', tag: 'latest', changes: ['CMD ["sh"]'] });
  const open = async () => {
    const svc = createContainerService({ db, root, images, snapshots, log: nullLogger, cgroupParent, sweepInterval: 200 });
    made.services.push(svc);
    await svc.restore();
    return svc;
  };
  return { root, db, svc: await open(), reopen: open };
}

/** scripts/lib.sh rootfs_tar, writing to $1. */
const ROOTFS_TAR = `set -e
d=$(mktemp -d)
mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/root" "$d/proc" "$d/sys" "$d/dev"
chmod 1777 "$d/tmp"
cp /bin/busybox "$d/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n' >"$d/etc/passwd"
printf 'root:x:0:\\nnogroup:x:65534:\\n' >"$d/etc/group"
tar -C "$d" --numeric-owner -cf "$1" .
rm -rf "$d"`;

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

type State = { Status: string; Running: boolean; ExitCode: number; Error: string; OOMKilled: boolean; Pid: number; StartedAt: string; FinishedAt: string };
const stateOf = async (svc: ContainerStore, id: string) => (await svc.inspect(id)).State as State;

test('run echo: exit 0, stdout and stderr kept apart in the logs, inspect and list shapes', { timeout: 120_000 }, async (t) => {
  const { svc } = await setup(t);
  const { Id } = await svc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo hello; echo oops >&2; cat /etc/hostname'], Labels: { app: 'x' } }, { name: 'echoer' });
  assert.match(Id, /^[0-9a-f]{64}$/);
  const created = await svc.list({ all: true });
  assert.equal(created[0]?.Status, 'Created');
  const exited = svc.wait(Id, 'next-exit');
  await svc.start('echoer');
  assert.deepEqual(await exited, { StatusCode: 0, Error: null });
  const entries = await collect(svc.logs(Id));
  // Each stream keeps its order; how the two interleave depends on which pipe the monitor reads first.
  const lines = (stream: string) => entries.filter((e) => e.stream === stream).map((e) => e.line.toString());
  assert.equal(entries.length, 3);
  assert.deepEqual(lines('stdout'), ['hello\n', `${Id.slice(0, 12)}\n`]);
  assert.deepEqual(lines('stderr'), ['oops\n']);
  assert.match(entries[0]?.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
  assert.deepEqual((await collect(svc.logs(Id, { stdout: false }))).map((e) => e.line.toString()), ['oops\n']);
  assert.deepEqual((await collect(svc.logs(Id, { tail: 1 }))).map((e) => e.line.toString()), [entries[2]?.line.toString()]);

  const info = await svc.inspect('echoer');
  assert.equal(info.Id, Id);
  assert.equal(info.Name, '/echoer');
  assert.equal(info.Path, 'sh');
  assert.deepEqual(info.Args, ['-c', 'echo hello; echo oops >&2; cat /etc/hostname']);
  assert.match(String(info.Image), /^sha256:[0-9a-f]{64}$/);
  const state = info.State as State;
  assert.equal(state.Status, 'exited');
  assert.equal(state.Running, false);
  assert.equal(state.ExitCode, 0);
  assert.notEqual(state.StartedAt, '0001-01-01T00:00:00Z');
  const config = info.Config as { Image: string; Env: string[]; Labels: Record<string, string>; Hostname: string };
  assert.equal(config.Image, 'busybox');
  assert.equal(config.Hostname, Id.slice(0, 12));
  assert.deepEqual(config.Labels, { app: 'x' });
  assert.equal((info.HostConfig as { NetworkMode: string }).NetworkMode, 'bridge');

  assert.deepEqual(await svc.list(), [], 'exited containers are listed only with all');
  const [summary] = await svc.list({ all: true, filters: { status: ['exited'], label: ['app=x'], ancestor: ['busybox'] } });
  assert.equal(summary?.Id, Id);
  assert.deepEqual(summary?.Names, ['/echoer']);
  assert.equal(summary?.Command, 'sh -c echo hello; echo oops >&2; cat /etc/hostname');
  assert.match(summary?.Status ?? '', /^Exited \(0\) (Less than a second|\d+ seconds?) ago$/);
  assert.deepEqual(await svc.list({ all: true, filters: { exited: ['1'] } }), []);
  assert.deepEqual(await svc.list({ all: true, filters: { name: ['nomatch'] } }), []);

  // exit code 3, and the image's CMD when none is given
  const three = await svc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'exit 3'] });
  const w = svc.wait(three.Id, 'next-exit');
  await svc.start(three.Id);
  assert.equal((await w).StatusCode, 3);
  assert.equal((await stateOf(svc, three.Id)).ExitCode, 3);
  assert.deepEqual((await svc.inspect(Id.slice(0, 10))).Id, Id);

  await assert.rejects(svc.create({ Image: 'busybox' }, { name: 'echoer' }), (e) => isCode(e, 'conflict') && /already in use/.test(e.message));
  await assert.rejects(svc.create({ Image: 'nope-image' }), (e) => isCode(e, 'not_found'));
  await assert.rejects(svc.create({ Image: 'busybox' }, { name: '-bad' }), (e) => isCode(e, 'invalid_argument'));
  assert.equal(svc.imageInUse(String(info.Image)), true);
});

test('a missing executable: start fails with not_found and the container is exited with 127', { timeout: 120_000 }, async (t) => {
  const { svc } = await setup(t);
  const { Id } = await svc.create({ Image: 'busybox', Cmd: ['nope'] });
  const err = await svc.start(Id).catch((e: unknown) => e);
  assert.ok(isCode(err, 'not_found'), String(err));
  assert.match(err.message, /failed to create task for container: .*exec: "nope": executable file not found in \$PATH: unknown/);
  const state = await stateOf(svc, Id);
  assert.equal(state.Status, 'exited');
  assert.equal(state.ExitCode, 127);
  assert.match(state.Error, /executable file not found/);
});

test('stop, kill, rm: SIGTERM ignored by PID 1 then SIGKILL (137), kill -s USR1 reaches a trap, rm of a running container is a conflict', { timeout: 120_000 }, async (t) => {
  const { svc } = await setup(t);
  const { Id } = await svc.create({ Image: 'busybox', Cmd: ['sleep', '1000'] });
  await svc.start(Id);
  const running = await stateOf(svc, Id);
  assert.equal(running.Status, 'running');
  assert.ok(running.Pid > 0);
  assert.match((await svc.list())[0]?.Status ?? '', /^Up /);
  await assert.rejects(svc.start(Id), (e) => isCode(e, 'not_modified'));
  await assert.rejects(svc.remove(Id), (e) => isCode(e, 'conflict') && e.message === `You cannot remove a running container ${Id}. Stop the container before attempting removal or force remove`);
  await svc.stop(Id, { timeout: 1 });
  const stopped = await stateOf(svc, Id);
  assert.equal(stopped.Status, 'exited');
  assert.equal(stopped.ExitCode, 137);
  await assert.rejects(svc.stop(Id), (e) => isCode(e, 'not_modified'));
  await assert.rejects(svc.kill(Id), (e) => isCode(e, 'conflict'));

  const trap = await svc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'trap "echo got usr1; exit 5" USR1; echo ready; while true; do sleep 0.1; done'] }, { name: 'trapper' });
  // waitStart: a follow opened before the start must not end at once, or the USR1 could
  // reach the shell before its trap is set (PID 1 ignores it then, and the wait never ends).
  const ready = (async () => {
    for await (const e of svc.logs(trap.Id, { follow: true, waitStart: true })) if (e.line.toString() === 'ready\n') return;
    throw new Error('the log ended without "ready"');
  })();
  await svc.start('trapper');
  await ready;
  const exited = svc.wait(trap.Id);
  await svc.kill('trapper', 'USR1');
  assert.equal((await exited).StatusCode, 5);
  assert.deepEqual((await collect(svc.logs(trap.Id))).map((e) => e.line.toString()), ['ready\n', 'got usr1\n']);

  // force removal of a running container
  await svc.start(Id);
  await svc.remove(Id, { force: true });
  await assert.rejects(svc.inspect(Id), (e) => isCode(e, 'not_found'));
  assert.deepEqual(await svc.runc.list(), []);
});

test('restart policy on-failure:2 restarts twice then stays exited; --rm removes after exit', { timeout: 120_000 }, async (t) => {
  const { svc } = await setup(t);
  const events: ContainerEvent[] = [];
  svc.onEvent((e) => events.push(e));
  const { Id } = await svc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo run; exit 1'], HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } });
  const thirdDie = new Promise<void>((resolve) => svc.onEvent((e) => e.action === 'die' && e.id === Id && events.filter((x) => x.action === 'die').length === 3 && resolve()));
  await svc.start(Id);
  await thirdDie;
  const info = await svc.inspect(Id);
  assert.equal(info.RestartCount, 2);
  assert.equal((info.State as State).Status, 'exited');
  assert.equal((info.State as State).ExitCode, 1);
  assert.deepEqual(events.filter((e) => e.id === Id).map((e) => e.action), ['create', 'start', 'die', 'restart', 'start', 'die', 'restart', 'start', 'die']);
  assert.equal((await collect(svc.logs(Id))).length, 3, 'the log keeps every run');

  await assert.rejects(svc.create({ Image: 'busybox', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }), (e) => isCode(e, 'invalid_argument'));
  const rm = await svc.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } });
  const removed = svc.wait(rm.Id, 'removed');
  await svc.start(rm.Id);
  assert.equal((await removed).StatusCode, 0);
  await assert.rejects(svc.inspect(rm.Id), (e) => isCode(e, 'not_found'));
});

test('containers survive the service closing; a new service re-adopts the live one and records the exit of the other', { timeout: 120_000 }, async (t) => {
  const env = await setup(t);
  const alive = await env.svc.create({ Image: 'busybox', Cmd: ['sleep', '1000'] });
  const dies = await env.svc.create({ Image: 'busybox', Cmd: ['sleep', '1000'] });
  await env.svc.start(alive.Id);
  await env.svc.start(dies.Id);
  const pid = (await stateOf(env.svc, alive.Id)).Pid;
  await env.svc.close();
  // While no service runs: kill one; the monitor (still its parent) records the exit.
  await env.svc.runc.kill(dies.Id, 'SIGKILL');
  const exitFile = join(env.root, 'exits', dies.Id);
  for (let i = 0; i < 500 && !(await readFile(exitFile, 'utf8').catch(() => '')); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal((await readFile(exitFile, 'utf8')).trim(), '137');

  const svc2 = await env.reopen();
  const state = await stateOf(svc2, alive.Id);
  assert.equal(state.Status, 'running');
  assert.equal(state.Pid, pid);
  const gone = await stateOf(svc2, dies.Id);
  assert.equal(gone.Status, 'exited');
  assert.equal(gone.ExitCode, 137);
  // The re-adopted container's exit is still seen.
  const exited = svc2.wait(alive.Id);
  await svc2.kill(alive.Id, 'SIGKILL');
  assert.equal((await exited).StatusCode, 137);
  assert.equal((await stateOf(svc2, alive.Id)).Status, 'exited');
});

test('a 16m memory limit: the shell that allocates more is OOM-killed (137, OOMKilled)', { timeout: 120_000 }, async (t) => {
  const { svc } = await setup(t);
  const { Id } = await svc.create({
    Image: 'busybox',
    Cmd: ['sh', '-c', "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived ${#x}"],
    HostConfig: { Memory: 16 << 20 },
  });
  const exited = svc.wait(Id, 'next-exit');
  await svc.start(Id);
  assert.equal((await exited).StatusCode, 137);
  const state = await stateOf(svc, Id);
  assert.equal(state.OOMKilled, true);
  assert.equal(state.ExitCode, 137);
});
