import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { tempRoot } from '../testing/index.js';
import { sha256, type Digest } from '../util/index.js';
import { MediaTypes, MAX_MANIFEST_BYTES } from './manifest.js';
import { serveRegistry, type ServeOptions } from './server.js';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  code?: string;
}

async function start(t: TestContext, opts: Partial<ServeOptions> = {}) {
  const root = await tempRoot(t);
  const reg = await serveRegistry({ addr: '127.0.0.1:0', root, ...opts });
  t.after(() => reg.close());
  // node:http, not fetch: fetch normalises "..", "%2e%2e" and "//" away before the request is sent
  const call = (method: string, path: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: reg.port, method, path, headers: init.headers ?? {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code;
          } catch {
            /* not an error body */
          }
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, text, ...(code ? { code } : {}) });
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
  return { reg, root, call };
}

type Call = Awaited<ReturnType<typeof start>>['call'];

async function pushBlob(call: Call, name: string, content: string): Promise<Digest> {
  const digest = sha256(content);
  const r = await call('POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, { body: content });
  assert.equal(r.status, 201, r.text);
  return digest;
}

async function pushImage(call: Call, name: string, tag: string): Promise<{ manifest: Buffer; digest: Digest; blobs: Digest[] }> {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', tag });
  const layer = `layer of ${tag}`;
  const blobs = [await pushBlob(call, name, config), await pushBlob(call, name, layer)];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blobs[0], size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: blobs[1], size: layer.length }],
    }),
  );
  const r = await call('PUT', `/v2/${name}/manifests/${tag}`, { body: manifest, headers: { 'Content-Type': MediaTypes.ociManifest } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.headers.get('docker-content-digest'), sha256(manifest));
  return { manifest, digest: sha256(manifest), blobs };
}

