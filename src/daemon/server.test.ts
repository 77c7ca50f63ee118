// The HTTP layer against fake services on a temp unix socket.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { nullLogger } from '../util/index.js';
import { serveFakes, FakeContainerService, FakeImageService, FakeRegistry } from './fakes.js';
import { createApiServer } from './server.js';
import { createSystemInfo } from './sysinfo.js';
import { lines, request } from './testclient.js';

async function start(t: TestContext) {
  const dir = await tempRoot(t, 'berth-daemon-');
  const served = await serveFakes(dir);
  t.after(() => served.api.close(1000));
  const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(served.socket, method, path, opts);
  return { ...served, dir, call };
}

const ENGINE_HEADERS = (h: Record<string, unknown>) => {
  assert.equal(h['api-version'], '1.50');
  assert.equal(h['docker-experimental'], 'false');
  assert.equal(h['ostype'], 'linux');
  assert.match(String(h['server']), /^berth\/\d+\.\d+\.\d+ \(linux\)$/);
};

test('versioned and unversioned paths are served; unsupported versions get dockerd messages', async (t) => {
  const { call } = await start(t);
  for (const path of ['/v1.50/version', '/v1.24/version', '/version', '/v1.44/version']) {
    const r = await call('GET', path);
    assert.equal(r.status, 200, path);
    ENGINE_HEADERS(r.headers);
    assert.equal(r.json<{ ApiVersion: string }>().ApiVersion, '1.50');
  }
  const tooNew = await call('GET', '/v1.51/version');
  assert.equal(tooNew.status, 400);
  ENGINE_HEADERS(tooNew.headers);
  assert.deepEqual(tooNew.json(), { message: 'client version 1.51 is too new. Maximum supported API version is 1.50' });
  const tooOld = await call('GET', '/v1.12/info');
  assert.equal(tooOld.status, 400);
  assert.deepEqual(tooOld.json(), {
    message: 'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
  });
});

test('_ping answers GET and HEAD with dockerd headers', async (t) => {
  const { call } = await start(t);
  for (const method of ['GET', 'HEAD']) {
    for (const path of ['/_ping', '/v1.50/_ping']) {
      const r = await call(method, path);
      assert.equal(r.status, 200);
      ENGINE_HEADERS(r.headers);
      assert.equal(r.body, method === 'GET' ? 'OK' : '');
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(r.headers['builder-version'], '1');
      assert.equal(r.headers['swarm'], 'inactive');
      assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
      assert.equal(r.headers['pragma'], 'no-cache');
    }
  }
});

test('unknown routes and wrong methods are 404 page not found', async (t) => {
  const { call } = await start(t);
  for (const [method, path] of [
    ['GET', '/nope'],
    ['GET', '/v1.50/containers/abc/nope'],
    ['PUT', '/v1.50/images/json'],
    ['POST', '/version'],
    ['GET', '/v9.99/nothing'],
  ] as const) {
    const r = await call(method, path);
    assert.equal(r.status, 404, `${method} ${path}`);
    ENGINE_HEADERS(r.headers);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(r.json(), { message: 'page not found' });
  }
});

test('image names with slashes and colons route to the image endpoints', async (t) => {
  const { call, images } = await start(t);
  const name = 'localhost:5000/ns/app:1';
  const inspect = await call('GET', `/v1.50/images/${name}/json`);
  assert.equal(inspect.status, 200);
  assert.deepEqual(inspect.json<{ RepoTags: string[] }>().RepoTags, [name]);
  const encoded = await call('GET', `/v1.50/images/${encodeURIComponent(name)}/json`);
  assert.equal(encoded.status, 200);

  const history = await call('GET', `/images/${name}/history`);
  assert.equal(history.status, 200);
  assert.equal(history.json<unknown[]>().length, 1);

  const tag = await call('POST', `/v1.50/images/${name}/tag?repo=localhost:5000/other&tag=2`);
  assert.equal(tag.status, 201);
  assert.equal(tag.body, '');
  assert.deepEqual(images.calls.at(-1), { method: 'tag', args: [name, 'localhost:5000/other', '2'] });

  const del = await call('DELETE', `/v1.50/images/localhost:5000/other:2?force=1&noprune=false`);
  assert.equal(del.status, 200);
  assert.deepEqual(del.json(), [{ Untagged: 'localhost:5000/other:2' }]);
  assert.deepEqual(images.calls.at(-1), { method: 'remove', args: ['localhost:5000/other:2', { force: true, noprune: false }] });

  const missing = await call('GET', '/v1.50/images/no/such:thing/json');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'No such image: no/such:thing' });
});

