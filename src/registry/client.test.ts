// The client against a real registry (Debian's docker-registry, distribution
// 2.8) on a loopback port, and against small node:http fakes for what a stock
// registry won't do: token servers, wrong bytes, redirects to blob storage.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isCode } from '../errors/index.js';
import { parseReference } from '../reference/index.js';
import { tempRoot } from '../testing/index.js';
import { sha256, type Digest } from '../util/index.js';
import { createRegistryClient, MediaType, parseManifest, selectManifest, type RegistryClient } from './index.js';

const execFileP = promisify(execFile);

// ---------- helpers ----------

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** An http server on a random loopback port, closed (connections too) after the test. */
async function listen(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(handler);
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

interface Registry {
  host: string;
  base: string;
}

/** docker-registry serving a temp dir on a free loopback port, optionally with htpasswd Basic auth. */
async function startRegistry(t: TestContext, htpasswd?: { user: string; password: string }): Promise<Registry> {
  const dir = await tempRoot(t, 'berth-registry-');
  const port = await freePort();
  let auth = '';
  if (htpasswd) {
    // bcrypt entry from apache2-utils' htpasswd (distribution accepts bcrypt only).
    const { stdout } = await execFileP('htpasswd', ['-Bbn', htpasswd.user, htpasswd.password]);
    await writeFile(join(dir, 'htpasswd'), stdout);
    auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    try {
      const res = await fetch(`${base}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      /* not listening yet */
    }
    if (attempt > 200) throw new Error(`docker-registry did not answer on ${base}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host: `127.0.0.1:${port}`, base };
}

async function pushBlob(reg: Registry, name: string, bytes: Buffer, authorization?: string): Promise<Digest> {
  const digest = sha256(bytes);
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const start = await fetch(`${reg.base}/v2/${name}/blobs/uploads/`, { method: 'POST', headers });
  await start.body?.cancel();
  assert.equal(start.status, 202, 'upload started');
  const location = new URL(start.headers.get('location') as string, reg.base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  const text = await put.text();
  assert.equal(put.status, 201, `blob upload: ${text}`);
  return digest;
}

async function pushManifest(reg: Registry, name: string, ref: string, mediaType: string, bytes: Buffer, authorization?: string): Promise<Digest> {
  const headers: Record<string, string> = { 'content-type': mediaType };
  if (authorization) headers['authorization'] = authorization;
  const res = await fetch(`${reg.base}/v2/${name}/manifests/${ref}`, { method: 'PUT', headers, body: new Uint8Array(bytes) });
  const text = await res.text();
  assert.equal(res.status, 201, `manifest upload: ${text}`);
  assert.equal(res.headers.get('docker-content-digest'), sha256(bytes));
  return sha256(bytes);
}

interface PushedImage {
  manifest: Buffer;
  digest: Digest;
  config: Buffer;
  configDigest: Digest;
  layer: Buffer;
  layerDigest: Digest;
}

/** A one-layer OCI image (the layer is random bytes: the registry doesn't look inside). */
async function pushImage(reg: Registry, name: string, tag: string | undefined, architecture: string, authorization?: string): Promise<PushedImage> {
  const layer = randomBytes(64 * 1024);
  const layerDigest = await pushBlob(reg, name, layer, authorization);
  const config = Buffer.from(
    JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, config: {} }),
  );
  const configDigest = await pushBlob(reg, name, config, authorization);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = await pushManifest(reg, name, tag ?? sha256(manifest), MediaType.OciManifest, manifest, authorization);
  return { manifest, digest, config, configDigest, layer, layerDigest };
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const client = (): RegistryClient => createRegistryClient({ insecureRegistries: [] });

// ---------- against docker-registry ----------

test('manifest by tag and by digest from docker-registry, verified', async (t) => {
  const reg = await startRegistry(t);
  const image = await pushImage(reg, 'test/app', 'v1', 'amd64');
  const c = client();

  const byTag = await c.getManifest(parseReference(`${reg.host}/test/app:v1`));
  assert.equal(byTag.digest, image.digest);
  assert.equal(byTag.mediaType, MediaType.OciManifest);
  assert.deepEqual(byTag.bytes, image.manifest);
  const parsed = parseManifest(byTag.bytes, byTag.mediaType);
  assert.ok(parsed.kind === 'manifest' && parsed.manifest.config.digest === image.configDigest);

  const byDigest = await c.getManifest(parseReference(`${reg.host}/test/app@${image.digest}`));
  assert.equal(byDigest.digest, image.digest);
  assert.deepEqual(byDigest.bytes, image.manifest);

  await assert.rejects(
    c.getManifest(parseReference(`${reg.host}/test/app:nope`)),
    (err: unknown) =>
      isCode(err, 'not_found') && err.message.startsWith(`manifest for ${reg.host}/test/app:nope not found: manifest unknown`),
  );
  await assert.rejects(
    c.getManifest(parseReference(`${reg.host}/test/missing:v1`)),
    (err: unknown) => isCode(err, 'not_found') && err.message.includes('test/missing'),
  );
  const otherDigest = sha256('not there');
  await assert.rejects(c.getManifest(parseReference(`${reg.host}/test/app@${otherDigest}`)), (err: unknown) => isCode(err, 'not_found'));
});

test('index with two platforms: fetch, select, follow to config blob', async (t) => {
  const reg = await startRegistry(t);
  const amd64 = await pushImage(reg, 'multi/app', undefined, 'amd64');
  const arm64 = await pushImage(reg, 'multi/app', undefined, 'arm64');
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { mediaType: MediaType.OciManifest, digest: amd64.digest, size: amd64.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
        {
          mediaType: MediaType.OciManifest,
          digest: arm64.digest,
          size: arm64.manifest.length,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ],
    }),
  );
  const indexDigest = await pushManifest(reg, 'multi/app', 'latest', MediaType.OciIndex, index);
  const c = client();

  // No tag: latest.
  const fetched = await c.getManifest(parseReference(`${reg.host}/multi/app`));
  assert.equal(fetched.digest, indexDigest);
  assert.equal(fetched.mediaType, MediaType.OciIndex);
  const parsed = parseManifest(fetched.bytes, fetched.mediaType);
  assert.equal(parsed.kind, 'index');
  if (parsed.kind !== 'index') return;

  for (const [want, image, arch] of [
    [{ os: 'linux', architecture: 'arm64' }, arm64, 'arm64'],
    [{ os: 'linux', architecture: 'amd64' }, amd64, 'amd64'],
  ] as const) {
    const chosen = selectManifest(parsed.index, want);
    assert.equal(chosen.digest, image.digest);
    const m = await c.getManifest({ ...parseReference(`${reg.host}/multi/app`), digest: chosen.digest });
    const pm = parseManifest(m.bytes, m.mediaType);
    assert.ok(pm.kind === 'manifest');
    const blob = await c.getBlob(parseReference(`${reg.host}/multi/app`), pm.manifest.config.digest);
    const config = JSON.parse((await collect(blob.body)).toString()) as { architecture: string };
    assert.equal(config.architecture, arch);
  }
  assert.throws(
    () => selectManifest(parsed.index, { os: 'linux', architecture: 's390x' }),
    (err: unknown) => isCode(err, 'not_found') && err.message === 'no matching manifest for linux/s390x in the manifest list entries',
  );
});

test('blob download from docker-registry matches its digest and size', async (t) => {
  const reg = await startRegistry(t);
  const image = await pushImage(reg, 'blobs/app', 'v1', 'amd64');
  const c = client();
  const ref = parseReference(`${reg.host}/blobs/app:v1`);
  const blob = await c.getBlob(ref, image.layerDigest);
  assert.equal(blob.size, image.layer.length);
  const bytes = await collect(blob.body);
  assert.equal(sha256(bytes), image.layerDigest);

  await assert.rejects(
    c.getBlob(ref, sha256('absent')),
    (err: unknown) => isCode(err, 'not_found') && err.message.includes(sha256('absent')),
  );
});

test('htpasswd Basic auth on docker-registry: anonymous, wrong and right credentials, login', async (t) => {
  const reg = await startRegistry(t, { user: 'alice', password: 's3cret' });
  const authorization = basic('alice', 's3cret');
  const image = await pushImage(reg, 'private/app', 'v1', 'amd64', authorization);
  const ref = parseReference(`${reg.host}/private/app:v1`);
  const c = client();

  await assert.rejects(c.getManifest(ref), (err: unknown) => isCode(err, 'unauthorized'));
  await assert.rejects(
    c.getManifest(ref, { username: 'alice', password: 'wrong' }),
    (err: unknown) => isCode(err, 'unauthorized') && /authentication required/.test(err.message),
  );
  const good = { username: 'alice', password: 's3cret' };
  const m = await c.getManifest(ref, good);
  assert.equal(m.digest, image.digest);
  const blob = await c.getBlob(ref, image.layerDigest, good);
  assert.equal(sha256(await collect(blob.body)), image.layerDigest);
  // The Basic challenge is remembered per registry; other credentials still get refused.
  await assert.rejects(c.getManifest(ref, { username: 'bob', password: 's3cret' }), (err: unknown) => isCode(err, 'unauthorized'));

  assert.deepEqual(await client().login(reg.host, good), { status: 'Login Succeeded' });
  assert.deepEqual(await c.login(`http://${reg.host}/`, good), { status: 'Login Succeeded' });
  await assert.rejects(
    client().login(reg.host, { username: 'alice', password: 'nope' }),
    (err: unknown) => isCode(err, 'unauthorized') && err.message.includes(`${reg.base}/v2/`),
  );
});

// ---------- against fakes ----------

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

test('manifest bytes that do not match the digest are rejected', async (t) => {
  const real = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }));
  const tampered = Buffer.from(real.toString().replace('"layers":[]', '"layers": []'));
  const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
  const { port } = await listen(t, (req, res) => {
    const path = req.url ?? '';
    if (path === '/v2/x/manifests/v1') {
      send(res, 200, tampered, { 'content-type': MediaType.OciManifest, 'docker-content-digest': sha256(real) });
    } else if (path === `/v2/x/manifests/${sha256(real)}`) {
      send(res, 200, tampered, { 'content-type': MediaType.OciManifest });
    } else if (path === '/v2/x/manifests/noheader') {
      send(res, 200, real, { 'content-type': 'application/vnd.oci.image.manifest.v1+json; charset=utf-8' });
    } else if (path === '/v2/x/manifests/huge') {
      send(res, 200, huge, { 'content-type': MediaType.OciManifest });
    } else if (path === '/v2/x/manifests/chunked-huge') {
      res.writeHead(200, { 'content-type': MediaType.OciManifest });
      res.end(huge); // no content-length: the limit must hold while reading
    } else {
      send(res, 404, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    }
  });
  const c = client();
  const host = `127.0.0.1:${port}`;
  await assert.rejects(
    c.getManifest(parseReference(`${host}/x:v1`)),
    (err: unknown) => isCode(err, 'invalid_argument') && err.message === `manifest verification failed for digest ${sha256(real)}`,
  );
  await assert.rejects(
    c.getManifest(parseReference(`${host}/x@${sha256(real)}`)),
    (err: unknown) => isCode(err, 'invalid_argument') && err.message === `manifest verification failed for digest ${sha256(real)}`,
  );
  // No Docker-Content-Digest: the digest is computed; media type parameters are dropped.
  const ok = await c.getManifest(parseReference(`${host}/x:noheader`));
  assert.equal(ok.digest, sha256(real));
  assert.equal(ok.mediaType, MediaType.OciManifest);
  for (const tag of ['huge', 'chunked-huge']) {
    await assert.rejects(
      c.getManifest(parseReference(`${host}/x:${tag}`)),
      (err: unknown) => isCode(err, 'invalid_argument') && /manifest too large/.test(err.message),
      tag,
    );
  }
});

