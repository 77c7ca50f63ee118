// The CLI's interactive side and the newer run/create flags: pure parsers,
// then the real bin/berth against the fake engine (hijacked echo sessions),
// the docker CLI as an independent peer for request bodies, and a real pty
// (util-linux `script`) for raw mode, resizes and detach keys.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempRoot } from '../testing/index.js';
import { startFakeEngine, type FakeEngine, type HijackSession } from './fakeengine.js';
import { DetachKeyMatcher, parseDetachKeys, detachKeysFor, DEFAULT_DETACH_KEYS } from './detachkeys.js';
import { compactJson, healthcheck, parseExtraHost, parseGoDuration, parseMount, parsePorts, securityOpts, FlagError } from './runflags.js';
import { naturalLess, portLines, updateBody } from './commands/update.js';
import { parseArgs } from './args.js';
import { resolveCommand } from './commands.js';

const BIN = fileURLToPath(new URL('../../../bin/berth', import.meta.url));
const run = promisify(execFile);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function withEngine(t: TestContext) {
  // One hook that undoes everything last-made-first: children killed, then the engine, then the dir
  // (node:test runs t.after hooks first-registered-first, and a live child could recreate the dir).
  const undo: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of undo.reverse()) await fn();
  });
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-io-'));
  undo.push(() => rm(dir, { recursive: true, force: true }));
  const engine = await startFakeEngine(dir);
  undo.push(() => engine.close());
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', BERTH_HOST: `unix://${engine.socket}`, BERTH_CONFIG: join(dir, 'config') };
  /** Runs bin/berth; `input` undefined leaves stdin open until `control.endInput()`. */
  const berth = (args: string[], input?: string) => {
    const child = spawn(BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    undo.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('close', r));
      }
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<Result>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    if (input !== undefined) child.stdin.end(input);
    return { child, done };
  };
  const result = (args: string[], input = '') => berth(args, input).done;
  return { dir, engine, env, berth, result };
}

/** Resolves once a session satisfies `match` (checked on every change). */
function sessionWhere(engine: FakeEngine, match: (s: HijackSession) => boolean, timeoutMs = 30_000): Promise<HijackSession> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      engine.events.off('data', check);
      engine.events.off('session', check);
      reject(new Error(`no matching session within ${timeoutMs} ms; sessions: ${engine.sessions.map((s) => `${s.target} (${JSON.stringify(s.received.toString())})`).join(', ') || 'none'}`));
    }, timeoutMs);
    const check = () => {
      const hit = engine.sessions.find(match);
      if (!hit) return;
      engine.events.off('data', check);
      engine.events.off('session', check);
      clearTimeout(timer);
      resolve(hit);
    };
    engine.events.on('data', check);
    engine.events.on('session', check);
    check();
  });
}

/** Does the request go to `/containers/{name or its id}/{suffix}`? */
const isFor = (engine: FakeEngine, name: string, suffix: string) => (r: { path: string }) =>
  r.path.endsWith(`/containers/${name}/${suffix}`) || r.path.endsWith(`/containers/${engine.containers.get(name)?.id ?? '-'}/${suffix}`);

const bodyOf = (engine: FakeEngine, method: string, suffix: string) => {
  const hit = engine.requests.filter((r) => r.method === method && r.path.endsWith(suffix)).at(-1);
  assert.ok(hit, `no ${method} ${suffix}`);
  return JSON.parse(hit.body.toString()) as Record<string, unknown> & { HostConfig: Record<string, unknown> };
};

// ---------------------------------------------------------------- detach keys