test('image shapes follow the API version', async (t) => {
  const { call, images } = await start(t);
  type Inspect = Record<string, unknown>;
  const v150 = (await call('GET', '/v1.50/images/busybox/json')).json<Inspect>();
  assert.ok(!('Container' in v150) && !('VirtualSize' in v150));
  assert.ok('ContainerConfig' in v150, 'kept for docker-compose 1.29, which reads it at any version');
  const v144 = (await call('GET', '/v1.44/images/busybox/json')).json<Inspect>();
  assert.equal(v144.Container, 'old-container-field');
  assert.ok('ContainerConfig' in v144 && !('VirtualSize' in v144));
  const v143 = (await call('GET', '/v1.43/images/busybox/json')).json<Inspect>();
  assert.equal(v143.VirtualSize, v143.Size);

  images.images.push({ id: `sha256:${'9'.repeat(64)}`, tags: [], size: 1, created: 1 });
  const listOld = (await call('GET', '/v1.42/images/json')).json<Inspect[]>();
  assert.deepEqual(listOld.at(-1)?.RepoTags, ['<none>:<none>']);
  assert.deepEqual(listOld.at(-1)?.RepoDigests, ['<none>@<none>']);
  assert.equal(listOld.at(-1)?.VirtualSize, 1);
  const listNew = (await call('GET', '/v1.50/images/json')).json<Inspect[]>();
  assert.deepEqual(listNew.at(-1)?.RepoTags, []);
  assert.ok(!('VirtualSize' in (listNew.at(-1) ?? {})));
});

test('images/json passes all, shared-size and filters (both forms); bad filters are 400', async (t) => {
  const { call, images } = await start(t);
  const legacy = encodeURIComponent(JSON.stringify({ dangling: { true: true, false: false } }));
  assert.equal((await call('GET', `/images/json?all=1&shared-size=True&filters=${legacy}`)).status, 200);
  assert.deepEqual(images.calls.at(-1), { method: 'list', args: [{ all: true, sharedSize: true, filters: { dangling: ['true'] } }] });
  const modern = encodeURIComponent(JSON.stringify({ reference: ['busy*', 'app'], label: ['a=b'] }));
  assert.equal((await call('GET', `/images/json?all=0&filters=${modern}`)).status, 200);
  assert.deepEqual(images.calls.at(-1), {
    method: 'list',
    args: [{ all: false, sharedSize: false, filters: { reference: ['busy*', 'app'], label: ['a=b'] } }],
  });
  const badJson = await call('GET', `/images/json?filters=${encodeURIComponent('{nope')}`);
  assert.equal(badJson.status, 400);
  assert.match(badJson.json<{ message: string }>().message, /^invalid filter/);
  const badKey = await call('GET', `/images/json?filters=${encodeURIComponent('{"colour":["red"]}')}`);
  assert.equal(badKey.status, 400);
  assert.deepEqual(badKey.json(), { message: "invalid filter 'colour'" });
  const prune = await call('POST', `/images/prune?filters=${legacy}`);
  assert.equal(prune.status, 200);
  assert.deepEqual(prune.json(), { ImagesDeleted: null, SpaceReclaimed: 0 });
  assert.deepEqual(images.calls.at(-1), { method: 'prune', args: [{ filters: { dangling: ['true'] } }] });
});

test('pull streams progress; errors before the first message are HTTP errors, after it in-stream', async (t) => {
  const { call, images } = await start(t);
  const ok = await call('POST', '/v1.50/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=3.19&platform=linux%2Famd64');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['content-type'], 'application/json');
  const msgs = lines(ok.body);
  assert.equal(msgs.at(-1)?.status, 'Status: Downloaded newer image for alpine:3.19');
  assert.ok(msgs.every((m) => !('error' in m)));
  assert.deepEqual(images.calls.at(-1), { method: 'pull', args: ['docker.io/library/alpine:3.19', { platform: 'linux/amd64', auth: undefined }] });

  images.pullFailure = 'before';
  const before = await call('POST', '/v1.50/images/create?fromImage=nosuch&tag=latest');
  assert.equal(before.status, 404);
  assert.deepEqual(before.json(), { message: 'pull access denied for nosuch:latest, repository does not exist' });

  images.pullFailure = 'after';
  const after = await call('POST', '/v1.50/images/create?fromImage=alpine&tag=latest');
  assert.equal(after.status, 200);
  const last = lines(after.body).at(-1);
  assert.deepEqual(last, {
    errorDetail: { message: 'layer download failed: connection reset' },
    error: 'layer download failed: connection reset',
  });
});

