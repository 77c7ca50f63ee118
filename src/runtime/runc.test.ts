// Real containers under runc: the spec buildSpec makes must hold from inside.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import test from 'node:test';
import { isCode } from '../errors/index.js';
import { maskOfCapabilities, DEFAULT_CAPABILITIES } from './caps.js';
import { DEFAULT_MASKED_PATHS } from './spec.js';
import { startFailureExitCode, type ContainerStatus, type Runc } from './runc.js';
import { box, PATH_ENV } from './testbox.js';

const sh = (script: string) => ['/bin/sh', '-c', script];

async function waitForStatus(runc: Runc, id: string, want: ContainerStatus): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await runc.state(id)).status === want) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`container ${id} never reached ${want}`);
}

test('a default container: seccomp, no_new_privs, docker caps, hostname, pid 1, masked paths, read-only /proc/sys, unshare denied', async (t) => {
  const b = await box(t);
  const script = [
    "grep -E '^(Seccomp|NoNewPrivs|CapInh|CapPrm|CapEff|CapBnd|CapAmb):' /proc/self/status",
    'echo host=$(hostname)',
    "echo init=$(tr '\\0' ' ' < /proc/1/cmdline)",
    // Each masked path: a file reads as /dev/null (char 1,3), a directory as an empty tmpfs.
    'for p in ' + DEFAULT_MASKED_PATHS.join(' ') + '; do',
    '  if [ -d $p ]; then echo "masked $p dir $(ls -A $p | wc -l)"; elif [ -e $p ]; then echo "masked $p file $(stat -c %t,%T $p)"; fi',
    'done',
    '(echo 1 > /proc/sys/kernel/panic) 2>/dev/null && echo procsys=writable || echo procsys=readonly',
    'unshare -n true 2>&1; echo unshare=$?',
    // A user namespace needs no capability: only seccomp stands in the way.
    'unshare -U true 2>&1; echo unshare_user=$?',
    'mkdir -p /mnt; mount -t tmpfs none /mnt 2>&1; echo mount=$?',
    'ps -o pid,comm | grep -c . | sed s/^/ps_lines=/',
    'ls /bin/ls >/dev/null && echo ls=ok',
  ].join('\n');
  const { path } = await b.bundle('defaults', {
    args: sh(script),
    env: [PATH_ENV],
    hostname: 'berth-box',
    noNewPrivileges: true,
    cgroupsPath: `${b.cgroupParent}/defaults`,
  });
  const out = await b.runc.run('defaults', path);
  assert.equal(out.exitCode, 0, out.stderr);
  const lines = out.stdout.split('\n');
  const field = (name: string) => lines.find((l) => l.startsWith(name))?.split(/[:=]\s*/)[1]?.trim();
  assert.equal(field('Seccomp'), '2', 'seccomp filter mode');
  assert.equal(field('NoNewPrivs'), '1');
  assert.equal(field('CapEff'), '00000000a80425fb');
  assert.equal(field('CapEff'), maskOfCapabilities(DEFAULT_CAPABILITIES));
  assert.equal(field('CapPrm'), '00000000a80425fb');
  assert.equal(field('CapBnd'), '00000000a80425fb');
  assert.equal(field('CapInh'), '0000000000000000');
  assert.equal(field('CapAmb'), '0000000000000000');
  assert.equal(field('host'), 'berth-box');
  assert.match(field('init') ?? '', /^\/bin\/sh -c grep/);
  // This kernel has no /proc/kcore (runc skips masked paths that do not exist); check every one that does.
  const masked = lines.filter((l) => l.startsWith('masked '));
  const present = DEFAULT_MASKED_PATHS.filter((p) => existsSync(p));
  assert.ok(present.includes('/proc/keys') && present.includes('/sys/firmware'), `host has ${present.join(' ')}`);
  assert.deepEqual(
    masked,
    present.map((p) => (statSync(p).isDirectory() ? `masked ${p} dir 0` : `masked ${p} file 1,3`)),
  );
  assert.equal(field('procsys'), 'readonly');
  assert.match(out.stdout, /unshare: unshare\(0x40000000\): Operation not permitted\nunshare=1/);
  assert.match(out.stdout, /unshare: unshare\(0x10000000\): Operation not permitted\nunshare_user=1/);
  assert.match(out.stdout, /mount: permission denied \(are you root\?\)\nmount=1/);
  assert.ok(Number(field('ps_lines')) >= 3, 'ps lists the container processes');
  assert.equal(field('ls'), 'ok');
});