interface TokenRequest {
  method: string;
  query: URLSearchParams;
  form?: URLSearchParams;
  authorization?: string;
}

/** A token server (checks alice:pw or a refresh token) and a registry that wants its tokens. */
async function startTokenRegistry(t: TestContext, opts: { field: 'token' | 'access_token' }) {
  const tokenRequests: TokenRequest[] = [];
  const registryRequests: { url: string; authorization?: string }[] = [];
  const issued = new Map<string, string>(); // token -> scope
  let counter = 0;
  const tokenServer = await listen(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const record: TokenRequest = { method: req.method ?? '', query: url.searchParams };
      if (req.headers.authorization) record.authorization = req.headers.authorization;
      let ok = false;
      let scope = url.searchParams.getAll('scope').join(' ');
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        record.form = form;
        ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-123';
        scope = form.get('scope') ?? '';
      } else {
        ok = req.headers.authorization === basic('alice', 'pw');
      }
      tokenRequests.push(record);
      if (!ok) {
        send(res, 401, JSON.stringify({ details: 'incorrect username or password' }), { 'content-type': 'application/json' });
        return;
      }
      const token = `tok-${++counter}`;
      issued.set(token, scope);
      const body: Record<string, unknown> = { [opts.field]: token, expires_in: 300, issued_at: new Date().toISOString() };
      if (url.searchParams.get('offline_token') === 'true') body['refresh_token'] = 'refresh-123';
      send(res, 200, JSON.stringify(body), { 'content-type': 'application/json' });
    });
  });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }));
  const registry = await listen(t, (req, res) => {
    const auth = req.headers.authorization;
    registryRequests.push(auth ? { url: req.url ?? '', authorization: auth } : { url: req.url ?? '' });
    const path = req.url ?? '';
    const wanted = path === '/v2/' ? '' : 'repository:team/app:pull';
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const granted = token !== undefined ? issued.get(token) : undefined;
    if (granted === undefined || !granted.split(' ').includes(wanted) && wanted !== '') {
      const scopePart = wanted ? `,scope="${wanted}"` : '';
      send(res, 401, JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }), {
        'www-authenticate': `Bearer realm="http://127.0.0.1:${tokenServer.port}/token",service="fake-registry"${scopePart}`,
        'content-type': 'application/json',
      });
      return;
    }
    if (path === '/v2/') send(res, 200, '{}');
    else if (path === '/v2/team/app/manifests/v1') send(res, 200, manifest, { 'content-type': MediaType.OciManifest, 'docker-content-digest': sha256(manifest) });
    else send(res, 404, JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }));
  });
  return { tokenRequests, registryRequests, manifest, host: `127.0.0.1:${registry.port}` };
}

