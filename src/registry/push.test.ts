// The upload side of the client against small node:http fakes: what a stock
// registry won't do on demand (short Range answers, moving Locations, 416s,
// a 202 without Location, a wrong digest), plus HEAD, mount and manifest PUT
// with the scopes a push must ask for.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { isCode } from '../errors/index.js';
import { parseReference } from '../reference/index.js';
import { sha256, type Digest } from '../util/index.js';
import { createRegistryClient, type BlobSource } from './index.js';

async function listen(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const client = () => createRegistryClient({ insecureRegistries: [], userAgent: 'berth-test' });
const sourceOf = (data: Buffer): BlobSource => (start, end) => Readable.from([data.subarray(start, end + 1)]);

test('chunked upload follows each Location and resends from the Range the registry reports, then PUTs the digest', async (t) => {
  const data = randomBytes(10_000);
  const digest = sha256(data);
  const stored: Buffer[] = [];
  const log: string[] = [];
  let session = 0;
  let refused416 = false;
  const host = await listen(t, (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push(`${req.method} ${url.pathname}${req.headers['content-range'] ? ' ' + String(req.headers['content-range']) : ''}`);
    const received = Buffer.concat(stored).length;
    if (req.method === 'POST' && url.pathname === '/v2/team/app/blobs/uploads/') {
      res.writeHead(202, { location: `/upload/s${session++}?state=0`, range: '0-0', 'content-length': '0' }).end();
      return;
    }
    if (req.method === 'PATCH' && url.pathname.startsWith('/upload/')) {
      const [start, end] = String(req.headers['content-range']).split('-').map(Number) as [number, number];
      assert.equal(body.length, end - start + 1, 'Content-Range matches the body');
      if (start !== received) {
        res.writeHead(416).end();
        return;
      }
      if (!refused416 && start > 0) {
        // once: pretend the chunk arrived out of order; the client must ask for the status
        refused416 = true;
        res.writeHead(416).end();
        return;
      }
      // keep only the first half of each chunk: the client must resend from Range
      const keep = body.subarray(0, Math.ceil(body.length / 2));
      stored.push(keep);
      const total = received + keep.length;
      res.writeHead(202, { location: `/upload/s${session++}?state=${total}`, range: `0-${total - 1}`, 'content-length': '0' }).end();
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith('/upload/')) {
      res.writeHead(204, { location: `/upload/s${session++}?state=${received}`, range: `0-${received - 1}` }).end();
      return;
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/upload/')) {
      stored.push(body);
      const all = Buffer.concat(stored);
      if (url.searchParams.get('digest') !== sha256(all)) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] }));
        return;
      }
      res.writeHead(201, { location: `/v2/team/app/blobs/${sha256(all)}`, 'docker-content-digest': sha256(all) }).end();
      return;
    }
    res.writeHead(404).end();
  });
  const progress: number[] = [];
  const result = await client().pushBlob(parseReference(`${host}/team/app`), { digest, size: data.length }, sourceOf(data), {
    chunkSize: 3000,
    onProgress: (n) => progress.push(n),
  });
  assert.equal(result, 'uploaded');
  assert.ok(Buffer.concat(stored).equals(data), 'the registry assembled exactly the blob');
  assert.ok(refused416, 'the 416 path ran');
  assert.ok(log.some((l) => l.startsWith('GET /upload/')), 'status asked after the 416');
  // every request after the POST went to the newest Location: session numbers only grow
  const sessions = log.filter((l) => l.includes('/upload/s')).map((l) => Number(/\/upload\/s(\d+)/.exec(l)?.[1]));
  assert.deepEqual(sessions, [...sessions].sort((a, b) => a - b));
  assert.ok(log.filter((l) => l.startsWith('PATCH')).length > 4, log.join('\n'));
  assert.equal(progress.at(-1), data.length);
});