test('a client that disconnects mid-pull aborts the operation', async (t) => {
  const { socket, images } = await start(t);
  images.pullHangs = true;
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, method: 'POST', path: '/v1.50/images/create?fromImage=alpine&tag=1' }, (res) => {
      res.once('data', () => {
        req.destroy(); // first progress line arrived: hang up
        resolve();
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.end();
  });
  // Resolves only when the handler's AbortSignal fired.
  assert.ok(images.pullAborted);
  await images.pullAborted;
});

test('X-Registry-Auth is decoded (base64url, standard base64, empty, invalid ignored for pull)', async (t) => {
  const { call, images } = await start(t);
  const cfg = { username: 'u>?', password: 'p?>~', serveraddress: 'localhost:5000' };
  const std = Buffer.from(JSON.stringify(cfg)).toString('base64');
  assert.match(std, /[+/]/, 'the sample must exercise base64url differences');
  const url = Buffer.from(JSON.stringify(cfg)).toString('base64url');
  for (const header of [url, std]) {
    await call('POST', '/images/create?fromImage=alpine&tag=1', { headers: { 'X-Registry-Auth': header } });
    assert.deepEqual(images.lastPullAuth, cfg);
  }
  for (const header of ['', 'e30=', '!!!not-json']) {
    const r = await call('POST', '/images/create?fromImage=alpine&tag=1', { headers: { 'X-Registry-Auth': header } });
    assert.equal(r.status, 200);
    assert.equal(images.lastPullAuth, undefined);
  }
});

test('POST /auth logs in through the registry client; refused credentials are 401', async (t) => {
  const { call, registry } = await start(t);
  const ok = await call('POST', '/v1.50/auth', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'user', password: 'secret', serveraddress: 'localhost:5000' }),
  });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json(), { Status: 'Login Succeeded', IdentityToken: '' });
  assert.deepEqual(registry.logins.at(-1), { server: 'localhost:5000', auth: { username: 'user', password: 'secret', serveraddress: 'localhost:5000' } });
  const bad = await call('POST', '/v1.50/auth', { body: JSON.stringify({ username: 'user', password: 'wrong', serveraddress: 'localhost:5000' }) });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.json(), { message: 'Get "http://localhost:5000/v2/": unauthorized: incorrect username or password' });
  const garbage = await call('POST', '/v1.50/auth', { body: '{' });
  assert.equal(garbage.status, 400);
  assert.match(garbage.json<{ message: string }>().message, /^invalid JSON/);
});

