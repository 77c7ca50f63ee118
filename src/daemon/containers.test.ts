// Container endpoints against the scripted FakeContainerService on a temp unix socket.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { tempRoot } from '../testing/index.js';
import { serveFakes } from './fakes.js';
import { request } from './testclient.js';
import { demux, muxFrame } from './stream-mux.js';
import { nanosOf } from './routes/containers.js';

async function start(t: TestContext) {
  const dir = await tempRoot(t, 'berth-containers-');
  const served = await serveFakes(dir);
  t.after(() => served.api.close(1000));
  const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(served.socket, method, path, opts);
  const create = async (body: Record<string, unknown>, name?: string) => {
    const r = await call('POST', `/v1.50/containers/create${name ? `?name=${name}` : ''}`, {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 201, r.body);
    return r.json<{ Id: string; Warnings: string[] }>().Id;
  };
  return { ...served, dir, call, create };
}

/** Raw bytes of a reply body (the test client decodes as UTF-8, which frames are not). */
function rawGet(socket: string, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('lifecycle statuses and dockerd messages', async (t) => {
  const { call, create } = await start(t);
  const json = { 'Content-Type': 'application/json' };
  const bad = await call('POST', '/v1.50/containers/create', { headers: json, body: '{nope' });
  assert.equal(bad.status, 400);
  assert.match(bad.json<{ message: string }>().message, /^invalid JSON/);
  const missing = await call('POST', '/v1.50/containers/create', { headers: json, body: JSON.stringify({ Image: 'nope' }) });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'No such image: nope' });

  const id = await create({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 100'] }, 'web');
  assert.match(id, /^[0-9a-f]{64}$/);
  const dup = await call('POST', '/v1.50/containers/create?name=web', { headers: json, body: JSON.stringify({ Image: 'busybox' }) });
  assert.equal(dup.status, 409);
  assert.match(dup.json<{ message: string }>().message, /The container name "\/web" is already in use/);

  assert.equal((await call('POST', '/v1.50/containers/web/start')).status, 204);
  assert.equal((await call('POST', '/v1.50/containers/web/start')).status, 304);
  const inspect = await call('GET', `/v1.50/containers/${id.slice(0, 12)}/json`);
  assert.equal(inspect.status, 200);
  assert.deepEqual(inspect.json<{ State: { Status: string }; Name: string }>().State.Status, 'running');
  assert.equal((await call('HEAD', '/v1.50/containers/web/json')).status, 200);

  const list = await call('GET', '/v1.50/containers/json?filters=' + encodeURIComponent('{"name":["web"]}'));
  assert.deepEqual(list.json<{ Names: string[] }[]>().map((c) => c.Names), [['/web']]);
  const badFilter = await call('GET', '/v1.50/containers/json?filters=' + encodeURIComponent('{"colour":["red"]}'));
  assert.equal(badFilter.status, 400);

  const rmRunning = await call('DELETE', '/v1.50/containers/web');
  assert.equal(rmRunning.status, 409);
  assert.match(rmRunning.json<{ message: string }>().message, /container is running/);
  assert.equal((await call('POST', '/v1.50/containers/web/stop?t=3&signal=SIGINT')).status, 204);
  assert.equal((await call('POST', '/v1.50/containers/web/stop')).status, 304);
  const kill = await call('POST', '/v1.50/containers/web/kill?signal=KILL');
  assert.equal(kill.status, 409);
  assert.match(kill.json<{ message: string }>().message, /is not running/);
  assert.equal((await call('POST', '/v1.50/containers/web/restart?t=1')).status, 204);
  assert.equal((await call('POST', '/v1.50/containers/web/kill?signal=SIGKILL')).status, 204);
  assert.equal((await call('DELETE', '/v1.50/containers/web?force=1&v=1')).status, 204);

  for (const [method, path] of [
    ['GET', '/v1.50/containers/web/json'],
    ['POST', '/v1.50/containers/web/start'],
    ['POST', '/v1.50/containers/web/stop'],
    ['POST', '/v1.50/containers/web/wait'],
    ['GET', '/v1.50/containers/web/logs?stdout=1'],
    ['DELETE', '/v1.50/containers/web'],
  ] as const) {
    const r = await call(method, path);
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.deepEqual(r.json(), { message: 'No such container: web' });
  }
});

test('wait answers its header before the container starts and its body when it exits', async (t) => {
  const { socket, call, create, containers } = await start(t);
  const id = await create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo hi; exit 3'] });
  const body = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, method: 'POST', path: `/v1.50/containers/${id}/wait?condition=next-exit` }, (res) => {
      // Headers are here and the container has not been started: only now start it.
      assert.equal(containers.calls.some((c) => c.method === 'start'), false);
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      void call('POST', `/v1.50/containers/${id}/start`).then((r) => assert.equal(r.status, 204));
    });
    req.on('error', reject);
    req.end();
  });
  const r = await body;
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { StatusCode: 3 });
  // not-running on an exited container answers at once.
  assert.deepEqual((await call('POST', `/v1.50/containers/${id}/wait`)).json(), { StatusCode: 3 });
  const bad = await call('POST', `/v1.50/containers/${id}/wait?condition=sometime`);
  assert.equal(bad.status, 400);
});