test('Bearer token auth: token dance, scope, caching, wrong credentials', async (t) => {
  const fake = await startTokenRegistry(t, { field: 'token' });
  const ref = parseReference(`${fake.host}/team/app:v1`);
  const c = client();
  const creds = { username: 'alice', password: 'pw' };

  const m = await c.getManifest(ref, creds);
  assert.equal(m.digest, sha256(fake.manifest));
  assert.equal(fake.tokenRequests.length, 1);
  const tr = fake.tokenRequests[0] as TokenRequest;
  assert.equal(tr.method, 'GET');
  assert.equal(tr.query.get('service'), 'fake-registry');
  assert.deepEqual(tr.query.getAll('scope'), ['repository:team/app:pull']);
  assert.equal(tr.query.get('account'), 'alice');
  assert.equal(tr.authorization, basic('alice', 'pw'));

  // Cached: the second fetch authenticates up front and asks for no new token.
  const before = fake.registryRequests.length;
  await c.getManifest(ref, creds);
  assert.equal(fake.tokenRequests.length, 1);
  assert.equal(fake.registryRequests.length, before + 1);
  assert.equal(fake.registryRequests.at(-1)?.authorization, 'Bearer tok-1');

  // Missing repository through an authorised token: not_found with docker's wording.
  await assert.rejects(
    c.getManifest(parseReference(`${fake.host}/team/app:v2`), creds),
    (err: unknown) => isCode(err, 'not_found') && err.message === `repository ${fake.host}/team/app not found: name unknown: repository name not known to registry`,
  );

  // Anonymous and wrong credentials are refused by the token server.
  await assert.rejects(client().getManifest(ref), (err: unknown) => isCode(err, 'unauthorized'));
  await assert.rejects(
    client().getManifest(ref, { username: 'alice', password: 'bad' }),
    (err: unknown) => isCode(err, 'unauthorized') && err.message === 'incorrect username or password',
  );
  // Concurrent first requests (parallel layer pulls) share one token request.
  const parallel = client();
  const count = fake.tokenRequests.length;
  const results = await Promise.all([1, 2, 3].map(() => parallel.getManifest(ref, creds)));
  assert.ok(results.every((r) => r.digest === m.digest));
  assert.equal(fake.tokenRequests.length, count + 1);

  // A cached token for alice is not reused for someone else.
  await assert.rejects(c.getManifest(ref, { username: 'mallory', password: 'x' }), (err: unknown) => isCode(err, 'unauthorized'));
});