test('detach keys: docker syntax, fallback to the default, matching across chunks without losing input', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 1, 26, 27, 28, 29, 30, 31]);
  assert.deepEqual([...parseDetachKeys('a,b,ctrl-x')], [97, 98, 24]);
  assert.deepEqual([...parseDetachKeys('ctrl-1,x')], [120]); // an unknown ctrl- name is skipped, as moby/term does
  assert.throws(() => parseDetachKeys('alt-x'), /^Error: Unknown character: 'alt-x'$/);
  const warnings: string[] = [];
  assert.deepEqual(detachKeysFor('alt-x', (w) => warnings.push(w)), DEFAULT_DETACH_KEYS);
  assert.deepEqual(warnings, ["invalid detach escape keys, using default: Unknown character: 'alt-x'"]);
  assert.deepEqual(detachKeysFor('', () => assert.fail('no warning')), DEFAULT_DETACH_KEYS);

  const m = new DetachKeyMatcher(DEFAULT_DETACH_KEYS);
  assert.deepEqual(m.push(Buffer.from('ls\r')), { forward: Buffer.from('ls\r'), detached: false });
  // ctrl-p alone is held back, then released when the next byte is not ctrl-q.
  assert.deepEqual(m.push(Buffer.from([16])), { forward: Buffer.alloc(0), detached: false });
  assert.deepEqual(m.push(Buffer.from('x')), { forward: Buffer.from([16, 120]), detached: false });
  // ctrl-p ctrl-p ctrl-q: the first ctrl-p goes through, the pair detaches.
  assert.deepEqual(m.push(Buffer.from([104, 16, 16])), { forward: Buffer.from([104, 16]), detached: false });
  assert.deepEqual(m.push(Buffer.from([17, 65])), { forward: Buffer.alloc(0), detached: true });
  const single = new DetachKeyMatcher(parseDetachKeys('q'));
  assert.deepEqual(single.push(Buffer.from('abqc')), { forward: Buffer.from('ab'), detached: true });
});

// ---------------------------------------------------------------- run/create flag parsers

