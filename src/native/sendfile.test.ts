// sendFile: a file range goes to a non-blocking TCP socket through sendfile(2) on the thread pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { sys } from './index.js';

test('sendFile copies a file range to a socket, waiting out a full send buffer; bad arguments throw', async (t) => {
  const dir = await tempRoot(t, 'berth-sendfile-');
  const data = randomBytes(8 << 20); // larger than the socket buffers: the worker must wait for POLLOUT
  const path = join(dir, 'blob');
  await writeFile(path, data);
  const accepted = new Promise<Socket>((resolve) => {
    const server = createServer(resolve);
    server.listen(0, '127.0.0.1');
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    server.on('listening', () => {
      const addr = server.address() as { port: number };
      const client = connect(addr.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      client.on('data', (b: Buffer) => chunks.push(b));
      received = new Promise((r) => client.on('end', () => r(Buffer.concat(chunks))));
      clientSocket = client;
    });
  });
  let received: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
  let clientSocket: Socket | undefined;
  const serverSide = (await accepted) as Socket & { _handle?: { fd?: number } };
  const fd = serverSide._handle?.fd;
  assert.equal(typeof fd, 'number');
  const file = await open(path, 'r');
  t.after(() => file.close());
  const start = 12345;
  const count = data.length - start - 99;
  const sent = await new Promise<number>((resolve, reject) => sys.sendFile(fd as number, file.fd, start, count, (err, n) => (err ? reject(err) : resolve(n))));
  assert.equal(sent, count);
  serverSide.end();
  assert.ok((await received).equals(data.subarray(start, start + count)));

  // bad arguments are refused at once
  assert.throws(() => sys.sendFile(-1 as number, file.fd, -5, 1, () => {}), /sendFile/);
  clientSocket?.destroy();
});