test('Bearer: access_token responses, identity tokens via OAuth refresh, registry tokens, login', async (t) => {
  const fake = await startTokenRegistry(t, { field: 'access_token' });
  const ref = parseReference(`${fake.host}/team/app:v1`);

  const login = await client().login(fake.host, { username: 'alice', password: 'pw' });
  assert.deepEqual(login, { status: 'Login Succeeded', identityToken: 'refresh-123' });
  const loginRequest = fake.tokenRequests.at(-1) as TokenRequest;
  assert.deepEqual(loginRequest.query.getAll('scope'), [], 'login asks for a scope-less token');
  assert.equal(loginRequest.query.get('offline_token'), 'true');

  await assert.rejects(client().login(fake.host, { username: 'alice', password: 'bad' }), (err: unknown) => isCode(err, 'unauthorized'));

  const m = await client().getManifest(ref, { identitytoken: 'refresh-123' });
  assert.equal(m.digest, sha256(fake.manifest));
  const oauth = fake.tokenRequests.at(-1) as TokenRequest;
  assert.equal(oauth.method, 'POST');
  assert.equal(oauth.form?.get('grant_type'), 'refresh_token');
  assert.equal(oauth.form?.get('service'), 'fake-registry');
  assert.equal(oauth.form?.get('scope'), 'repository:team/app:pull');
  assert.equal(oauth.authorization, undefined, 'no password is sent with an identity token');
  await assert.rejects(client().getManifest(ref, { identitytoken: 'stale' }), (err: unknown) => isCode(err, 'unauthorized'));

  // A registry token goes straight to the registry, without the token server.
  const tokenCount = fake.tokenRequests.length;
  const c = client();
  await assert.rejects(c.getManifest(ref, { registrytoken: 'forged' }), (err: unknown) => isCode(err, 'unauthorized'));
  assert.equal(fake.tokenRequests.length, tokenCount);
  assert.equal(fake.registryRequests.at(-1)?.authorization, 'Bearer forged');
});

