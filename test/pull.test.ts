// Pull, end to end: the berth CLI -> berth daemon -> a real docker-registry on
// loopback, with fixture images built from Debian packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDaemon, startRegistry, type Daemon } from './harness/index.js';
import { busybox, multilayer, twoPlatform, zstdLayer, pushFixture, diffTree, type Fixture } from './fixtures/index.js';
import { sys, MNT_DETACH } from '../src/native/index.js';

interface Inspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Architecture: string;
  Os: string;
  Size: number;
  RootFS: { Layers: string[] };
  GraphDriver: { Data: { LowerDir?: string; UpperDir: string } };
  Config: { Cmd?: string[] };
}

async function inspect(d: Daemon, name: string): Promise<Inspect> {
  const r = await d.request('GET', `/v1.50/images/${name}/json`);
  assert.equal(r.status, 200, r.text());
  return r.json<Inspect>();
}

/** Mount the image's layers read-only with overlay in a temp dir and compare with the fixture's tree. */
async function assertRootfs(t: { after(fn: () => Promise<void>): void }, info: Inspect, fx: Pick<Fixture, 'files' | 'absent'>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  t.after(async () => {
    try {
      sys.umount2(dir, MNT_DETACH);
    } catch {
      /* not mounted */
    }
    await rm(dir, { recursive: true, force: true });
  });
  const lowers = [info.GraphDriver.Data.UpperDir, ...(info.GraphDriver.Data.LowerDir?.split(':') ?? [])];
  // overlay needs two lower layers when it has no upper one; a single layer is its own root
  if (lowers.length > 1) sys.mount('overlay', dir, 'overlay', 1 /* MS_RDONLY */, `lowerdir=${lowers.join(':')}`);
  const problems = await diffTree(lowers.length > 1 ? dir : (lowers[0] as string), fx);
  assert.deepEqual(problems, []);
}

async function countFiles(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).length;
  } catch {
    return 0;
  }
}

