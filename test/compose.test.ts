// Compose against berth's daemon: the three-service application of
// test/fixtures/compose/app driven by Debian's docker-compose 1.29 (docker-py
// speaking the Engine API): up, the published port, DNS by service name, a
// shared volume, scale, recreation of only what changed, logs, exec, run, down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { CLI_MAIN, daemonWithBusybox, freePort, run, type Daemon } from './harness/index.js';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
const APP = join(CHECKOUT, 'test/fixtures/compose/app');

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The app copied to the daemon's temp dir, and a runner for a compose CLI in it. */
async function app(d: Daemon, port: number) {
  const dir = join(d.dir, 'app');
  await cp(APP, dir, { recursive: true });
  const project = `ct${randomBytes(3).toString('hex')}`;
  const env = { ...process.env, DOCKER_HOST: d.host, WEB_PORT: String(port), HOME: d.dir };
  return { dir, project, env };
}

async function ids(d: Daemon, project: string): Promise<Map<string, string>> {
  const r = await d.cli(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}} {{.ID}}']);
  assert.equal(r.code, 0, r.stderr);
  return new Map(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

test("Debian's docker-compose runs the three-service app against berth: up, reach, scale, recreate what changed, logs, exec, run, down", async (t) => {
  const d = await daemonWithBusybox(t);
  const port = await freePort();
  const { dir, project, env } = await app(d, port);
  const compose = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const r = await run('docker-compose', ['-p', project, ...args], { cwd: dir, env: { ...env, ...extraEnv }, timeoutMs: 180_000 });
    assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  // no `down` hook: the daemon's own cleanup (registered first, run first) removes its
  // containers, networks and volumes, also when the test fails half-way

  await compose(['up', '-d']);
  // the published port, on loopback
  const page = await until('the web page', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    return res?.ok ? await res.text() : undefined;
  });
  assert.equal(page, 'hello from web (hi)\n');
  // the worker reaches web by its service name and writes to the shared volume the store serves
  const fromWeb = await until('the worker to fetch from web', async () => {
    const r = await run('docker-compose', ['-p', project, 'exec', '-T', 'store', 'cat', '/data/fromweb'], { cwd: dir, env });
    return r.code === 0 && r.stdout ? r.stdout : undefined;
  });
  assert.equal(fromWeb, 'hello from web (hi)\n');
  const ps = await compose(['ps']);
  assert.match(ps.stdout, new RegExp(`${project}_web_1 .*Up \\(healthy\\)`));
  assert.match(ps.stdout, new RegExp(`127\\.0\\.0\\.1:${port}->8080/tcp`));

  // scale the worker; both replicas run
  await compose(['up', '-d', '--scale', 'worker=2']);
  const scaled = await ids(d, project);
  assert.deepEqual([...scaled.keys()].sort(), [`${project}_store_1`, `${project}_web_1`, `${project}_worker_1`, `${project}_worker_2`]);

  // change only the worker: only it is recreated, web and store keep their containers
  await compose(['up', '-d', '--scale', 'worker=2'], { WORKER_MODE: 'changed' });
  const after = await ids(d, project);
  assert.equal(after.get(`${project}_web_1`), scaled.get(`${project}_web_1`));
  assert.equal(after.get(`${project}_store_1`), scaled.get(`${project}_store_1`));
  assert.notEqual(after.get(`${project}_worker_1`), scaled.get(`${project}_worker_1`));
  const mode = await compose(['exec', '-T', '--index', '1', 'worker', 'sh', '-c', 'echo $MODE'], { WORKER_MODE: 'changed' });
  assert.equal(mode.stdout, 'changed\n');

  const logs = await compose(['logs', '--no-color', '--tail', '5', 'worker'], { WORKER_MODE: 'changed' });
  assert.match(logs.stdout, /worker_1 +\| tick/);
  const oneoff = await compose(['run', '--rm', '--no-deps', 'store', 'echo', 'one-off'], { WORKER_MODE: 'changed' });
  assert.match(oneoff.stdout, /one-off/);

  // down -v: containers, the network and the volume are gone
  await compose(['down', '-v', '-t', '1'], { WORKER_MODE: 'changed' });
  assert.equal((await ids(d, project)).size, 0);
  const nets = await d.cli(['network', 'ls', '--format', '{{.Name}}']);
  assert.ok(!nets.stdout.includes(project), nets.stdout);
  const vols = await d.cli(['volume', 'ls', '-q']);
  assert.ok(!vols.stdout.includes(project), vols.stdout);
});