test('CAP_SYS_ADMIN opens unshare and mount; NoNewPrivs stays off by default', async (t) => {
  const b = await box(t);
  const { path } = await b.bundle('admin', {
    args: sh('unshare -n true; echo unshare=$?; mkdir -p /mnt; mount -t tmpfs none /mnt; echo mount=$?; grep NoNewPrivs /proc/self/status'),
    env: [PATH_ENV],
    capAdd: ['SYS_ADMIN'],
    cgroupsPath: `${b.cgroupParent}/admin`,
  });
  const out = await b.runc.run('admin', path);
  assert.equal(out.exitCode, 0, out.stderr);
  assert.match(out.stdout, /^unshare=0$/m);
  assert.match(out.stdout, /^mount=0$/m);
  assert.match(out.stdout, /^NoNewPrivs:\s+0$/m);
});

test('unconfined: without the seccomp filter a user namespace can be made', async (t) => {
  const b = await box(t);
  const { path, spec } = await b.bundle('unconfined', {
    args: sh('grep Seccomp: /proc/self/status; unshare -U true; echo unshare_user=$?'),
    env: [PATH_ENV],
    seccomp: 'unconfined',
    cgroupsPath: `${b.cgroupParent}/unconfined`,
  });
  assert.equal(spec.linux.seccomp, undefined);
  const out = await b.runc.run('unconfined', path);
  assert.equal(out.exitCode, 0, out.stderr);
  assert.match(out.stdout, /^Seccomp:\s+0$/m);
  assert.match(out.stdout, /^unshare_user=0$/m);
});

test('host network, wget to a loopback server, clamped nofile, read-only rootfs with a tmpfs', async (t) => {
  const b = await box(t);
  const server = createServer((_req, res) => res.end('hello from the host\n'));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const askedNofile = 1 << 20;
  const { path, spec } = await b.bundle('net', {
    args: sh(
      [
        `wget -q -O - http://127.0.0.1:${port}/`,
        'echo nofile=$(ulimit -n)',
        '(touch /newfile) 2>/dev/null && echo rootfs=writable || echo rootfs=readonly',
        'touch /tmp/ok && echo tmp=writable',
      ].join('\n'),
    ),
    env: [PATH_ENV],
    namespaces: { network: 'host' },
    ulimits: [{ name: 'nofile', soft: askedNofile, hard: askedNofile }],
    readonlyRootfs: true,
    tmpfs: [{ destination: '/tmp' }],
    cgroupsPath: `${b.cgroupParent}/net`,
  });
  const expectedNofile = Math.min(askedNofile, b.host.rlimitHard.RLIMIT_NOFILE ?? Infinity);
  assert.equal(spec.process.rlimits?.[0]?.hard, expectedNofile);
  const out = await b.runc.run('net', path);
  assert.equal(out.exitCode, 0, out.stderr);
  assert.match(out.stdout, /^hello from the host$/m);
  assert.match(out.stdout, new RegExp(`^nofile=${expectedNofile}$`, 'm'));
  assert.match(out.stdout, /^rootfs=readonly$/m);
  assert.match(out.stdout, /^tmp=writable$/m);
});

test('a 16m memory limit OOM-kills a container that needs more (exit 137)', async (t) => {
  const b = await box(t);
  const { path } = await b.bundle('oom', {
    // The shell keeps the whole 64 MiB command substitution in memory.
    args: sh("x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived ${#x}"),
    env: [PATH_ENV],
    resources: { memory: 16 << 20 },
    cgroupsPath: `${b.cgroupParent}/oom`,
  });
  const out = await b.runc.run('oom', path);
  assert.equal(out.exitCode, 137, `stdout: ${out.stdout} stderr: ${out.stderr}`);
  assert.doesNotMatch(out.stdout, /survived/);
});