test('--mount: docker CSV to HostConfig.Mounts, with its errors', () => {
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared'), {
    Type: 'bind',
    Source: '/a',
    Target: '/b',
    ReadOnly: true,
    BindOptions: { Propagation: 'rshared' },
  });
  assert.deepEqual(parseMount('source=v1,target=/data,volume-nocopy'), { Type: 'volume', Source: 'v1', Target: '/data', VolumeOptions: { NoCopy: true, DriverConfig: {} } });
  assert.deepEqual(parseMount('type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } });
  assert.deepEqual(parseMount('type=bind,"dst=/b,c",ro=false'), { Type: 'bind', Target: '/b,c', ReadOnly: false });
  const bad = (spec: string, message: string) => assert.throws(() => parseMount(spec), { name: 'UsageError', message: `invalid argument "${spec}" for "--mount" flag: ${message}` });
  bad('src=/a', 'target is required');
  bad('type=bind,src=/a,dst=/x,bogus=1', "unexpected key 'bogus' in 'bogus=1'");
  bad('type=bind,dst=/x,readonly=maybe', 'invalid value for readonly: maybe');
  bad('type=bind,dst=/b,foo', "invalid field 'foo' must be a key=value pair");
  bad('type=tmpfs,dst=/x,tmpfs-size=abc', 'invalid value for tmpfs-size: abc');
  bad('type=bind,src=/a,dst=/b,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'");
  bad('type=volume,dst=/b,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'");
});

test('-p/--expose: docker port specs to ExposedPorts and PortBindings, with its errors', () => {
  const specs = parsePorts(['8080:80', '127.0.0.1:8081:81/udp', '82', '8000-8001:90-91', '[::1]:8443:443', '127.0.0.1::5000', '7000-7001:70', '8080:80'], ['9000/udp', '6000-6001']);
  assert.deepEqual(specs.portBindings, {
    '80/tcp': [
      { HostIp: '', HostPort: '8080' },
      { HostIp: '', HostPort: '8080' },
    ],
    '81/udp': [{ HostIp: '127.0.0.1', HostPort: '8081' }],
    '82/tcp': [{ HostIp: '', HostPort: '' }],
    '90/tcp': [{ HostIp: '', HostPort: '8000' }],
    '91/tcp': [{ HostIp: '', HostPort: '8001' }],
    '443/tcp': [{ HostIp: '::1', HostPort: '8443' }],
    '5000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '70/tcp': [{ HostIp: '', HostPort: '7000-7001' }],
  });
  assert.deepEqual(Object.keys(specs.exposedPorts).sort(), ['443/tcp', '5000/tcp', '6000/tcp', '6001/tcp', '70/tcp', '80/tcp', '81/udp', '82/tcp', '90/tcp', '9000/udp', '91/tcp']);
  const bad = (spec: string, message: string) => assert.throws(() => parsePorts([spec], []), (err) => err instanceof FlagError && err.message === message);
  bad('80:80:80:80', 'invalid IP address: 80:80');
  bad('abc', 'invalid containerPort: abc');
  bad('70000:80', 'invalid hostPort: 70000');
  bad('8000-8002:80-81', 'invalid ranges specified for container and host Ports: 80-81 and 8000-8002');
  bad('80/xyz', 'invalid proto: xyz');
  assert.throws(() => parsePorts([], ['abc']), { message: 'invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax' });
});

test('health checks: Go durations in nanoseconds, NONE, and docker validation errors', () => {
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5s'), 1.5e9);
  assert.equal(parseGoDuration('500ms'), 5e8);
  assert.equal(parseGoDuration('100us'), 1e5);
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseGoDuration('-1s'), -1e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('1'), { message: 'time: missing unit in duration "1"' });
  assert.throws(() => parseGoDuration('1x'), { message: 'time: unknown unit "x" in duration "1x"' });
  assert.throws(() => parseGoDuration('x'), { message: 'time: invalid duration "x"' });
  const flags = { cmd: '', interval: '', timeout: '', startPeriod: '', startInterval: '', retries: '', none: false };
  assert.equal(healthcheck(flags), undefined);
  assert.deepEqual(healthcheck({ ...flags, cmd: 'curl -f localhost', interval: '1m30s', timeout: '2s', retries: '3', startPeriod: '500ms', startInterval: '1.5s' }), {
    Test: ['CMD-SHELL', 'curl -f localhost'],
    Interval: 90e9,
    Timeout: 2e9,
    StartPeriod: 5e8,
    StartInterval: 1.5e9,
    Retries: 3,
  });
  assert.deepEqual(healthcheck({ ...flags, interval: '2s' }), { Interval: 2e9 });
  assert.deepEqual(healthcheck({ ...flags, none: true }), { Test: ['NONE'] });
  assert.throws(() => healthcheck({ ...flags, none: true, cmd: 'true' }), { message: '--no-healthcheck conflicts with --health-* options' });
  assert.throws(() => healthcheck({ ...flags, interval: '-1s' }), { message: '--health-interval cannot be negative' });
  assert.throws(() => healthcheck({ ...flags, retries: '-1' }), { message: '--health-retries cannot be negative' });
  assert.throws(() => healthcheck({ ...flags, timeout: '1x' }), { name: 'UsageError', message: 'invalid argument "1x" for "--health-timeout" flag: time: unknown unit "x" in duration "1x"' });
});

test('--add-host, --security-opt seccomp=<file> read and compacted client-side', async (t) => {
  assert.equal(parseExtraHost('a:1.2.3.4'), 'a:1.2.3.4');
  assert.equal(parseExtraHost('a=1.2.3.4'), 'a:1.2.3.4');
  assert.equal(parseExtraHost('gw:host-gateway'), 'gw:host-gateway');
  assert.throws(() => parseExtraHost('bad'), { message: 'invalid argument "bad" for "--add-host" flag: bad format for add-host: "bad"' });
  assert.throws(() => parseExtraHost('a:notip'), { message: 'invalid argument "a:notip" for "--add-host" flag: invalid IP address in add-host: "notip"' });

  assert.equal(compactJson('{\n  "a": [ 1, 2 ],\n  "b": "x y\\" z"\n}\n'), '{"a":[1,2],"b":"x y\\" z"}');
  const dir = await tempRoot(t, 'berth-cli-seccomp-');
  const profile = join(dir, 'profile.json');
  await writeFile(profile, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ ]\n}\n');
  assert.deepEqual(await securityOpts([`seccomp=${profile}`, 'seccomp=unconfined', 'no-new-privileges', 'label=disable']), [
    'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}',
    'seccomp=unconfined',
    'no-new-privileges',
    'label=disable',
  ]);
  await assert.rejects(securityOpts([`seccomp=${join(dir, 'nope.json')}`]), {
    message: `opening seccomp profile (${join(dir, 'nope.json')}) failed: open ${join(dir, 'nope.json')}: no such file or directory`,
  });
  await assert.rejects(securityOpts(['seccomp']), { message: 'Invalid --security-opt: "seccomp"' });
});