test('pull: OCI and docker schema2 images, by tag and digest, layers unpacked exactly', async (t) => {
  const reg = await startRegistry(t);
  const [bb, bbv2, ml] = await Promise.all([busybox(), busybox({ format: 'v2s2' }), multilayer()]);
  await pushFixture(bb, reg.host, 'library/busybox:1');
  await pushFixture(bbv2, reg.host, 'v2/busybox:latest');
  await pushFixture(ml, reg.host, 'multi:latest');
  const d = await startDaemon(t);

  const ref = `${reg.host}/library/busybox:1`;
  const pulled = await d.cli(['pull', ref]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, new RegExp(`Digest: ${bb.manifestDigest}`));
  assert.match(pulled.stdout, /Status: Downloaded newer image for /);
  const info = await inspect(d, ref);
  assert.equal(info.Id, bb.configDigest);
  assert.deepEqual(info.RootFS.Layers, bb.layers);
  assert.deepEqual(info.RepoTags, [ref]);
  assert.deepEqual(info.RepoDigests, [`${reg.host}/library/busybox@${bb.manifestDigest}`]);
  assert.ok(info.Size > 500_000, `size ${info.Size}`);
  await assertRootfs(t, info, bb);

  const again = await d.cli(['pull', ref]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Status: Image is up to date for /);

  const byDigest = await d.cli(['pull', `${reg.host}/library/busybox@${bb.manifestDigest}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);

  const v2 = await d.cli(['pull', `${reg.host}/v2/busybox`]);
  assert.equal(v2.code, 0, v2.stderr);
  assert.equal((await inspect(d, `${reg.host}/v2/busybox`)).Id, bbv2.configDigest);

  const multi = await d.cli(['pull', `${reg.host}/multi`]);
  assert.equal(multi.code, 0, multi.stderr);
  // the bottom layer is busybox's: shared, not downloaded again
  assert.match(multi.stdout, /Already exists/);
  const mi = await inspect(d, `${reg.host}/multi`);
  assert.deepEqual(mi.RootFS.Layers, ml.layers);
  await assertRootfs(t, mi, ml);

  const ids = await d.cli(['images', '-q']);
  assert.equal(ids.code, 0, ids.stderr);
  assert.deepEqual(
    new Set(ids.stdout.trim().split('\n')),
    new Set([bb.configDigest, bbv2.configDigest, ml.configDigest].map((id) => id.slice(7, 19))),
  );
});

test('pull: platform selection from an index, and zstd layers', async (t) => {
  const reg = await startRegistry(t);
  const [tp, zs] = await Promise.all([twoPlatform(), zstdLayer()]);
  await pushFixture(tp, reg.host, 'multiarch:1');
  await pushFixture(zs, reg.host, 'zstd:1');
  const d = await startDaemon(t);

  const arm = await d.cli(['pull', '--platform', 'linux/arm64', `${reg.host}/multiarch:1`]);
  assert.equal(arm.code, 0, arm.stderr);
  const ai = await inspect(d, `${reg.host}/multiarch:1`);
  assert.equal(ai.Architecture, 'arm64');
  const armImage = tp.platforms?.find((p) => p.platform.architecture === 'arm64');
  assert.ok(armImage);
  assert.equal(ai.Id, armImage.configDigest);
  assert.deepEqual(ai.RepoDigests, [`${reg.host}/multiarch@${tp.manifestDigest}`]);
  await assertRootfs(t, ai, { files: armImage.files, absent: [] });

  const host = await d.cli(['pull', `${reg.host}/multiarch:1`]);
  assert.equal(host.code, 0, host.stderr);
  assert.equal((await inspect(d, `${reg.host}/multiarch:1`)).Id, tp.configDigest);

  const z = await d.cli(['pull', `${reg.host}/zstd:1`]);
  assert.equal(z.code, 0, z.stderr);
  const zi = await inspect(d, `${reg.host}/zstd:1`);
  assert.equal(zi.Id, zs.configDigest);
  await assertRootfs(t, zi, zs);

  const none = await d.cli(['pull', '--platform', 'linux/s390x', `${reg.host}/multiarch:1`]);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no matching manifest for linux\/s390x/);
});

test('pull: a corrupted blob fails the pull and leaves the store as it was', async (t) => {
  const reg = await startRegistry(t);
  const bb = await busybox();
  await pushFixture(bb, reg.host, 'bad:1');
  // Corrupt the layer blob inside the registry's storage (same size, wrong bytes).
  const hex = (bb.layerDigests[0] as string).slice(7);
  const blob = join(reg.root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  const bytes = await readFile(blob);
  bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff;
  await writeFile(blob, bytes);
  const d = await startDaemon(t);

  const r = await d.cli(['pull', `${reg.host}/bad:1`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr + r.stdout, /digest mismatch|invalid layer|diff ID|unexpected end/i);
  const images = await d.request('GET', '/v1.50/images/json');
  assert.deepEqual(images.json(), []);
  // nothing half-written: no staged layers, no snapshots, no ingests, no layer blob
  assert.equal(await countFiles(join(d.root, 'overlay', 'staging')), 0);
  assert.equal(await countFiles(join(d.root, 'overlay', 'snapshots')), 0);
  assert.equal(await countFiles(join(d.root, 'content', 'ingest')), 0);
  const blobs = await readdir(join(d.root, 'content', 'blobs', 'sha256'));
  assert.ok(!blobs.includes(hex), 'the corrupted layer must not be stored');

  // A truncated blob: the registry still advertises the old size.
  await truncate(blob, 1000);
  const r2 = await d.cli(['pull', `${reg.host}/bad:1`]);
  assert.equal(r2.code, 1);
  assert.equal(await countFiles(join(d.root, 'overlay', 'snapshots')), 0);
});

test('pull: unknown repository, unknown tag, and invalid references get clear errors', async (t) => {
  const reg = await startRegistry(t);
  const d = await startDaemon(t);
  const missing = await d.cli(['pull', `${reg.host}/nope:1`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found|unknown/);
  const bad = await d.cli(['pull', 'Busybox']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid reference format/);
  const api = await d.request('POST', `/v1.50/images/create?fromImage=${encodeURIComponent(`${reg.host}/nope`)}&tag=1`);
  assert.equal(api.status, 404);
  assert.match(api.json<{ message: string }>().message, /nope/);
});

/** A loopback HTTP proxy in front of the registry that counts blob GETs. */
async function countingProxy(t: { after(fn: () => Promise<void>): void }, upstream: string): Promise<{ host: string; blobGets: Map<string, number> }> {
  const blobGets = new Map<string, number>();
  const server = createServer((req, res) => {
    const m = /\/blobs\/(sha256:[a-f0-9]{64})/.exec(req.url ?? '');
    if (m && req.method === 'GET') blobGets.set(m[1] as string, (blobGets.get(m[1] as string) ?? 0) + 1);
    const up = httpRequest(`${upstream}${req.url}`, { method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, blobGets };
}

test('pull: two concurrent pulls of one image download each blob once', async (t) => {
  const reg = await startRegistry(t);
  const ml = await multilayer();
  await pushFixture(ml, reg.host, 'twice:a');
  await pushFixture(ml, reg.host, 'twice:b');
  const proxy = await countingProxy(t, reg.url);
  const d = await startDaemon(t);
  const [a, b] = await Promise.all([d.cli(['pull', `${proxy.host}/twice:a`]), d.cli(['pull', `${proxy.host}/twice:b`])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal((await inspect(d, `${proxy.host}/twice:a`)).Id, (await inspect(d, `${proxy.host}/twice:b`)).Id);
  for (const digest of ml.layerDigests) assert.equal(proxy.blobGets.get(digest), 1, `${digest} fetched ${proxy.blobGets.get(digest)} times`);
  const snaps = await readdir(join(d.root, 'overlay', 'snapshots'));
  assert.equal(snaps.length, ml.layers.length);
});

test('pull: credentials from berth login reach a registry behind token auth', async (t) => {
  const creds = { user: 'alice', password: 's3cret-pw' };
  const reg = await startRegistry(t, { token: creds });
  const bb = await busybox();
  await pushFixture(bb, reg.host, 'private/bb:1', { creds });
  const d = await startDaemon(t);
  const anon = await d.cli(['pull', `${reg.host}/private/bb:1`]);
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /unauthorized|denied|authentication required/i);
  const wrong = await d.cli(['login', '-u', creds.user, '--password-stdin', reg.host], { input: 'nope\n' });
  assert.notEqual(wrong.code, 0);
  const login = await d.cli(['login', '-u', creds.user, '--password-stdin', reg.host], { input: `${creds.password}\n` });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Login Succeeded/);
  const ok = await d.cli(['pull', `${reg.host}/private/bb:1`]);
  assert.equal(ok.code, 0, ok.stderr);
  const out = await d.cli(['logout', reg.host]);
  assert.equal(out.code, 0, out.stderr);
});