test('base endpoint, chunked upload with status and 416, range reads, cross-mount', async (t) => {
  const { call } = await start(t);
  const base = await call('GET', '/v2/');
  assert.equal(base.status, 200);
  assert.equal(base.headers.get('docker-distribution-api-version'), 'registry/2.0');

  const post = await call('POST', '/v2/a/b/blobs/uploads/');
  assert.equal(post.status, 202);
  const location = post.headers.get('location') as string;
  assert.match(location, /^\/v2\/a\/b\/blobs\/uploads\/[0-9a-f-]{36}$/);
  const p1 = await call('PATCH', location, { body: '0123456789', headers: { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' } });
  assert.equal(p1.status, 202, p1.text);
  assert.equal(p1.headers.get('range'), '0-9');
  const gap = await call('PATCH', location, { body: 'abc', headers: { 'Content-Range': '12-14' } });
  assert.equal(gap.status, 416);
  assert.equal(gap.headers.get('range'), '0-9');
  const short = await call('PATCH', location, { body: 'ab', headers: { 'Content-Range': '10-14' } });
  assert.equal(short.status, 416);
  const status = await call('GET', location);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-9');
  const content = '0123456789abcdef';
  const wrong = await call('PUT', `${location}?digest=${sha256('nope')}`, { body: 'abcdef', headers: { 'Content-Range': '10-15' } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.code, 'DIGEST_INVALID');
  assert.equal((await call('GET', location)).status, 404, 'a failed commit cancels the session');

  const again = (await call('POST', '/v2/a/b/blobs/uploads/')).headers.get('location') as string;
  await call('PATCH', again, { body: '0123456789' });
  const put = await call('PUT', `${again}?digest=${sha256(content)}`, { body: 'abcdef', headers: { 'Content-Range': '10-15' } });
  assert.equal(put.status, 201, put.text);
  assert.equal(put.headers.get('location'), `/v2/a/b/blobs/${sha256(content)}`);

  const head = await call('HEAD', `/v2/a/b/blobs/${sha256(content)}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '16');
  assert.equal(head.headers.get('docker-content-digest'), sha256(content));
  const part = await call('GET', `/v2/a/b/blobs/${sha256(content)}`, { headers: { Range: 'bytes=10-12' } });
  assert.equal(part.status, 206);
  assert.equal(part.text, 'abc');
  assert.equal(part.headers.get('content-range'), 'bytes 10-12/16');
  assert.equal((await call('GET', `/v2/a/b/blobs/${sha256(content)}`, { headers: { Range: 'bytes=99-' } })).status, 416);

  assert.equal((await call('HEAD', `/v2/c/blobs/${sha256(content)}`)).status, 404);
  const mount = await call('POST', `/v2/c/blobs/uploads/?mount=${sha256(content)}&from=a/b`);
  assert.equal(mount.status, 201);
  assert.equal((await call('GET', `/v2/c/blobs/${sha256(content)}`)).text, content);
  const noMount = await call('POST', `/v2/c/blobs/uploads/?mount=${sha256('absent')}&from=a/b`);
  assert.equal(noMount.status, 202, 'an impossible mount falls back to an upload session');
});

test('bad input: spec errors with the right statuses, and nothing stored', async (t) => {
  const { call, root } = await start(t);
  const layer = await pushBlob(call, 'app', 'a layer');
  const blobsBefore = (await readdir(join(root, 'blobs', 'sha256'))).sort();

  const unknownBlob = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('never uploaded'), size: 3 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 7 }],
  });
  const r1 = await call('PUT', '/v2/app/manifests/v1', { body: unknownBlob, headers: { 'Content-Type': MediaTypes.ociManifest } });
  assert.equal(r1.status, 400);
  assert.equal(r1.code, 'MANIFEST_BLOB_UNKNOWN');
  assert.match(r1.text, new RegExp(sha256('never uploaded')));

  const r2 = await call('PUT', '/v2/app/manifests/v1', { body: '{"schemaVersion": 2, "config": ', headers: { 'Content-Type': MediaTypes.ociManifest } });
  assert.equal(r2.status, 400);
  assert.equal(r2.code, 'MANIFEST_INVALID');

  const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
  const r3 = await call('PUT', '/v2/app/manifests/v1', { body: big, headers: { 'Content-Type': MediaTypes.ociManifest } });
  assert.equal(r3.status, 413);
  assert.equal(r3.code, 'SIZE_INVALID');

  const r4 = await call('POST', `/v2/app/blobs/uploads/?digest=${sha256('something else')}`, { body: 'content' });
  assert.equal(r4.status, 400);
  assert.equal(r4.code, 'DIGEST_INVALID');

  for (const name of ['UPPER', 'a/../b', '..', 'a/%2e%2e/b', 'a//b', '-a', 'a/_manifests']) {
    const r = await call('GET', `/v2/${name}/tags/list`);
    assert.equal(r.status, 400, `${name}: ${r.text}`);
    assert.equal(r.code, 'NAME_INVALID', name);
  }
  assert.equal((await call('GET', '/v2/app/manifests/v1')).code, 'MANIFEST_UNKNOWN');
  assert.equal((await call('GET', '/v2/nothing/tags/list')).code, 'NAME_UNKNOWN');
  assert.equal((await call('GET', `/v2/app/blobs/${sha256('x')}`)).code, 'BLOB_UNKNOWN');
  assert.equal((await call('GET', '/v2/app/blobs/uploads/00000000-0000-0000-0000-000000000000')).code, 'BLOB_UPLOAD_UNKNOWN');

  assert.deepEqual((await readdir(join(root, 'blobs', 'sha256'))).sort(), blobsBefore);
  assert.deepEqual(await readdir(join(root, 'uploads')), []);
  assert.deepEqual(JSON.parse((await call('GET', '/v2/app/tags/list')).text), { name: 'app', tags: [] });
});

test('tags and catalog paginate with n/last and a Link header; referrers filter by artifactType', async (t) => {
  const { call } = await start(t);
  for (const tag of ['c', 'a', 'b']) await pushImage(call, 'lib/x', tag);
  const { digest } = await pushImage(call, 'lib/y', 'v1');
  await pushImage(call, 'z', 'v1');

  const p1 = await call('GET', '/v2/lib/x/tags/list?n=2');
  assert.deepEqual(JSON.parse(p1.text), { name: 'lib/x', tags: ['a', 'b'] });
  assert.equal(p1.headers.get('link'), '</v2/lib/x/tags/list?n=2&last=b>; rel="next"');
  const p2 = await call('GET', '/v2/lib/x/tags/list?n=2&last=b');
  assert.deepEqual(JSON.parse(p2.text).tags, ['c']);
  assert.equal(p2.headers.get('link'), null);
  const cat = await call('GET', '/v2/_catalog?n=2');
  assert.deepEqual(JSON.parse(cat.text), { repositories: ['lib/x', 'lib/y'] });
  assert.equal(cat.headers.get('link'), '</v2/_catalog?n=2&last=lib%2Fy>; rel="next"');
  assert.deepEqual(JSON.parse((await call('GET', '/v2/_catalog?last=lib%2Fy')).text), { repositories: ['z'] });

  const empty = sha256('{}');
  await pushBlob(call, 'lib/y', '{}');
  const referrer = (artifactType: string) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
      layers: [],
      subject: { mediaType: MediaTypes.ociManifest, digest, size: 1 },
    });
  const sig = referrer('application/example.sig');
  const sbom = referrer('application/example.sbom');
  for (const body of [sig, sbom]) {
    const r = await call('PUT', `/v2/lib/y/manifests/${sha256(body)}`, { body, headers: { 'Content-Type': MediaTypes.ociManifest } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('oci-subject'), digest);
  }
  const all = await call('GET', `/v2/lib/y/referrers/${digest}`);
  assert.equal(all.headers.get('content-type'), MediaTypes.ociIndex);
  assert.deepEqual(JSON.parse(all.text).manifests.map((m: { digest: string }) => m.digest).sort(), [sha256(sig), sha256(sbom)].sort());
  const filtered = await call('GET', `/v2/lib/y/referrers/${digest}?artifactType=application/example.sbom`);
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(JSON.parse(filtered.text).manifests, [{ mediaType: MediaTypes.ociManifest, digest: sha256(sbom), size: sbom.length, artifactType: 'application/example.sbom' }]);
});

test('DELETE needs --delete; --read-only refuses every write with 405 UNSUPPORTED', async (t) => {
  const plain = await start(t);
  const img = await pushImage(plain.call, 'app', 'v1');
  const refused = await plain.call('DELETE', `/v2/app/manifests/${img.digest}`);
  assert.equal(refused.status, 405);
  assert.equal(refused.code, 'UNSUPPORTED');
  assert.equal((await plain.call('GET', '/v2/app/manifests/v1')).status, 200);

  const del = await start(t, { delete: true });
  const img2 = await pushImage(del.call, 'app', 'v1');
  assert.equal((await del.call('DELETE', `/v2/app/blobs/${img2.blobs[1]}`)).status, 202);
  assert.equal((await del.call('HEAD', `/v2/app/blobs/${img2.blobs[1]}`)).status, 404);
  assert.equal((await del.call('DELETE', `/v2/app/manifests/${img2.digest}`)).status, 202);
  assert.equal((await del.call('GET', '/v2/app/manifests/v1')).code, 'MANIFEST_UNKNOWN');

  const ro = await start(t, { readOnly: true });
  const post = await ro.call('POST', '/v2/app/blobs/uploads/');
  assert.equal(post.status, 405);
  assert.equal(post.code, 'UNSUPPORTED');
  assert.equal((await ro.call('GET', '/v2/')).status, 200);
});

test('htpasswd: 401 with a Basic challenge without credentials or with wrong ones, 200 with the right ones', async (t) => {
  const dir = await tempRoot(t);
  const file = join(dir, 'htpasswd');
  await writeFile(file, `alice:${bcrypt.hashSync('s3cret', 4)}\n`);
  const { call } = await start(t, { htpasswdFile: file });
  const anon = await call('GET', '/v2/');
  assert.equal(anon.status, 401);
  assert.equal(anon.code, 'UNAUTHORIZED');
  assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm="/);
  const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
  assert.equal((await call('GET', '/v2/', { headers: basic('alice', 'wrong') })).status, 401);
  assert.equal((await call('GET', '/v2/', { headers: basic('bob', 's3cret') })).status, 401);
  assert.equal((await call('GET', '/v2/', { headers: basic('alice', 's3cret') })).status, 200);
  assert.equal((await call('GET', '/v2/_catalog', { headers: basic('alice', 's3cret') })).status, 200);
});

test('--tls-cert/--tls-key: the registry answers over HTTPS with the given certificate', async (t) => {
  const dir = await tempRoot(t);
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  assert.equal(made.status, 0, made.stderr?.toString());
  const reg = await serveRegistry({ addr: '127.0.0.1:0', root: join(dir, 'root'), tlsCert: cert, tlsKey: key });
  t.after(() => reg.close());
  assert.match(reg.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const ca = await readFile(cert);
  const reply = await new Promise<{ status: number; version: string | undefined }>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: reg.port, path: '/v2/', ca }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.headers['docker-distribution-api-version'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(reply, { status: 200, version: 'registry/2.0' });
});
