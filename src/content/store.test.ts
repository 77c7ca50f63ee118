import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isCode } from '../errors/index.js';
import { tempRoot } from '../testing/index.js';
import { sha256, type Digest } from '../util/index.js';
import { LocalContentStore } from './store.js';

const digestOf = (b: Uint8Array): Digest => sha256(b);

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('an ingest streams, commits by digest and is readable in the OCI layout', async (t) => {
  const root = await tempRoot(t);
  const store = await LocalContentStore.open(root);
  assert.deepEqual(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });

  const data = randomBytes(3 * 1024 * 1024 + 17);
  const digest = digestOf(data);
  const ingest = await store.ingest({ digest, size: data.length });
  // Many small chunks, so writev and backpressure paths run.
  const chunks = Array.from({ length: Math.ceil(data.length / 8191) }, (_, i) => data.subarray(i * 8191, (i + 1) * 8191));
  await pipeline(Readable.from(chunks), ingest.stream);
  assert.equal(ingest.written, data.length);
  assert.deepEqual(await store.info(digest), undefined, 'not visible before commit');
  assert.deepEqual(await ingest.commit(), { digest, size: data.length });

  assert.deepEqual(await store.info(digest), { digest, size: data.length });
  assert.equal(store.path(digest), join(root, 'blobs', 'sha256', digest.slice(7)));
  assert.ok((await store.readBytes(digest)).equals(data));
  assert.ok((await collect(store.read(digest, { start: 10, end: 19 }))).equals(data.subarray(10, 20)));
  const listed = [];
  for await (const b of store.walk()) listed.push(b);
  assert.deepEqual(listed, [{ digest, size: data.length }]);
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
});

test('a digest mismatch is invalid_argument and leaves nothing behind', async (t) => {
  const root = await tempRoot(t);
  const store = await LocalContentStore.open(root);
  const data = Buffer.from('hello world');
  const wrong = digestOf(Buffer.from('something else'));
  const ingest = await store.ingest({ digest: wrong });
  await pipeline(Readable.from([data]), ingest.stream);
  await assert.rejects(ingest.commit(), (err) => {
    assert.ok(isCode(err, 'invalid_argument'));
    assert.equal(err.message, `digest mismatch: expected ${wrong}, got ${digestOf(data)}`);
    return true;
  });
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);

  const sized = await store.ingest({ size: 3 });
  sized.stream.end(data);
  await assert.rejects(sized.commit(), (err) => isCode(err, 'invalid_argument') && /size mismatch/.test(err.message));
  await assert.rejects(store.put(data, { digest: wrong }), (err) => isCode(err, 'invalid_argument'));
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
});

test('concurrent ingests of the same blob both succeed', async (t) => {
  const store = await LocalContentStore.open(await tempRoot(t));
  const data = randomBytes(1 << 20);
  const digest = digestOf(data);
  const one = await store.ingest({ digest });
  const two = await store.ingest({ digest });
  await Promise.all([pipeline(Readable.from([data]), one.stream), pipeline(Readable.from([data]), two.stream)]);
  const [a, b] = await Promise.all([one.commit(), two.commit()]);
  assert.deepEqual(a, { digest, size: data.length });
  assert.deepEqual(b, a);
  assert.deepEqual(await store.put(data, { digest }), a, 'put of an existing blob succeeds');
  assert.ok((await store.readBytes(digest)).equals(data));
});

test('an ingest left by a crash is swept on reopen; abort removes its file', async (t) => {
  const root = await tempRoot(t);
  const store = await LocalContentStore.open(root);
  const crashed = await store.ingest();
  await new Promise<void>((resolve, reject) => crashed.stream.write(Buffer.from('partial'), (e) => (e ? reject(e) : resolve())));
  assert.equal((await readdir(join(root, 'ingest'))).length, 1);
  const aborted = await store.ingest();
  aborted.stream.write('x');
  await aborted.abort();
  assert.equal((await readdir(join(root, 'ingest'))).length, 1, 'abort removed only its own ingest');

  const reopened = await LocalContentStore.open(root); // as after a restart
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
  const blobs = [];
  for await (const b of reopened.walk()) blobs.push(b);
  assert.deepEqual(blobs, []);
  crashed.stream.destroy();
});

test('read of a missing blob throws not_found synchronously; delete removes; bad digests are refused', async (t) => {
  const store = await LocalContentStore.open(await tempRoot(t));
  const info = await store.put(Buffer.from('{"a":1}'));
  assert.equal(info.digest, `sha256:${createHash('sha256').update('{"a":1}').digest('hex')}`);
  await store.delete(info.digest);
  assert.equal(await store.info(info.digest), undefined);
  assert.throws(() => store.read(info.digest), (err) => isCode(err, 'not_found'));
  await assert.rejects(store.readBytes(info.digest), (err) => isCode(err, 'not_found'));
  await assert.rejects(store.delete(info.digest), (err) => isCode(err, 'not_found'));
  assert.throws(() => store.path('sha256:../../etc/passwd' as Digest), (err) => isCode(err, 'invalid_argument'));
  assert.equal(existsSync(store.path(info.digest)), false);
});
