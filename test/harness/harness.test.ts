// Self-test of the harness and fixtures against independent peers: the
// registry must hold exactly the digests each fixture states (checked over
// plain HTTP and with skopeo inspect), and the layers must unpack with GNU
// tar into what the fixture says.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { sys } from '../../src/native/index.js';
import {
  aptMirror,
  busybox,
  debianMinbase,
  diffTree,
  type Fixture,
  MediaType,
  multilayer,
  pushFixture,
  twoPlatform,
  zstdLayer,
} from '../fixtures/index.js';
import { REPO_ROOT, runOk, startDaemon, startRegistry } from './index.js';

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const ACCEPT = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(', ');

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { headers: { accept: ACCEPT, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

interface Manifest {
  mediaType: string;
  config: { digest: string };
  layers: { digest: string; mediaType: string }[];
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-harness-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Checks manifest, config and layer digests of `repo:tag` in the registry against the fixture. */
async function assertPushed(url: string, repo: string, fx: Fixture): Promise<void> {
  const top = await get(`${url}/v2/${repo}/manifests/latest`);
  assert.equal(top.status, 200);
  assert.equal(top.headers.get('docker-content-digest'), fx.manifestDigest);
  assert.equal(digestOf(top.body), fx.manifestDigest);
  assert.equal(top.headers.get('content-type'), fx.mediaType);
  let manifest = JSON.parse(top.body.toString()) as Manifest;
  if (fx.platforms) {
    const index = JSON.parse(top.body.toString()) as { manifests: { digest: string; platform: { architecture: string; variant?: string } }[] };
    assert.deepEqual(
      index.manifests.map((m) => [m.platform.architecture, m.platform.variant]),
      fx.platforms.map((p) => [p.platform.architecture, p.platform.variant]),
    );
    for (const p of fx.platforms) {
      const child = await get(`${url}/v2/${repo}/manifests/${p.manifestDigest}`);
      assert.equal(child.status, 200);
      const m = JSON.parse(child.body.toString()) as Manifest;
      assert.equal(m.config.digest, p.configDigest);
      assert.deepEqual(m.layers.map((l) => l.digest), p.layerDigests);
      const config = JSON.parse((await get(`${url}/v2/${repo}/blobs/${p.configDigest}`)).body.toString()) as {
        architecture: string;
        rootfs: { diff_ids: string[] };
      };
      assert.equal(config.architecture, p.platform.architecture);
      assert.deepEqual(config.rootfs.diff_ids, p.layers);
    }
    const host = fx.platforms.find((p) => p.configDigest === fx.configDigest);
    assert.ok(host, 'the fixture names one of its platforms as the host one');
    manifest = JSON.parse((await get(`${url}/v2/${repo}/manifests/${host.manifestDigest}`)).body.toString()) as Manifest;
  }
  assert.equal(manifest.config.digest, fx.configDigest);
  assert.deepEqual(manifest.layers.map((l) => l.digest), fx.layerDigests);
  assert.deepEqual(manifest.layers.map((l) => l.mediaType), fx.layerMediaTypes);
  const configBlob = await get(`${url}/v2/${repo}/blobs/${fx.configDigest}`);
  assert.equal(digestOf(configBlob.body), fx.configDigest);
  const config = JSON.parse(configBlob.body.toString()) as { rootfs: { diff_ids: string[] }; config: unknown };
  assert.deepEqual(config.rootfs.diff_ids, fx.layers);
  assert.deepEqual(config.config, fx.runConfig);
}

test('fixtures push to a real registry with the digests they state', async (t) => {
  const reg = await startRegistry(t);
  const fixtures: [string, Fixture][] = [
    ['busybox', await busybox()],
    ['busybox-v2s2', await busybox({ format: 'v2s2' })],
    ['multilayer', await multilayer()],
    ['two-platform', await twoPlatform()],
    ['zstd', await zstdLayer()],
  ];
  for (const [repo, fx] of fixtures) {
    await pushFixture(fx, reg.host, `${repo}:latest`);
    await assertPushed(reg.url, repo, fx);
  }
  // skopeo, an independent client, sees the same digest.
  const inspect = await runOk('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/busybox-v2s2:latest`]);
  assert.equal(digestOf(Buffer.from(inspect.stdout)), fixtures[1]![1].manifestDigest);
  const meta = JSON.parse((await runOk('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/busybox:latest`])).stdout) as {
    Digest: string;
  };
  assert.equal(meta.Digest, fixtures[0]![1].manifestDigest);
  // The shared base layer of multilayer is the busybox blob itself.
  assert.equal(fixtures[2]![1].layerDigests[0], fixtures[0]![1].layerDigests[0]);
  assert.equal(fixtures[2]![1].layers.length, 4);
});

test('fixtures are deterministic: a build in an empty cache gives the same digests', async (t) => {
  const cached = [await busybox(), await multilayer(), await twoPlatform(), await zstdLayer(), await busybox({ format: 'v2s2' })];
  const dir = await tempDir(t);
  const saved = process.env.BERTH_TEST_CACHE;
  process.env.BERTH_TEST_CACHE = dir;
  let fresh: Fixture[];
  try {
    fresh = [await busybox(), await multilayer(), await twoPlatform(), await zstdLayer(), await busybox({ format: 'v2s2' })];
  } finally {
    if (saved === undefined) delete process.env.BERTH_TEST_CACHE;
    else process.env.BERTH_TEST_CACHE = saved;
  }
  for (const [i, fx] of fresh.entries()) {
    assert.ok(fx.layoutDir.startsWith(dir + '/'), fx.layoutDir);
    const { layoutDir: _a, ...rest } = fx;
    const { layoutDir: _b, ...want } = cached[i]!;
    assert.deepEqual(rest, want, fx.name);
  }
  const a = fresh[0]!;
  const index = JSON.parse(await readFile(join(a.layoutDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]!.digest, a.manifestDigest);
  const layer = await readFile(join(a.layoutDir, 'blobs', 'sha256', a.layerDigests[0]!.slice(7)));
  assert.equal(digestOf(layer), a.layerDigests[0]);
  assert.equal(digestOf(gunzipSync(layer)), a.layers[0]);
});

test('the busybox and zstd layers unpack with GNU tar into the stated tree', async (t) => {
  const dir = await tempDir(t);
  for (const [fx, flag] of [[await busybox(), '-xzf'], [await zstdLayer(), '--zstd']] as const) {
    const out = join(dir, fx.name);
    await runOk('mkdir', [out]);
    const blob = join(fx.layoutDir, 'blobs', 'sha256', fx.layerDigests[0]!.slice(7));
    await runOk('tar', flag === '--zstd' ? ['--zstd', '-xf', blob, '-C', out] : ['-xzf', blob, '-C', out]);
    assert.deepEqual(await diffTree(out, fx), [], fx.name);
    const sh = await runOk(join(out, 'bin', 'busybox'), ['echo', 'hello from the fixture']);
    assert.equal(sh.stdout, 'hello from the fixture\n');
  }
});

test('diffTree reports what differs', async (t) => {
  const fx = await busybox();
  const out = await tempDir(t);
  await runOk('tar', ['-xzf', join(fx.layoutDir, 'blobs', 'sha256', fx.layerDigests[0]!.slice(7)), '-C', out]);
  await writeFile(join(out, 'etc', 'passwd'), 'changed\n');
  await rm(join(out, 'bin', 'ls'));
  const problems = await diffTree(out, { files: fx.files, absent: ['/bin/busybox'] });
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems.join('\n'), /\/etc\/passwd: content/);
  assert.match(problems.join('\n'), /\/bin\/ls: missing/);
  assert.match(problems.join('\n'), /\/bin\/busybox: exists/);
});

test('multilayer layer 3 carries whiteouts, an opaque marker, a hard link, a fifo and a PAX xattr', async (t) => {
  const fx = await multilayer();
  const blob = join(fx.layoutDir, 'blobs', 'sha256', fx.layerDigests[2]!.slice(7));
  const list = (await runOk('tar', ['-tvzf', blob])).stdout;
  assert.match(list, /data\/\.wh\.gone\.txt/);
  assert.match(list, /data\/\.wh\.gonedir/);
  assert.match(list, /data\/opaque\/\.wh\.\.wh\.\.opq/);
  assert.match(list, /^h.* data\/hl-b link to data\/hl-a$/m);
  assert.match(list, /^prw-------.* data\/fifo$/m);
  assert.match(list, /^-rwsr-xr-x.* usr\/local\/bin\/suid$/m);
  assert.match(list, /^-rw-r--r-- 65534\/65534 .* data\/owned\.txt$/m);
  const out = await tempDir(t);
  await runOk('tar', ['--xattrs', '--xattrs-include=user.*', '-xzf', blob, '-C', out]);
  assert.equal(sys.lgetxattr(join(out, 'data', 'xattr.txt'), 'user.berth')?.toString(), 'hello');
  // The expected final tree is the one an applier must produce; sanity-check it is consistent.
  for (const p of fx.absent) assert.ok(!(p in fx.files), p);
  assert.equal(fx.files['/data/keep.txt']?.type, 'file');
});

test('htpasswd registry: needs the credentials', async (t) => {
  const creds = { user: 'alice', password: 'wonderland' };
  const reg = await startRegistry(t, { htpasswd: creds });
  const anon = await get(`${reg.url}/v2/`);
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  const basic = `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
  assert.equal((await get(`${reg.url}/v2/`, { authorization: basic })).status, 200);
  const wrong = `Basic ${Buffer.from(`${creds.user}:nope`).toString('base64')}`;
  assert.equal((await get(`${reg.url}/v2/`, { authorization: wrong })).status, 401);
  const fx = await busybox();
  await assert.rejects(pushFixture(fx, reg.host, 'bb:latest'), /authentication required|unauthorized/);
  await pushFixture(fx, reg.host, 'bb:latest', { creds });
  const m = await get(`${reg.url}/v2/bb/manifests/latest`, { authorization: basic });
  assert.equal(m.headers.get('docker-content-digest'), fx.manifestDigest);
});

test('token registry: a Bearer challenge, tokens from our JWT server, scopes recorded', async (t) => {
  const creds = { user: 'bob', password: 'builder' };
  const reg = await startRegistry(t, { token: creds });
  assert.ok(reg.token);
  const anon = await get(`${reg.url}/v2/`);
  assert.equal(anon.status, 401);
  const challenge = anon.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="berth-test-registry"/);

  const fx = await busybox();
  await assert.rejects(pushFixture(fx, reg.host, 'bb:latest'), /denied|unauthorized/);
  await pushFixture(fx, reg.host, 'bb:latest', { creds });
  assert.ok(reg.token.requests.some((r) => r.user === 'bob' && r.scopes.includes('repository:bb:pull,push')));

  // A client doing the dance by hand: token for pull, then the manifest.
  const basic = `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
  const tokenRes = await get(`${reg.token.realm}?service=berth-test-registry&scope=repository:bb:pull`, { authorization: basic });
  assert.equal(tokenRes.status, 200);
  const { token } = JSON.parse(tokenRes.body.toString()) as { token: string };
  const m = await get(`${reg.url}/v2/bb/manifests/latest`, { authorization: `Bearer ${token}` });
  assert.equal(m.status, 200);
  assert.equal(m.headers.get('docker-content-digest'), fx.manifestDigest);
  // The token grants only its scope: another repository is refused.
  assert.equal((await get(`${reg.url}/v2/other/manifests/latest`, { authorization: `Bearer ${token}` })).status, 401);
  // Wrong password: the token server says 401.
  const bad = `Basic ${Buffer.from(`${creds.user}:wrong`).toString('base64')}`;
  assert.equal((await get(`${reg.token.realm}?service=berth-test-registry&scope=repository:bb:pull`, { authorization: bad })).status, 401);
  // Anonymous: a token with no access, which the registry refuses.
  const anonToken = JSON.parse((await get(`${reg.token.realm}?service=berth-test-registry&scope=repository:bb:pull`)).body.toString()) as {
    token: string;
  };
  assert.equal((await get(`${reg.url}/v2/bb/manifests/latest`, { authorization: `Bearer ${anonToken.token}` })).status, 401);
});

test('startRegistry stops its process and removes its directory', async (t) => {
  let pid = 0;
  let root = '';
  await t.test('inner', async (st) => {
    const reg = await startRegistry(st);
    pid = reg.pid;
    root = reg.root;
    process.kill(pid, 0);
  });
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  await assert.rejects(access(root));
});

test('startDaemon: ping wait, requests, kill -9, restart, cleanup (against a stub daemon)', async (t) => {
  const entry = join(REPO_ROOT, 'dist', 'test', 'harness', 'stub-daemon.js');
  let dir = '';
  const pids: number[] = [];
  await t.test('inner', async (st) => {
    const d = await startDaemon(st, { entry, insecureRegistries: ['127.0.0.1:5999'], extraArgs: ['--debug'] });
    dir = d.dir;
    assert.equal(d.host, `unix://${d.socket}`);
    const echo = await d.request('POST', '/echo', { hello: 'world' });
    assert.equal(echo.status, 200);
    const body = echo.json<{ method: string; argv: string[]; body: string; pid: number }>();
    // each daemon gets its own default bridge and subnet
    const [bridgeFlag, bridge, bipFlag, bip] = body.argv.slice(5, 9);
    assert.equal(bridgeFlag, '--bridge');
    assert.match(bridge ?? '', /^bt[0-9a-f]{8}$/);
    assert.equal(bipFlag, '--bip');
    assert.match(bip ?? '', /^10\.\d+\.\d+\.1\/24$/);
    assert.deepEqual([...body.argv.slice(0, 5), ...body.argv.slice(9)], ['daemon', '--root', d.root, '--socket', d.socket, '--insecure-registry', '127.0.0.1:5999', '--debug']);
    assert.equal(body.body, '{"hello":"world"}');
    assert.equal(body.pid, d.pid);
    assert.equal(await readFile(join(d.root, 'started'), 'utf8'), String(d.pid));
    pids.push(d.pid);
    await d.kill9();
    assert.throws(() => process.kill(pids[0]!, 0), { code: 'ESRCH' });
    await d.restart();
    pids.push(d.pid);
    assert.notEqual(pids[1], pids[0]);
    assert.equal((await d.request('GET', '/_ping')).text(), 'OK');
    await d.restart();
    pids.push(d.pid);
    assert.throws(() => process.kill(pids[1]!, 0), { code: 'ESRCH' });
  });
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  await assert.rejects(access(dir));
});

test('startDaemon fails with the log when the daemon exits at once', async (t) => {
  const dir = await tempDir(t);
  const entry = join(dir, 'bad.mjs');
  await writeFile(entry, "process.stderr.write('cannot start: boom\\n'); process.exit(3);\n");
  await assert.rejects(startDaemon(t, { entry }), /exited 3 before answering \/_ping[\s\S]*cannot start: boom/);
});

test('debianMinbase: built once (debootstrap), cached, pushed with its digests', { timeout: 30 * 60_000 }, async (t) => {
  assert.match(await aptMirror(), /^https?:\/\/\S+$/, 'the mirror comes from the apt sources');
  const fx = await debianMinbase();
  const reg = await startRegistry(t);
  await pushFixture(fx, reg.host, 'debian:minbase');
  const top = await get(`${reg.url}/v2/debian/manifests/minbase`);
  assert.equal(top.headers.get('docker-content-digest'), fx.manifestDigest);
  const blobPath = join(fx.layoutDir, 'blobs', 'sha256', fx.layerDigests[0]!.slice(7));
  const blob = await readFile(blobPath);
  assert.ok(blob.length > 10_000_000 && blob.length < 200_000_000, `layer is ${blob.length} bytes`);
  assert.equal(digestOf(blob), fx.layerDigests[0]);
  assert.equal(digestOf(gunzipSync(blob)), fx.layers[0]);
  const list = (await runOk('tar', ['-tzf', blobPath])).stdout.split('\n');
  assert.ok(list.includes('etc/debian_version'));
  assert.ok(list.includes('usr/bin/dpkg'));
  assert.ok(!list.some((p) => p.startsWith('var/cache/apt/archives/') && p.endsWith('.deb')));
  assert.match((fx.files['/etc/debian_version'] as { content: string }).content, /^12\./);
});