test('logs: multiplexed frames byte for byte, timestamps, tail, raw for a TTY', async (t) => {
  const { socket, call, create, containers } = await start(t);
  const id = await create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; echo two'] });
  assert.equal((await call('POST', `/v1.50/containers/${id}/start`)).status, 204);
  await call('POST', `/v1.50/containers/${id}/wait`);

  const both = await rawGet(socket, `/v1.50/containers/${id}/logs?stdout=1&stderr=1`);
  assert.equal(both.status, 200);
  assert.equal(both.type, 'application/vnd.docker.multiplexed-stream');
  assert.deepEqual(
    both.body,
    Buffer.from([1, 0, 0, 0, 0, 0, 0, 4, ...Buffer.from('out\n'), 2, 0, 0, 0, 0, 0, 0, 4, ...Buffer.from('err\n'), 1, 0, 0, 0, 0, 0, 0, 4, ...Buffer.from('two\n')]),
  );
  assert.deepEqual(muxFrame(2, Buffer.from('err\n')), both.body.subarray(12, 24));

  const errOnly = await rawGet(socket, `/v1.50/containers/${id}/logs?stderr=1`);
  assert.deepEqual(demux(errOnly.body).map((f) => [f.stream, f.payload.toString()]), [[2, 'err\n']]);
  const tail = await rawGet(socket, `/v1.50/containers/${id}/logs?stdout=1&stderr=1&tail=1`);
  assert.deepEqual(demux(tail.body).map((f) => f.payload.toString()), ['two\n']);

  const stamped = demux((await rawGet(socket, `/v1.50/containers/${id}/logs?stdout=1&timestamps=1`)).body);
  const times = containers.containers[0]?.logs.filter((e) => e.stream === 'stdout').map((e) => e.time);
  assert.deepEqual(
    stamped.map((f) => f.payload.toString()),
    [`${times?.[0]} out\n`, `${times?.[1]} two\n`],
  );
  assert.match(stamped[0]?.payload.toString() ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\n$/);

  const none = await call('GET', `/v1.50/containers/${id}/logs`);
  assert.equal(none.status, 400);
  assert.deepEqual(none.json(), { message: 'Bad parameters: you must choose at least one stream' });

  const ttyId = await create({ Image: 'busybox', Tty: true, Cmd: ['echo', 'raw'] });
  await call('POST', `/v1.50/containers/${ttyId}/start`);
  await call('POST', `/v1.50/containers/${ttyId}/wait`);
  const raw = await rawGet(socket, `/v1.50/containers/${ttyId}/logs?stdout=1&stderr=1`);
  assert.equal(raw.type, 'application/vnd.docker.raw-stream');
  assert.equal(raw.body.toString(), 'raw\n');
});

test('logs follow streams lines as they are written and ends when the container stops', async (t) => {
  const { socket, call, create } = await start(t);
  const id = await create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo first; sleep 100'] });
  await call('POST', `/v1.50/containers/${id}/start`);
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, path: `/v1.50/containers/${id}/logs?stdout=1&follow=1` }, (res) => {
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        // The first line has arrived while the container runs: stop it, which must end the stream.
        if (chunks.length === 1) void call('POST', `/v1.50/containers/${id}/stop`);
      });
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
  await done;
  assert.deepEqual(demux(Buffer.concat(chunks)).map((f) => f.payload.toString()), ['first\n']);
});

/** Opens an attach over a raw socket with docker's upgrade headers; resolves with the head and a body collector. */
function rawAttach(socket: string, path: string) {
  const conn = connect(socket);
  conn.write(`POST ${path} HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const head = new Promise<{ head: string }>((resolve, reject) => {
    conn.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) resolve({ head: buf.subarray(0, end).toString() });
    });
    conn.on('error', reject);
  });
  const all = new Promise<Buffer>((resolve) => conn.on('end', () => resolve(buf.subarray(buf.indexOf('\r\n\r\n') + 4))));
  return { conn, head, all };
}

test('attach hijacks the connection with 101 UPGRADED and streams frames until the container exits', async (t) => {
  const { socket, call, create } = await start(t);
  const id = await create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo hello; echo oops >&2; exit 2'] });
  const attach = rawAttach(socket, `/v1.50/containers/${id}/attach?stream=1&stdout=1&stderr=1`);
  t.after(() => attach.conn.destroy());
  const { head } = await attach.head;
  const lines = head.split('\r\n');
  assert.equal(lines[0], 'HTTP/1.1 101 UPGRADED');
  assert.ok(lines.includes('Content-Type: application/vnd.docker.multiplexed-stream'), head);
  assert.ok(lines.includes('Connection: Upgrade'));
  assert.ok(lines.includes('Upgrade: tcp'));
  attach.conn.end(); // docker's CLI half-closes when it has no stdin to send
  assert.equal((await call('POST', `/v1.50/containers/${id}/start`)).status, 204);
  const body = await attach.all;
  assert.deepEqual(
    demux(body).map((f) => [f.stream, f.payload.toString()]),
    [
      [1, 'hello\n'],
      [2, 'oops\n'],
    ],
  );

  // Errors before the hijack are ordinary replies on the same connection.
  const missing = rawAttach(socket, '/v1.50/containers/nope/attach?stream=1&stdout=1');
  t.after(() => missing.conn.destroy());
  assert.match((await missing.head).head, /^HTTP\/1\.1 404 /);
  assert.match((await missing.all).toString(), /No such container: nope/);
});

test('nanosOf orders RFC 3339 nanosecond times exactly', () => {
  assert.equal(nanosOf('2024-01-02T03:04:05.000000001Z') - nanosOf('2024-01-02T03:04:05Z'), 1n);
  assert.equal(nanosOf('2024-01-02T03:04:05.5+01:00'), nanosOf('2024-01-02T02:04:05.500000000Z'));
});