test('blob redirects to another host do not carry the Authorization header', async (t) => {
  const blob = randomBytes(100_000);
  const digest = sha256(blob);
  const storageSeen: (string | undefined)[] = [];
  const storage = await listen(t, (req, res) => {
    storageSeen.push(req.headers.authorization);
    if (req.url === '/bucket/blob?sig=1') send(res, 200, blob, { 'content-type': 'application/octet-stream' });
    else send(res, 404, 'no');
  });
  const registrySeen: { url: string; authorization?: string }[] = [];
  const registry = await listen(t, (req, res) => {
    const auth = req.headers.authorization;
    registrySeen.push(auth ? { url: req.url ?? '', authorization: auth } : { url: req.url ?? '' });
    if (auth !== basic('alice', 'pw')) {
      send(res, 401, '{}', { 'www-authenticate': 'Basic realm="r"' });
    } else if (req.url === `/v2/x/blobs/${digest}`) {
      // Same-origin hop first (credentials kept), then off to storage (credentials dropped).
      send(res, 307, '', { location: `/v2/x/blobs/${digest}/moved` });
    } else if (req.url === `/v2/x/blobs/${digest}/moved`) {
      send(res, 307, '', { location: `http://127.0.0.1:${storage.port}/bucket/blob?sig=1` });
    } else {
      send(res, 404, '');
    }
  });
  const got = await client().getBlob(parseReference(`127.0.0.1:${registry.port}/x`), digest, { username: 'alice', password: 'pw' });
  assert.equal(got.size, blob.length);
  assert.equal(sha256(await collect(got.body)), digest);
  assert.deepEqual(storageSeen, [undefined]);
  assert.deepEqual(
    registrySeen.map((r) => [r.url, r.authorization]),
    [
      [`/v2/x/blobs/${digest}`, undefined],
      [`/v2/x/blobs/${digest}`, basic('alice', 'pw')],
      [`/v2/x/blobs/${digest}/moved`, basic('alice', 'pw')],
    ],
  );
});

test('network failures are unavailable and name the host', async () => {
  const port = await freePort(); // nothing listens there any more
  await assert.rejects(
    client().getManifest(parseReference(`127.0.0.1:${port}/x:1`)),
    (err: unknown) =>
      isCode(err, 'unavailable') &&
      err.message === `Get "http://127.0.0.1:${port}/v2/x/manifests/1": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  );
  await assert.rejects(client().login(`127.0.0.1:${port}`, { username: 'a', password: 'b' }), (err: unknown) => isCode(err, 'unavailable'));
});

test('an aborted request rejects with the abort reason', async (t) => {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
  const { port } = await listen(t, () => {
    arrived(); // never answer
  });
  const controller = new AbortController();
  const pending = client().getManifest(parseReference(`127.0.0.1:${port}/x:1`), undefined, controller.signal);
  await requestArrived;
  const reason = new Error('stop');
  controller.abort(reason);
  await assert.rejects(pending, (err: unknown) => err === reason);
});