test('a small blob goes up as POST then one PUT with the whole body', async (t) => {
  const data = Buffer.from('hello, registry');
  const digest = sha256(data);
  const seen: string[] = [];
  let put: Buffer | undefined;
  const host = await listen(t, (req, res, body) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.method === 'POST') return void res.writeHead(202, { location: `http://${req.headers.host}/up/1?_state=abc` }).end();
    if (req.method === 'PUT') {
      put = body;
      assert.equal(req.headers['content-length'], String(data.length));
      return void res.writeHead(201, { 'docker-content-digest': digest }).end();
    }
    res.writeHead(500).end();
  });
  assert.equal(await client().pushBlob(parseReference(`${host}/app`), { digest, size: data.length }, sourceOf(data)), 'uploaded');
  assert.ok(put?.equals(data));
  assert.deepEqual(seen, ['POST /v2/app/blobs/uploads/', `PUT /up/1?_state=abc&digest=${encodeURIComponent(digest)}`]);
});

test('a 202 without Location is an error', async (t) => {
  const host = await listen(t, (_req, res) => res.writeHead(202).end());
  const data = Buffer.from('x');
  await assert.rejects(
    client().pushBlob(parseReference(`${host}/app`), { digest: sha256(data), size: 1 }, sourceOf(data)),
    (err) => isCode(err, 'unavailable') && /without a Location/.test((err as Error).message),
  );
});

test('a digest mismatch is surfaced: DIGEST_INVALID from the registry, or another digest in its answer', async (t) => {
  const data = Buffer.from('some bytes');
  const other = sha256('other bytes');
  let mode: 'invalid' | 'other' = 'invalid';
  const host = await listen(t, (req, res) => {
    if (req.method === 'POST') return void res.writeHead(202, { location: '/up/1' }).end();
    if (mode === 'invalid') {
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] }));
    }
    res.writeHead(201, { 'docker-content-digest': other }).end();
  });
  const ref = parseReference(`${host}/app`);
  await assert.rejects(
    client().pushBlob(ref, { digest: sha256(data), size: data.length }, sourceOf(data)),
    (err) => isCode(err, 'invalid_argument') && /digest invalid: provided digest did not match/.test((err as Error).message),
  );
  mode = 'other';
  await assert.rejects(
    client().pushBlob(ref, { digest: sha256(data), size: data.length }, sourceOf(data)),
    (err) => isCode(err, 'invalid_argument') && (err as Error).message.includes(`digest mismatch: registry ${host} stored ${other}`),
  );
});

test('HEAD, cross-repository mount and manifest PUT ask for pull,push (and the source repository pull) tokens', async (t) => {
  const scopes: string[][] = [];
  const blob = sha256('layer') as Digest;
  let mounts = 0;
  let manifest: { type: string | undefined; body: Buffer } | undefined;
  const host = await listen(t, (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      scopes.push(url.searchParams.getAll('scope'));
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ token: `tok-${scopes.length}` }));
    }
    if (!req.headers.authorization) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake"` });
      return void res.end();
    }
    if (req.method === 'HEAD') return void res.writeHead(url.pathname.endsWith(blob) ? 200 : 404).end();
    if (req.method === 'POST' && url.searchParams.get('mount') === blob && url.searchParams.get('from') === 'base/img') {
      mounts++;
      return void res.writeHead(201, { location: `/v2/app/blobs/${blob}` }).end();
    }
    if (req.method === 'PUT' && url.pathname === '/v2/app/manifests/v1') {
      manifest = { type: req.headers['content-type'], body };
      return void res.writeHead(201, { 'docker-content-digest': sha256(body) }).end();
    }
    res.writeHead(500).end();
  });
  const c = client();
  const ref = parseReference(`${host}/app:v1`);
  assert.equal(await c.blobExists(ref, blob), true);
  assert.equal(await c.blobExists(ref, sha256('missing')), false);
  assert.equal(await c.pushBlob(ref, { digest: blob, size: 5 }, sourceOf(Buffer.from('layer')), { mountFrom: 'base/img' }), 'mounted');
  assert.equal(mounts, 1);
  const bytes = Buffer.from('{"schemaVersion":2}');
  assert.equal(await c.putManifest(ref, { mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes }), sha256(bytes));
  assert.equal(manifest?.type, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok(manifest?.body.equals(bytes));
  assert.deepEqual(scopes[0], ['repository:app:pull,push']);
  assert.ok(scopes.some((s) => s.includes('repository:app:pull,push') && s.includes('repository:base/img:pull')), JSON.stringify(scopes));
});