test('update bodies and port lines', () => {
  const flagsOf = (argv: string[]) => {
    const found = resolveCommand(['update']);
    assert.ok(found);
    return parseArgs(found.def.flags, argv).flags;
  };
  assert.equal(updateBody(flagsOf([])), undefined);
  assert.deepEqual(updateBody(flagsOf(['-m', '10m', '--memory-swap', '-1', '--cpus', '0.5', '-c', '10', '--cpu-period', '1000', '--cpu-quota', '500', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '5', '--restart', 'on-failure:2', '--blkio-weight', '300', '--memory-reservation', '1m'])), {
    Memory: 10485760,
    MemorySwap: -1,
    MemoryReservation: 1048576,
    NanoCpus: 500000000,
    CpuShares: 10,
    CpuPeriod: 1000,
    CpuQuota: 500,
    CpusetCpus: '0',
    CpusetMems: '0',
    PidsLimit: 5,
    BlkioWeight: 300,
    RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
  });
  assert.ok(naturalLess('9000/tcp', '10000/udp'));
  assert.ok(!naturalLess('10000/udp', '9000/tcp'));
  const ports = {
    '9000/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }],
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '8080' },
      { HostIp: '::', HostPort: '8080' },
    ],
    '10000/udp': [{ HostIp: '127.0.0.1', HostPort: '5' }],
    '443/tcp': null,
  };
  assert.deepEqual(portLines(ports, 'web'), ['80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '9000/tcp -> 0.0.0.0:32768', '10000/udp -> 127.0.0.1:5']);
  assert.deepEqual(portLines(ports, 'web', '80'), ['0.0.0.0:8080', '[::]:8080']);
  assert.deepEqual(portLines(ports, 'web', '10000/udp'), ['127.0.0.1:5']);
  assert.throws(() => portLines(ports, 'web', '443'), { message: "Error: No public port '443' published for web" });
  assert.throws(() => portLines(ports, 'web', 'abc'), { message: 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax' });
});

// ---------------------------------------------------------------- the CLI process against the fake engine

test('run/create flags reach the create body exactly as the docker CLI sends them', async (t) => {
  const { engine, env, result, dir } = await withEngine(t);
  const profile = join(dir, 'seccomp.json');
  await writeFile(profile, '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW" } ]\n}\n');
  const flags = [
    '--mount', 'type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared',
    '--mount', 'type=volume,source=v1,target=/data,volume-nocopy',
    '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770',
    '--add-host', 'a:1.2.3.4', '--add-host', 'gw:host-gateway',
    '--health-cmd', 'true', '--health-interval', '1m30s', '--health-timeout', '2s', '--health-retries', '3', '--health-start-period', '500ms', '--health-start-interval', '1.5s',
    '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt', 'k=v=w',
    '--memory-reservation', '100m', '--oom-kill-disable', '--shm-size', '64m', '--sysctl', 'net.ipv4.ip_forward=1',
    '--dns', '10.0.0.53', '--dns-search', 'example.test', '--dns-option', 'ndots:2',
    '--cpu-period', '100000', '--cpu-quota', '50000', '--cpuset-mems', '0',
    '--expose', '7000-7001', '--expose', '9000/udp',
    '-p', '8080:80', '-p', '127.0.0.1:8081:81/udp', '-p', '82', '-p', '8000-8001:90-91', '-p', '[::1]:8443:443', '-P',
    '--security-opt', `seccomp=${profile}`, '--security-opt', 'label=disable',
    'busybox',
  ];
  const ours = await result(['create', ...flags]);
  assert.equal(ours.stderr, '');
  assert.equal(ours.code, 0);
  const berthBody = bodyOf(engine, 'POST', '/containers/create');
  // The docker CLI, pointed at the same fake, is the reference.
  await run('docker', ['-H', env.BERTH_HOST, 'create', ...flags], { env: { ...env, DOCKER_CONFIG: join(dir, 'docker-config') } });
  const dockerBody = bodyOf(engine, 'POST', '/containers/create');
  assert.notEqual(berthBody, dockerBody);
  for (const key of ['ExposedPorts', 'Healthcheck']) assert.deepEqual(berthBody[key], dockerBody[key], key);
  const hostKeys = ['Mounts', 'PortBindings', 'PublishAllPorts', 'ExtraHosts', 'Dns', 'DnsSearch', 'DnsOptions', 'LogConfig', 'MemoryReservation', 'OomKillDisable', 'ShmSize', 'Sysctls', 'CpuPeriod', 'CpuQuota', 'CpusetMems', 'SecurityOpt'];
  for (const key of hostKeys) assert.deepEqual(berthBody.HostConfig[key], dockerBody.HostConfig[key], `HostConfig.${key}`);

  const badPort = await result(['create', '-p', 'abc', 'busybox']);
  assert.deepEqual(badPort, { code: 125, stdout: '', stderr: "berth: invalid containerPort: abc\n\nRun 'berth create --help' for more information\n" });
  const badMount = await result(['run', '--mount', 'src=/a', 'busybox']);
  assert.equal(badMount.code, 125);
  assert.match(badMount.stderr, /^invalid argument "src=\/a" for "--mount" flag: target is required\n\nUsage:  berth run /);
});

test('run -i forwards piped stdin, half-closes at EOF, and prints the echo; no input does not hang', async (t) => {
  const { engine, result } = await withEngine(t);
  const r = await result(['run', '-i', '--name', 'cat1', 'busybox', 'cat'], 'hi\n');
  assert.deepEqual(r, { code: 0, stdout: 'hi\n', stderr: '' });
  const create = bodyOf(engine, 'POST', '/containers/create');
  assert.equal(create.AttachStdin, true);
  assert.equal(create.OpenStdin, true);
  assert.equal(create.StdinOnce, true);
  const session = engine.sessions.find((s) => s.target === 'cat1');
  assert.ok(session);
  assert.equal(session.query.get('stdin'), '1');
  assert.equal(session.received.toString(), 'hi\n');
  assert.equal(session.halfClosed, true);

  const empty = await result(['run', '-i', '--name', 'cat2', 'busybox', 'cat'], '');
  assert.deepEqual(empty, { code: 0, stdout: '', stderr: '' });
  assert.equal(engine.sessions.find((s) => s.target === 'cat2')?.halfClosed, true);

  const noTty = await result(['run', '-it', 'busybox', 'sh'], 'x');
  assert.deepEqual(noTty, { code: 1, stdout: '', stderr: 'the input device is not a TTY\n' });
});

test('signals are proxied to the container without a TTY (--sig-proxy)', async (t) => {
  const { engine, berth } = await withEngine(t);
  const { child, done } = berth(['run', '-i', '--name', 'sleeper', 'busybox', 'cat']); // stdin stays open
  await sessionWhere(engine, (s) => s.target === 'sleeper');
  await engine.waitForRequest(isFor(engine, 'sleeper', 'start'));
  child.kill('SIGTERM');
  const kill = await engine.waitForRequest(isFor(engine, 'sleeper', 'kill'));
  assert.equal(kill.query.get('signal'), 'TERM');
  const r = await done;
  assert.equal(r.code, 128 + 15); // the container's exit code, not the CLI killed by the signal
  assert.equal(r.stderr, 'killed by TERM\n');
});

test('attach: stdin forwarded, the exit code, stopped containers refused; start -a -i and exec -i forward stdin too', async (t) => {
  const { engine, result } = await withEngine(t);
  engine.addContainer('web');
  const r = await result(['attach', 'web'], 'typed\n');
  assert.deepEqual(r, { code: 0, stdout: 'typed\n', stderr: '' });
  const session = engine.sessions.find((s) => s.target === 'web');
  assert.equal(session?.query.get('stdin'), '1');
  assert.equal(session?.halfClosed, true);

  engine.addContainer('quiet');
  const noStdin = result(['attach', '--no-stdin', 'quiet'], 'ignored');
  const quietSession = await sessionWhere(engine, (s) => s.target === 'quiet' && s.halfClosed);
  assert.equal(quietSession.query.get('stdin'), null);
  assert.equal(quietSession.received.length, 0);
  // Without input the fake's "container" runs until killed; its exit code becomes attach's.
  assert.deepEqual(await result(['kill', 'quiet']), { code: 0, stdout: 'quiet\n', stderr: '' });
  assert.deepEqual(await noStdin, { code: 137, stdout: '', stderr: 'killed by KILL\n' });

  engine.addContainer('stopped', { running: false });
  assert.deepEqual(await result(['attach', 'stopped']), { code: 1, stdout: '', stderr: 'You cannot attach to a stopped container, start it first\n' });

  engine.addContainer('again', { running: false });
  const started = await result(['start', '-a', '-i', 'again'], 'once more\n');
  assert.deepEqual(started, { code: 0, stdout: 'once more\n', stderr: '' });

  const exec = await result(['exec', '-i', 'web', 'cat'], 'to exec\n');
  assert.deepEqual(exec, { code: 0, stdout: 'to exec\n', stderr: '' });
  const execSession = engine.sessions.find((s) => s.kind === 'exec');
  assert.equal(execSession?.halfClosed, true);
  assert.equal(bodyOf(engine, 'POST', '/containers/web/exec').AttachStdin, true);
});

test('update and port: docker output and errors; ps prints the server Status as is', async (t) => {
  const { engine, result } = await withEngine(t);
  engine.addContainer('web', { status: 'Up 3 seconds (healthy)', ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], '443/tcp': null } });
  const up = await result(['update', '-m', '64m', '--pids-limit', '-1', '--restart', 'always', 'web', 'missing', 'web']);
  assert.deepEqual(up, { code: 1, stdout: 'web\nweb\n', stderr: 'Error response from daemon: No such container: missing\n' });
  assert.deepEqual(bodyOf(engine, 'POST', '/containers/web/update'), { Memory: 67108864, PidsLimit: -1, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } });
  assert.deepEqual(await result(['update', 'web']), { code: 1, stdout: '', stderr: 'you must provide one or more flags when using this command\n' });

  assert.deepEqual(await result(['port', 'web']), { code: 0, stdout: '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n', stderr: '' });
  assert.deepEqual(await result(['port', 'web', '80/tcp']), { code: 0, stdout: '0.0.0.0:8080\n[::]:8080\n', stderr: '' });
  assert.deepEqual(await result(['port', 'web', '443']), { code: 1, stdout: '', stderr: "Error: No public port '443' published for web\n" });
  assert.deepEqual(await result(['port', 'nope']), { code: 1, stdout: '', stderr: 'Error response from daemon: No such container: nope\n' });
  const tooMany = await result(['port', 'a', 'b', 'c']);
  assert.equal(tooMany.code, 1);
  assert.match(tooMany.stderr, /'berth port' requires at least 1 and at most 2 arguments/);

  assert.deepEqual(await result(['ps', '--format', '{{.Names}} {{.Status}}']), { code: 0, stdout: 'web Up 3 seconds (healthy)\n', stderr: '' });
});