test('load, import and save move bodies through the service', async (t) => {
  const { call, images } = await start(t);
  const load = await call('POST', '/v1.50/images/load?quiet=1', { body: Buffer.from('tar bytes') });
  assert.equal(load.status, 200);
  assert.deepEqual(lines(load.body), [{ stream: 'Loaded image: loaded:latest\n' }]);
  assert.deepEqual(images.calls.at(-1), { method: 'load', args: [9, true] });
  const empty = await call('POST', '/v1.50/images/load');
  assert.equal(empty.status, 400);
  assert.deepEqual(empty.json(), { message: 'unexpected EOF' });

  const imp = await call('POST', '/v1.50/images/create?fromSrc=-&repo=imp&tag=1&message=hi&changes=CMD%20sh&changes=ENV%20A%3Db', {
    body: Buffer.from('rootfs'),
  });
  assert.equal(imp.status, 200);
  assert.deepEqual(lines(imp.body).at(-1), { status: `sha256:${'f'.repeat(64)}` });
  assert.deepEqual(images.calls.at(-1), { method: 'import', args: [6, { repo: 'imp', tag: '1', message: 'hi', changes: ['CMD sh', 'ENV A=b'] }] });

  const one = await call('GET', '/v1.50/images/localhost:5000/ns/app:1/get');
  assert.equal(one.status, 200);
  assert.equal(one.headers['content-type'], 'application/x-tar');
  assert.equal(one.body, 'tar of localhost:5000/ns/app:1');
  const many = await call('GET', '/v1.50/images/get?names=busybox&names=localhost:5000/ns/app:1');
  assert.equal(many.body, 'tar of busybox,localhost:5000/ns/app:1');
  const missing = await call('GET', '/v1.50/images/get?names=nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'No such image: nope' });
});

test('system df and info report real values', async (t) => {
  const { call, dir } = await start(t);
  const df = (await call('GET', '/v1.50/system/df')).json<Record<string, unknown>>();
  assert.equal(df.LayersSize, 5000);
  assert.equal((df.Images as unknown[]).length, 2);
  assert.deepEqual([df.Containers, df.Volumes, df.BuildCache], [[], [], []]);
  const onlyImages = (await call('GET', '/v1.50/system/df?type=image')).json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(onlyImages).sort(), ['Images', 'LayersSize']);

  const info = (await call('GET', '/v1.50/info')).json<Record<string, unknown>>();
  assert.equal(info.DockerRootDir, dir);
  assert.equal(info.Images, 2);
  assert.equal(info.Driver, 'overlay2');
  assert.equal(info.OSType, 'linux');
  assert.match(String(info.ID), /^[0-9a-f-]{36}$/);
  const again = (await call('GET', '/v1.50/info')).json<Record<string, unknown>>();
  assert.equal(again.ID, info.ID, 'the engine ID is stable');
  assert.equal((await stat(join(dir, 'engine-id'))).isFile(), true);
  const reg = info.RegistryConfig as { InsecureRegistryCIDRs: string[]; IndexConfigs: Record<string, { Secure: boolean }> };
  assert.deepEqual(reg.InsecureRegistryCIDRs, ['::1/128', '127.0.0.0/8', '10.0.0.0/8']);
  assert.equal(reg.IndexConfigs['localhost:5000']?.Secure, false);
  assert.equal(reg.IndexConfigs['docker.io']?.Secure, true);
  const cgroup2 = (await import('node:fs/promises').then((fs) => fs.statfs('/sys/fs/cgroup'))).type === 0x63677270;
  assert.equal(info.CgroupVersion, cgroup2 ? '2' : '1');
});

test('listen removes a stale socket, refuses a live one and a non-socket; close removes it', async (t) => {
  const dir = await tempRoot(t, 'berth-daemon-');
  const services = () => {
    const images = new FakeImageService();
    return {
      images,
      containers: new FakeContainerService(images),
      registry: new FakeRegistry(),
      system: createSystemInfo({ root: dir, insecureRegistries: [], images }),
    };
  };
  const socket = join(dir, 'stale.sock');
  // A socket file nobody listens on, as a killed daemon leaves it: a child binds it and is SIGKILLed.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal((await stat(socket)).isSocket(), true);

  const first = createApiServer(services(), nullLogger);
  await first.listen(socket);
  t.after(() => first.close(100));
  assert.equal((await stat(socket)).mode & 0o777, 0o660);
  assert.equal((await request(socket, 'GET', '/_ping')).body, 'OK');

  const second = createApiServer(services(), nullLogger);
  await assert.rejects(second.listen(socket), /another daemon is already listening/);

  const file = join(dir, 'plain');
  await writeFile(file, 'x');
  await assert.rejects(createApiServer(services(), nullLogger).listen(file), /is not a socket/);

  await first.close(100);
  await assert.rejects(stat(socket), { code: 'ENOENT' });
});

test('close lets an in-flight request finish, refuses new connections, and cuts hung ones after the grace period', async (t) => {
  const { api, socket, images } = await start(t);
  // A load whose body is still arriving when close() is called.
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, method: 'POST', path: '/v1.50/images/load' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.write('first half ');
    api.server.once('request', async () => {
      // The request is in flight; close must wait for it.
      closing = api.close(60_000);
      await assert.rejects(request(socket, 'GET', '/_ping'));
      req.end('second half');
    });
  });
  let closing: Promise<void> | undefined;
  const r = await reply;
  assert.equal(r.status, 200);
  assert.deepEqual(lines(r.body), [{ stream: 'Loaded image: loaded:latest\n' }]);
  assert.deepEqual(images.calls.at(-1), { method: 'load', args: ['first half second half'.length, false] });
  await closing;

  // A request that never ends on its own is cut once the grace period is over.
  const second = await start(t);
  second.images.pullHangs = true;
  const hung = new Promise<void>((resolve) => {
    const req = httpRequest({ socketPath: second.socket, method: 'POST', path: '/images/create?fromImage=a&tag=1' }, (res) => {
      res.once('data', () => void second.api.close(10));
      res.on('close', () => resolve());
      res.resume();
    });
    req.on('error', () => resolve());
    req.end();
  });
  await hung;
  await second.images.pullAborted;
});