test('lifecycle: created -> running -> paused -> running -> stopped -> deleted, with its v1 cgroup', async (t) => {
  const b = await box(t);
  const id = 'life';
  const { path } = await b.bundle(id, {
    args: ['sleep', '100'],
    env: [PATH_ENV],
    resources: { memory: 16 << 20, pidsLimit: 32 },
    cgroupsPath: `${b.cgroupParent}/${id}`,
  });
  const created = await b.runc.create(id, path, { pidFile: join(b.dir, 'life.pid') });
  assert.ok(created.pid > 0);
  let state = await b.runc.state(id);
  assert.equal(state.status, 'created');
  assert.equal(state.pid, created.pid);
  assert.equal(state.bundle, path);
  await assert.rejects(b.runc.create(id, path, { pidFile: join(b.dir, 'again.pid') }), (e) => isCode(e, 'conflict') && /already exists/.test(e.message));

  // cgroup v1 (this host; a v2 host would have one unified directory)
  if (b.host.cgroupVersion === 1) {
    const memDir = join('/sys/fs/cgroup/memory', b.cgroupParent, id);
    assert.equal((await readFile(join(memDir, 'memory.limit_in_bytes'), 'utf8')).trim(), String(16 << 20));
    assert.equal((await readFile(join(memDir, 'memory.memsw.limit_in_bytes'), 'utf8')).trim(), String(32 << 20));
    assert.equal((await readFile(join('/sys/fs/cgroup/pids', b.cgroupParent, id, 'pids.max'), 'utf8')).trim(), '32');
    assert.match(await readFile(join(memDir, 'cgroup.procs'), 'utf8'), new RegExp(`^${created.pid}$`, 'm'));
  }

  await b.runc.start(id);
  assert.equal((await b.runc.state(id)).status, 'running');
  assert.deepEqual(await b.runc.ps(id), [created.pid]);
  assert.deepEqual((await b.runc.list()).map((c) => [c.id, c.status]), [[id, 'running']]);

  await b.runc.update(id, { memory: { limit: 32 << 20, swap: 64 << 20 } });
  if (b.host.cgroupVersion === 1) {
    assert.equal((await readFile(join('/sys/fs/cgroup/memory', b.cgroupParent, id, 'memory.limit_in_bytes'), 'utf8')).trim(), String(32 << 20));
  }

  await b.runc.pause(id);
  assert.equal((await b.runc.state(id)).status, 'paused');
  await assert.rejects(b.runc.pause(id), (e) => isCode(e, 'conflict'));
  await b.runc.resume(id);
  assert.equal((await b.runc.state(id)).status, 'running');

  await b.runc.kill(id, 'SIGKILL');
  await waitForStatus(b.runc, id, 'stopped');
  state = await b.runc.state(id);
  assert.equal(state.pid, 0);
  await assert.rejects(b.runc.kill(id, 'SIGTERM'), (e) => isCode(e, 'conflict') && /not running/.test(e.message));

  await b.runc.delete(id);
  await assert.rejects(b.runc.state(id), (e) => isCode(e, 'not_found') && /container does not exist/.test(e.message));
  assert.deepEqual(await b.runc.list(), []);
  for (const controller of ['memory', 'pids', 'cpu', 'freezer']) {
    assert.equal(existsSync(join('/sys/fs/cgroup', controller, b.cgroupParent, id)), false, `${controller} cgroup removed`);
  }
});

test('exec failures: not_found (127) and forbidden (126) name the executable', async (t) => {
  const b = await box(t);
  const { path } = await b.bundle('nope', { args: ['nope'], env: [PATH_ENV], cgroupsPath: `${b.cgroupParent}/nope` });
  const err = await b.runc.create('nope', path, { pidFile: join(b.dir, 'nope.pid') }).catch((e: unknown) => e);
  assert.ok(isCode(err, 'not_found'), String(err));
  assert.match(err.message, /exec: "nope": executable file not found in \$PATH/);
  assert.equal(startFailureExitCode(err), 127);
  await assert.rejects(b.runc.run('nope2', path), (e) => isCode(e, 'not_found') && /"nope"/.test(e.message));

  const { path: denied } = await b.bundle('denied', { args: ['/etc/passwd'], env: [PATH_ENV], cgroupsPath: `${b.cgroupParent}/denied` });
  const err2 = await b.runc.create('denied', denied, { pidFile: join(b.dir, 'denied.pid') }).catch((e: unknown) => e);
  assert.ok(isCode(err2, 'forbidden'), String(err2));
  assert.match(err2.message, /exec: "\/etc\/passwd": permission denied/);
  assert.equal(startFailureExitCode(err2), 126);
  await assert.rejects(b.runc.state('never-made'), (e) => isCode(e, 'not_found'));
});

test('create with piped stdio: the pipes become the container process stdio', async (t) => {
  const b = await box(t);
  const { path } = await b.bundle('piped', {
    args: sh('read line; echo "got $line"; echo to-stderr >&2'),
    env: [PATH_ENV],
    cgroupsPath: `${b.cgroupParent}/piped`,
  });
  const c = await b.runc.create('piped', path, { pidFile: join(b.dir, 'piped.pid'), stdio: ['pipe', 'pipe', 'pipe'] });
  assert.ok(c.stdin && c.stdout && c.stderr);
  const read = async (s: NodeJS.ReadableStream) => {
    let text = '';
    for await (const chunk of s) text += String(chunk);
    return text;
  };
  const [stdout, stderr] = [read(c.stdout), read(c.stderr)];
  await b.runc.start('piped');
  c.stdin.end('ping\n');
  assert.equal(await stdout, 'got ping\n');
  assert.equal(await stderr, 'to-stderr\n');
  await waitForStatus(b.runc, 'piped', 'stopped');
  await b.runc.kill('piped', 'KILL', { all: true }).catch((e: unknown) => assert.ok(isCode(e, 'conflict'), String(e)));
  await b.runc.delete('piped');
});