// ---------------------------------------------------------------- a real terminal

test('run -it under a pty: raw mode, the size and its changes, detach keys, terminal restored', async (t) => {
  const { engine, env } = await withEngine(t);
  const shell = `tty; stty rows 24 cols 80; ${BIN} run -it --name term busybox sh; echo "rc=$?"; stty -a`;
  const child = spawn('script', ['-qec', shell, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  const ptyPath = new Promise<string>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /\/dev\/pts\/\d+/.exec(output);
      if (m) resolve(m[0]);
    });
  });
  let errors = '';
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Every wait also ends if `script` does, with what it printed, instead of waiting forever.
  const beforeExit = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, closed.then((code): never => assert.fail(`script exited (${code}) early:\n${output}\n${errors}`))]);
  const resizeTo = (h: number, w: number) => (r: { path: string; query: URLSearchParams }) => isFor(engine, 'term', 'resize')(r) && r.query.get('h') === String(h) && r.query.get('w') === String(w);

  // The first size, once started (the terminal is raw by then).
  await beforeExit(engine.waitForRequest(resizeTo(24, 80)));
  const create = bodyOf(engine, 'POST', '/containers/create');
  assert.equal(create.Tty, true);
  assert.deepEqual(create.HostConfig.ConsoleSize, [24, 80]);
  // A new size reaches the container through SIGWINCH.
  await run('stty', ['-F', await beforeExit(ptyPath), 'rows', '30', 'cols', '100']);
  await beforeExit(engine.waitForRequest(resizeTo(30, 100)));

  // Raw mode: no line buffering, and ctrl-c is a byte for the container, not a signal for the CLI.
  child.stdin.write('ab\x03cd');
  await beforeExit(sessionWhere(engine, (s) => s.target === 'term' && s.received.toString() === 'ab\x03cd'));
  child.stdin.write('\x10\x11');
  const session = await beforeExit(sessionWhere(engine, (s) => s.target === 'term' && s.halfClosed));
  assert.equal(session.received.toString(), 'ab\x03cd'); // the detach keys are not forwarded
  child.stdin.end();
  assert.equal(await closed, 0);
  assert.match(output, /rc=0/);
  // stty -a after the CLI: canonical mode and echo are back.
  const settings = output.slice(output.indexOf('rc=0'));
  assert.match(settings, /(^|\s)icanon(\s|$)/m);
  assert.match(settings, /(^|\s)echo(\s|$)/m);
  assert.equal(engine.containers.get('term')?.running, true); // detached, not stopped
});
