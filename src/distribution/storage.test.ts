import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readdir, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { sha256, type Digest } from '../util/index.js';
import { DistributionError, type SpecErrorCode } from './errors.js';
import { RegistryStorage } from './storage.js';
import { collectGarbage } from './gc.js';
import { MediaTypes } from './manifest.js';

const body = (data: string | Buffer) => Readable.from([Buffer.from(data)]);
const specCode = (code: SpecErrorCode) => (err: unknown) => err instanceof DistributionError && err.specCode === code;

async function manifestFor(s: RegistryStorage, name: string, layers: string[]): Promise<{ body: Buffer; digests: Digest[] }> {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const digests: Digest[] = [];
  for (const content of [config, ...layers]) {
    const d = sha256(content);
    await s.putBlob(name, d, body(content));
    digests.push(d);
  }
  const doc = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digests[0], size: config.length },
    layers: layers.map((l, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digests[i + 1], size: l.length })),
  };
  return { body: Buffer.from(JSON.stringify(doc)), digests };
}

test('a wrong digest is rejected and nothing is stored, not even the upload', async (t) => {
  const root = await tempRoot(t);
  const s = await RegistryStorage.open(root);
  await assert.rejects(s.putBlob('repo', sha256('other'), body('content')), specCode('DIGEST_INVALID'));
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
  assert.deepEqual(await readdir(join(root, 'uploads')), []);
  await assert.rejects(s.blob('repo', sha256('content')), specCode('BLOB_UNKNOWN'));
});

test('concurrent uploads of the same blob both succeed and leave one intact copy', async (t) => {
  const s = await RegistryStorage.open(await tempRoot(t));
  const data = Buffer.alloc(3 * 1024 * 1024, 7);
  const digest = sha256(data);
  const results = await Promise.all([s.putBlob('a', digest, body(data)), s.putBlob('b', digest, body(data)), s.putBlob('a', digest, body(data))]);
  assert.deepEqual(
    results.map((r) => r.digest),
    [digest, digest, digest],
  );
  const blob = await s.blob('b', digest);
  assert.equal(sha256(await readFile(blob.path)), digest);
  assert.equal(blob.size, data.length);
});

test('chunked upload: a gap or a short chunk is RANGE_INVALID and leaves the upload as it was', async (t) => {
  const s = await RegistryStorage.open(await tempRoot(t));
  const { uuid } = await s.startUpload('repo');
  assert.equal((await s.appendUpload('repo', uuid, body('hello '), { start: 0, end: 5 })).size, 6);
  await assert.rejects(s.appendUpload('repo', uuid, body('world'), { start: 7, end: 11 }), specCode('RANGE_INVALID'));
  await assert.rejects(s.appendUpload('repo', uuid, body('wor'), { start: 6, end: 10 }), specCode('RANGE_INVALID'));
  assert.equal((await s.uploadStatus('repo', uuid)).size, 6);
  await s.appendUpload('repo', uuid, body('world'), { start: 6, end: 10 });
  // the running hash was rolled back with the file: the digest of the real content verifies
  const done = await s.completeUpload('repo', uuid, sha256('hello world'));
  assert.equal(done.size, 11);
  await assert.rejects(s.uploadStatus('repo', uuid), specCode('BLOB_UPLOAD_UNKNOWN'));
  await assert.rejects(s.uploadStatus('other', (await s.startUpload('repo')).uuid), specCode('BLOB_UPLOAD_UNKNOWN'));
});

test('an upload survives a restart: a new process finishes it by rehashing what is on disk', async (t) => {
  const root = await tempRoot(t);
  const first = await RegistryStorage.open(root);
  const { uuid } = await first.startUpload('repo');
  await first.appendUpload('repo', uuid, body('part one,'));
  const second = await RegistryStorage.open(root); // the first "crashed": its in-memory hash is gone
  await second.appendUpload('repo', uuid, body(' part two'));
  await second.completeUpload('repo', uuid, sha256('part one, part two'));
  assert.equal((await second.blob('repo', sha256('part one, part two'))).size, 18);
});

test('manifests: blobs must be in the repository; tags, referrers and deletes', async (t) => {
  const s = await RegistryStorage.open(await tempRoot(t));
  const img = await manifestFor(s, 'app', ['layer-1', 'layer-2']);
  // the same manifest in a repository that holds none of its blobs
  await assert.rejects(s.putManifest('empty', { tag: 'v1' }, img.body, MediaTypes.ociManifest), (err: unknown) => {
    assert.ok(err instanceof DistributionError && err.specCode === 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual((err.detail as { digests: Digest[] }).digests, img.digests);
    return true;
  });
  await assert.rejects(s.tags('empty'), specCode('NAME_UNKNOWN'));
  await assert.rejects(s.putManifest('app', { digest: sha256('nope') }, img.body, undefined), specCode('DIGEST_INVALID'));

  const { digest } = await s.putManifest('app', { tag: 'v1' }, img.body, undefined);
  assert.equal(digest, sha256(img.body));
  const got = await s.getManifest('app', { tag: 'v1' });
  assert.equal(got.mediaType, MediaTypes.ociManifest);
  assert.deepEqual(got.body, img.body);

  const sig = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, artifactType: 'application/example.sig', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: img.digests[0], size: 1 }, layers: [], subject: { mediaType: MediaTypes.ociManifest, digest, size: img.body.length } };
  const sigBody = Buffer.from(JSON.stringify(sig));
  await s.putManifest('app', { digest: sha256(sigBody) }, sigBody, undefined);
  assert.deepEqual(
    (await s.referrers('app', digest)).map((d) => [d.digest, d.artifactType]),
    [[sha256(sigBody), 'application/example.sig']],
  );
  assert.deepEqual(await s.referrers('app', digest, 'application/other'), []);

  await s.deleteManifest('app', { digest: sha256(sigBody) });
  assert.deepEqual(await s.referrers('app', digest), []);
  await s.deleteManifest('app', { digest });
  assert.deepEqual(await s.tags('app'), []);
  await assert.rejects(s.getManifest('app', { digest }), specCode('MANIFEST_UNKNOWN'));
});

test('gc: referenced blobs stay, old orphans go (not in a dry run), young orphans stay', async (t) => {
  const root = await tempRoot(t);
  const s = await RegistryStorage.open(root);
  const img = await manifestFor(s, 'app', ['layer']);
  const { digest: manifest } = await s.putManifest('app', { tag: 'v1' }, img.body, undefined);
  const old = sha256('old orphan');
  const young = sha256('young orphan');
  await s.putBlob('app', old, body('old orphan'));
  await s.putBlob('app', young, body('young orphan'));
  const longAgo = new Date(Date.now() - 2 * 3600_000);
  for (const d of [old, manifest, ...img.digests]) await utimes(s.blobPath(d), longAgo, longAgo);

  const dry = await collectGarbage(s, { dryRun: true });
  assert.deepEqual(dry.removed, [old]);
  assert.deepEqual(dry.keptYoung, [young]);
  await stat(s.blobPath(old)); // still there

  const real = await collectGarbage(s);
  assert.deepEqual(real.removed, [old]);
  assert.deepEqual(real.marked, [manifest, ...img.digests].sort());
  await assert.rejects(stat(s.blobPath(old)), { code: 'ENOENT' });
  await assert.rejects(s.blob('app', old), specCode('BLOB_UNKNOWN'));
  assert.deepEqual(await s.layerLinks('app').then((l) => l.includes(old)), false);
  for (const d of [young, ...img.digests]) await s.blob('app', d);
  assert.deepEqual((await s.getManifest('app', { tag: 'v1' })).body, img.body);
});
