import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BerthError, ERROR_CODES } from '../errors/index.js';
import { STATUS_OF, statusOf, writeError } from './errors.js';

test('every ErrorCode has exactly one HTTP status, and the table has no extra rows', () => {
  assert.deepEqual(Object.keys(STATUS_OF).sort(), [...ERROR_CODES].sort());
  for (const code of ERROR_CODES) {
    const status = STATUS_OF[code];
    assert.ok(Number.isInteger(status) && status >= 300 && status < 600, `${code} -> ${status}`);
    assert.equal(statusOf(new BerthError(code, 'x')), status);
  }
  assert.equal(STATUS_OF.not_found, 404);
  assert.equal(STATUS_OF.invalid_argument, 400);
  assert.equal(STATUS_OF.conflict, 409);
  assert.equal(STATUS_OF.unauthorized, 401);
  assert.equal(statusOf(new Error('plain')), 500, 'anything that is not a BerthError is a 500');
});

test('writeError bodies are {"message"} for every code (304 has none)', async (t) => {
  let next: unknown;
  const server = createServer((_req, res) => writeError(res, next));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const get = () =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });
  for (const code of ERROR_CODES) {
    next = new BerthError(code, `failed with ${code}`);
    const r = await get();
    assert.equal(r.status, STATUS_OF[code]);
    if (r.status === 304) assert.equal(r.body, '');
    else assert.deepEqual(JSON.parse(r.body), { message: `failed with ${code}` });
  }
});