test('berth compose runs the same app: up -d, config, ps, logs, exec, scale, recreate what changed, run, down -v, and docker-compose sees its containers', async (t) => {
  const d = await daemonWithBusybox(t);
  const port = await freePort();
  const { dir, project, env } = await app(d, port);
  const berthCompose = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const r = await run(process.execPath, [CLI_MAIN, '-H', d.host, 'compose', '-p', project, ...args], { cwd: dir, env: { ...env, ...extraEnv }, timeoutMs: 180_000 });
    assert.equal(r.code, 0, `berth compose ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };

  const config = await berthCompose(['config']);
  assert.match(config.stdout, new RegExp(`published: "?${port}"?`));
  assert.match(config.stdout, /condition: service_healthy/);

  await berthCompose(['up', '-d']);
  const page = await until('the web page', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    return res?.ok ? await res.text() : undefined;
  });
  assert.equal(page, 'hello from web (hi)\n');
  const fromWeb = await until('the worker to fetch from web', async () => {
    const r = await run(process.execPath, [CLI_MAIN, '-H', d.host, 'compose', '-p', project, 'exec', '-T', 'store', 'cat', '/data/fromweb'], { cwd: dir, env });
    return r.code === 0 && r.stdout ? r.stdout : undefined;
  });
  assert.equal(fromWeb, 'hello from web (hi)\n');
  const ps = await berthCompose(['ps']);
  assert.match(ps.stdout, new RegExp(`${project}-web-1 `));
  assert.match(ps.stdout, /healthy/);

  // compose's names and labels: docker-compose lists the containers berth compose made
  const theirs = await run('docker-compose', ['-p', project, 'ps', '-q'], { cwd: dir, env });
  assert.equal(theirs.code, 0, theirs.stderr);
  assert.equal(theirs.stdout.trim().split('\n').length, 3, theirs.stdout);

  await berthCompose(['up', '-d', '--scale', 'worker=2']);
  const scaled = await ids(d, project);
  assert.deepEqual([...scaled.keys()].sort(), [`${project}-store-1`, `${project}-web-1`, `${project}-worker-1`, `${project}-worker-2`]);
  await berthCompose(['up', '-d', '--scale', 'worker=2'], { WORKER_MODE: 'changed' });
  const after = await ids(d, project);
  assert.equal(after.get(`${project}-web-1`), scaled.get(`${project}-web-1`));
  assert.equal(after.get(`${project}-store-1`), scaled.get(`${project}-store-1`));
  assert.notEqual(after.get(`${project}-worker-1`), scaled.get(`${project}-worker-1`));

  const logs = await berthCompose(['logs', '--no-color', '--tail', '5', 'worker'], { WORKER_MODE: 'changed' });
  assert.match(logs.stdout, /worker-1 +\| tick/);
  const oneoff = await berthCompose(['run', '--rm', '--no-deps', 'store', 'echo', 'one-off'], { WORKER_MODE: 'changed' });
  assert.match(oneoff.stdout, /one-off/);

  await berthCompose(['down', '-v', '-t', '1'], { WORKER_MODE: 'changed' });
  assert.equal((await ids(d, project)).size, 0);
  const nets = await d.cli(['network', 'ls', '--format', '{{.Name}}']);
  assert.ok(!nets.stdout.includes(project), nets.stdout);
  const vols = await d.cli(['volume', 'ls', '-q']);
  assert.ok(!vols.stdout.includes(project), vols.stdout);
});

test('berth compose: an invalid file names the path, an unknown key is reported, a missing image stops up naming the service', async (t) => {
  const d = await daemonWithBusybox(t);
  const { writeFile, mkdir } = await import('node:fs/promises');
  const dir = join(d.dir, 'bad');
  await mkdir(dir, { recursive: true });
  const compose = (args: string[]) => run(process.execPath, [CLI_MAIN, '-H', d.host, 'compose', ...args], { cwd: dir, env: { ...process.env, HOME: d.dir } });
  await writeFile(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    prots: ["80"]\n    ports: [{}]\n');
  const invalid = await compose(['config']);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /services\.web Additional property prots is not allowed/);
  // an image that cannot be pulled stops up before anything is created, naming the service
  await writeFile(join(dir, 'compose.yaml'), 'services:\n  ok:\n    image: busybox\n    command: sleep 60\n  broken:\n    image: 127.0.0.1:9/nope:1\n    depends_on: [ok]\n');
  const noImage = await compose(['-p', 'badproj', 'up', '-d']);
  assert.equal(noImage.code, 1);
  assert.match(noImage.stderr, /broken/);
  // a container that cannot start stops up naming it; what was created stays for down
  await writeFile(join(dir, 'compose.yaml'), 'services:\n  ok:\n    image: busybox\n    command: sleep 60\n  broken:\n    image: busybox\n    command: ["/no/such/binary"]\n    depends_on: [ok]\n');
  const up = await compose(['-p', 'badproj', 'up', '-d']);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /broken/);
  // what was created stays for down to clean
  assert.match((await d.cli(['ps', '-a', '--format', '{{.Names}}'])).stdout, /badproj-ok-1/);
  assert.equal((await compose(['-p', 'badproj', 'down'])).code, 0);
  assert.equal((await d.cli(['ps', '-a', '-q'])).stdout, '');
});

test('berth compose: push and pull with berth login credentials, build, up --wait, images, top, port', async (t) => {
  const { startRegistry } = await import('./harness/index.js');
  const { writeFile, mkdir } = await import('node:fs/promises');
  const creds = { user: 'composer', password: 'pw-compose-1' };
  const reg = await startRegistry(t, { htpasswd: creds });
  const d = await daemonWithBusybox(t);
  const dir = join(d.dir, 'pushapp');
  await mkdir(join(dir, 'web'), { recursive: true });
  await writeFile(join(dir, 'web', 'Dockerfile'), 'FROM busybox\nRUN echo built-by-compose > /index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/"]\n');
  const port = await freePort();
  await writeFile(
    join(dir, 'compose.yaml'),
    `services:\n  web:\n    build: ./web\n    image: ${reg.host}/apps/web:1\n    ports: ["127.0.0.1:${port}:8080"]\n    healthcheck:\n      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]\n      interval: 1s\n`,
  );
  const env = { ...process.env, HOME: join(d.dir, 'home') }; // the HOME d.cli uses, so `berth login` is seen
  const compose = async (args: string[]) => {
    const r = await run(process.execPath, [CLI_MAIN, '-H', d.host, 'compose', '-p', 'pushapp', ...args], { cwd: dir, env, timeoutMs: 180_000 });
    assert.equal(r.code, 0, `berth compose ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  await compose(['build']);
  // pushing needs the registry's credentials: without a login it is refused, after `berth login` it goes through
  const refused = await run(process.execPath, [CLI_MAIN, '-H', d.host, 'compose', '-p', 'pushapp', 'push'], { cwd: dir, env });
  assert.notEqual(refused.code, 0);
  const login = await d.cli(['login', '-u', creds.user, '--password-stdin', reg.host], { input: `${creds.password}\n` });
  assert.equal(login.code, 0, login.stderr);
  await compose(['push']);
  assert.equal((await d.cli(['rmi', `${reg.host}/apps/web:1`])).code, 0);
  await compose(['pull']);
  await compose(['up', '-d', '--wait', '--no-build']);
  const res = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(await res.text(), 'built-by-compose\n');
  assert.match((await compose(['images'])).stdout, new RegExp(`${reg.host}/apps/web`));
  assert.match((await compose(['top'])).stdout, /httpd/);
  assert.equal((await compose(['port', 'web', '8080'])).stdout.trim(), `127.0.0.1:${port}`);
  await compose(['down', '--rmi', 'all']);
  assert.equal((await d.cli(['image', 'inspect', `${reg.host}/apps/web:1`])).code, 1);
});

test('berth compose up in the foreground: prefixed output of every service, returns when they have all exited', async (t) => {
  const d = await daemonWithBusybox(t);
  const { writeFile, mkdir } = await import('node:fs/promises');
  const dir = join(d.dir, 'fg');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'compose.yaml'), 'services:\n  a:\n    image: busybox\n    command: sh -c "echo from a; sleep 1; echo a done"\n  b:\n    image: busybox\n    command: sh -c "echo from b; exit 3"\n');
  const r = await run(process.execPath, [CLI_MAIN, '-H', d.host, 'compose', '-p', 'fg', 'up'], { cwd: dir, env: { ...process.env, HOME: d.dir }, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^fg-a-1 {2}\| from a$/m);
  assert.match(r.stdout, /^fg-a-1 {2}\| a done$/m);
  assert.match(r.stdout, /^fg-b-1 {2}\| from b$/m);
  assert.match(r.stdout, /fg-b-1 exited with code 3/);
});
