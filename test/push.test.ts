// Push, end to end: the berth CLI (and the real docker CLI) -> berth daemon ->
// a real docker-registry on loopback; pulled back by digest into a second
// daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { daemonWithBusybox, freePort, startDaemon, startRegistry, type Daemon, type Registry } from './harness/index.js';
import { busybox, pushFixture } from './fixtures/index.js';
import { createRegistryClient } from '../src/registry/index.js';
import { parseReference } from '../src/reference/index.js';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function registryGet(reg: Registry, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${reg.url}${path}`, { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** The digest and size from dockerd's last push line `TAG: digest: D size: N`. */
function pushedDigest(stdout: string, tag: string): { digest: string; size: number } {
  const m = new RegExp(`^${tag}: digest: (sha256:[a-f0-9]{64}) size: (\\d+)$`, 'm').exec(stdout);
  assert.ok(m, `no digest line for ${tag} in:\n${stdout}`);
  return { digest: m[1] as string, size: Number(m[2]) };
}

async function tagOk(d: Daemon, from: string, to: string): Promise<void> {
  const r = await d.cli(['tag', from, to]);
  assert.equal(r.code, 0, r.stderr);
}

test('push: upload, skip what exists, mount across repositories, pull back by digest byte for byte', async (t) => {
  const reg = await startRegistry(t);
  const d = await daemonWithBusybox(t);
  const bb = await busybox();
  const name = `${reg.host}/bb`;
  await tagOk(d, 'busybox:latest', name);

  const first = await d.cli(['push', name]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /^Using default tag: latest$/m);
  assert.match(first.stdout, new RegExp(`The push refers to repository \\[${reg.host}/bb\\]`));
  assert.match(first.stdout, /: Pushed$/m);
  const { digest, size } = pushedDigest(first.stdout, 'latest');

  // What the registry serves is what berth sent: the manifest in berth's store, with the printed digest and size.
  const served = await registryGet(reg, `/v2/bb/manifests/latest`, { accept: MANIFEST_ACCEPT });
  assert.equal(served.status, 200);
  assert.equal(sha256(served.body), digest);
  assert.equal(served.body.length, size);
  const stored = await readFile(join(d.root, 'content', 'blobs', 'sha256', digest.slice(7)));
  assert.ok(stored.equals(served.body), 'registry bytes equal the manifest berth stored');
  const manifest = JSON.parse(served.body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  assert.equal(manifest.config.digest, bb.configDigest);
  assert.deepEqual(manifest.layers.map((l) => l.digest), bb.layerDigests);

  // The repo digest is recorded, as docker does after a push.
  const info = (await d.request('GET', `/v1.50/images/${encodeURIComponent(name)}/json`)).json<{ RepoDigests: string[] }>();
  assert.ok(info.RepoDigests.includes(`${name}@${digest}`), JSON.stringify(info.RepoDigests));
  const listed = await d.cli(['images', '--digests', '--format', '{{.Repository}} {{.Digest}}']);
  assert.match(listed.stdout, new RegExp(`^${name} ${digest}$`, 'm'));

  // Pulled by that digest into another daemon: the same image, the same manifest bytes.
  const other = await startDaemon(t);
  const pulled = await other.cli(['pull', `${name}@${digest}`]);
  assert.equal(pulled.code, 0, pulled.stderr);
  const otherInfo = (await other.request('GET', `/v1.50/images/${encodeURIComponent(`${name}@${digest}`)}/json`)).json<{ Id: string }>();
  assert.equal(otherInfo.Id, bb.configDigest);
  const byDigest = await registryGet(reg, `/v2/bb/manifests/${digest}`, { accept: MANIFEST_ACCEPT });
  assert.ok(byDigest.body.equals(served.body));

  // Again: nothing to upload, the same (stable) digest.
  const second = await d.cli(['push', name]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /: Layer already exists$/m);
  assert.doesNotMatch(second.stdout, /: Pushed$/m);
  assert.equal(pushedDigest(second.stdout, 'latest').digest, digest);

  // Another repository on the same registry: the layer is mounted, not uploaded.
  await tagOk(d, 'busybox:latest', `${reg.host}/team/copy:v1`);
  const mounted = await d.cli(['push', `${reg.host}/team/copy:v1`]);
  assert.equal(mounted.code, 0, mounted.stderr);
  assert.match(mounted.stdout, /: Mounted from bb$/m);
  assert.equal(pushedDigest(mounted.stdout, 'v1').digest, digest);

  // A pulled image keeps the manifest it was pulled with; its blobs mount from where they came.
  await pushFixture(bb, reg.host, 'origin/bb:1');
  const third = await startDaemon(t);
  assert.equal((await third.cli(['pull', `${reg.host}/origin/bb:1`])).code, 0);
  await tagOk(third, `${reg.host}/origin/bb:1`, `${reg.host}/mirror:1`);
  const repush = await third.cli(['push', `${reg.host}/mirror:1`]);
  assert.equal(repush.code, 0, repush.stderr);
  assert.match(repush.stdout, /: Mounted from origin\/bb$/m);
  assert.equal(pushedDigest(repush.stdout, '1').digest, bb.manifestDigest);
});

test('push --all-tags pushes every tag of the repository; -q prints only the reference', async (t) => {
  const reg = await startRegistry(t);
  const d = await daemonWithBusybox(t);
  const repo = `${reg.host}/many`;
  await tagOk(d, 'busybox:latest', `${repo}:a`);
  await tagOk(d, 'busybox:latest', `${repo}:b`);
  const withTag = await d.cli(['push', '-a', `${repo}:a`]);
  assert.notEqual(withTag.code, 0);
  assert.match(withTag.stderr, /tag can't be used with --all-tags/);

  const all = await d.cli(['push', '--all-tags', repo]);
  assert.equal(all.code, 0, all.stderr);
  const a = pushedDigest(all.stdout, 'a');
  const b = pushedDigest(all.stdout, 'b');
  assert.equal(a.digest, b.digest);
  const tags = await registryGet(reg, '/v2/many/tags/list');
  assert.deepEqual((JSON.parse(tags.body.toString()) as { tags: string[] }).tags.sort(), ['a', 'b']);

  const quiet = await d.cli(['push', '-q', `${repo}:a`]);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, `${repo}:a\n`);
});

test('push with token auth uses berth login credentials and asks for pull,push', async (t) => {
  const creds = { user: 'alice', password: 's3cret-pw' };
  const reg = await startRegistry(t, { token: creds });
  const d = await daemonWithBusybox(t);
  const name = `${reg.host}/private/bb:1`;
  await tagOk(d, 'busybox:latest', name);
  const anon = await d.cli(['push', name]);
  assert.equal(anon.code, 1);
  assert.match(anon.stderr + anon.stdout, /denied|unauthorized|authentication required/i);
  const login = await d.cli(['login', '-u', creds.user, '--password-stdin', reg.host], { input: `${creds.password}\n` });
  assert.equal(login.code, 0, login.stderr);
  const ok = await d.cli(['push', name]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.match(ok.stdout, /: Pushed$/m);
  const scoped = reg.token?.requests.filter((r) => r.user === creds.user && r.scopes.includes('repository:private/bb:pull,push'));
  assert.ok(scoped && scoped.length > 0, JSON.stringify(reg.token?.requests));
});

test('the docker CLI pushes through berth and renders the progress', async (t) => {
  const reg = await startRegistry(t);
  const d = await daemonWithBusybox(t);
  const name = `${reg.host}/viadocker:7`;
  await tagOk(d, 'busybox:latest', name);
  const r = await d.docker(['push', name]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`The push refers to repository \\[${reg.host}/viadocker\\]`));
  assert.match(r.stdout, /Pushed/);
  const { digest } = pushedDigest(r.stdout, '7');
  const served = await registryGet(reg, '/v2/viadocker/manifests/7', { accept: MANIFEST_ACCEPT });
  assert.equal(sha256(served.body), digest);
});

test('push errors: unknown image, registry down', async (t) => {
  const reg = await startRegistry(t);
  const d = await daemonWithBusybox(t);
  const missing = await d.cli(['push', `${reg.host}/nope:1`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`An image does not exist locally with the tag: ${reg.host}/nope`));
  const api = await d.request('POST', `/v1.50/images/${encodeURIComponent(`${reg.host}/nope`)}/push?tag=1`);
  assert.equal(api.status, 404);
  const viaDocker = await d.docker(['push', `${reg.host}/nope:1`]);
  assert.equal(viaDocker.code, 1);
  assert.match(viaDocker.stderr, /An image does not exist locally with the tag/);

  const down = `127.0.0.1:${await freePort()}`;
  await tagOk(d, 'busybox:latest', `${down}/bb:1`);
  const r = await d.cli(['push', `${down}/bb:1`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr + r.stdout, /connection refused/);
});

test('chunked uploads to docker-registry: PATCH ranges, then PUT; the blob reads back intact', async (t) => {
  const reg = await startRegistry(t);
  const client = createRegistryClient({ insecureRegistries: [], userAgent: 'berth-test' });
  const data = randomBytes(1_000_003);
  const digest = sha256(data) as `sha256:${string}`;
  const ref = parseReference(`${reg.host}/chunks`);
  assert.equal(await client.blobExists(ref, digest), false);
  const result = await client.pushBlob(ref, { digest, size: data.length }, (start, end) => Readable.from([data.subarray(start, end + 1)]), {
    chunkSize: 256 * 1024,
  });
  assert.equal(result, 'uploaded');
  assert.equal(await client.blobExists(ref, digest), true);
  const back = await registryGet(reg, `/v2/chunks/blobs/${digest}`);
  assert.ok(back.body.equals(data));
});
