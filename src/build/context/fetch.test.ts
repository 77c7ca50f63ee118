import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { isCode } from '../../errors/index.js';
import { tempRoot } from '../../testing/index.js';
import { fetchUrl } from './index.js';

async function serve(t: { after(fn: () => Promise<void> | void): void }): Promise<string> {
  const body = Buffer.from('hello from loopback\n');
  const server = createServer((req, res) => {
    if (req.url === '/files/app%20v1.tgz' || req.url === '/') {
      res.writeHead(200, { 'content-length': body.length, 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      res.end(body);
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/files/app%20v1.tgz' });
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('nope');
    }
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('fetchUrl downloads into tmpDir with its name, Last-Modified and digest', async (t) => {
  const tmp = await tempRoot(t);
  const base = await serve(t);
  const f = await fetchUrl(`${base}/files/app%20v1.tgz`, tmp);
  assert.equal(f.name, 'app v1.tgz');
  assert.ok(f.hostPath.startsWith(`${tmp}/`));
  assert.equal(readFileSync(f.hostPath, 'utf8'), 'hello from loopback\n');
  assert.equal(f.digest, `sha256:${createHash('sha256').update('hello from loopback\n').digest('hex')}`);
  assert.equal(f.mtime?.toISOString(), '2015-10-21T07:28:00.000Z');
  assert.equal(lstatSync(f.hostPath).mtimeMs, Date.parse('2015-10-21T07:28:00Z'));
  assert.equal(lstatSync(f.hostPath).mode & 0o777, 0o600);

  const redirected = await fetchUrl(`${base}/moved`, tmp);
  assert.equal(redirected.digest, f.digest);
  assert.equal(redirected.name, 'moved'); // named from the URL asked for, as docker

  const root = await fetchUrl(`${base}/`, tmp);
  assert.equal(root.name, 'download');
});

test('fetchUrl: a non-2xx answer is invalid_argument naming the URL and status; nothing is left', async (t) => {
  const tmp = await tempRoot(t);
  const base = await serve(t);
  await assert.rejects(
    fetchUrl(`${base}/missing.txt`, tmp),
    (err) => isCode(err, 'invalid_argument') && err.message === `failed to GET ${base}/missing.txt with status 404 Not Found`,
  );
  assert.deepEqual(readdirSync(tmp), []);
  await assert.rejects(fetchUrl('ftp://127.0.0.1/x', tmp), (err) => isCode(err, 'invalid_argument'));
});
