// runDaemon over the real composition (SQLite, content store, overlay
// snapshotter, image service) on a temp root and socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempRoot } from '../testing/index.js';
import { runDaemon } from './index.js';
import { request } from './testclient.js';

async function waitForSocket(socket: string, exited: () => boolean): Promise<void> {
  // Poll on the daemon coming up (not a timing assertion: bounded by the test runner's timeout).
  for (;;) {
    if (exited()) throw new Error('daemon exited before listening');
    try {
      if ((await request(socket, 'GET', '/_ping')).body === 'OK') return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('runDaemon serves the real services, holds the root lock and shuts down on abort', async (t) => {
  const dir = await tempRoot(t, 'berth-daemon-');
  const root = join(dir, 'root');
  const socket = join(dir, 'run', 'berth.sock');
  const stop = new AbortController();
  t.after(() => stop.abort());
  let done = false;
  const running = runDaemon({ root, socket, insecureRegistries: [], logLevel: 'error' }, { signal: stop.signal }).finally(() => (done = true));
  await waitForSocket(socket, () => done);

  assert.equal((await stat(root)).mode & 0o777, 0o700);
  assert.equal((await readFile(join(root, 'berth.pid'), 'utf8')).trim(), String(process.pid));
  const images = await request(socket, 'GET', '/v1.50/images/json');
  assert.equal(images.status, 200);
  assert.deepEqual(images.json(), []);
  const info = (await request(socket, 'GET', '/v1.50/info')).json<{ Images: number; DockerRootDir: string }>();
  assert.deepEqual([info.Images, info.DockerRootDir], [0, root]);
  const missing = await request(socket, 'GET', '/v1.50/images/nothing:here/json');
  assert.equal(missing.status, 404);
  assert.match(missing.json<{ message: string }>().message, /nothing:here/);

  // A second daemon on the same root is refused by the lock, before touching the socket.
  await assert.rejects(
    runDaemon({ root, socket: join(dir, 'other.sock'), insecureRegistries: [], logLevel: 'error' }),
    /another berth daemon/,
  );

  stop.abort();
  await running;
  await assert.rejects(stat(socket), { code: 'ENOENT' });
  await assert.rejects(stat(join(root, 'berth.pid')), { code: 'ENOENT' });
});

test('a daemon process exits cleanly on SIGTERM, removing its socket and lock', async (t) => {
  const dir = await tempRoot(t, 'berth-daemon-');
  const root = join(dir, 'root');
  const socket = join(dir, 'berth.sock');
  const index = fileURLToPath(new URL('./index.js', import.meta.url));
  const script = `import(${JSON.stringify(index)}).then((m) => m.runDaemon(${JSON.stringify({ root, socket, insecureRegistries: [], logLevel: 'info' })}))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitForSocket(socket, () => child.exitCode !== null);
  assert.match(stderr, /level=info msg="berth daemon started".* root=\S+ socket=\S+/);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, stderr);
  assert.match(stderr, /msg="berth daemon stopped"/);
  await assert.rejects(stat(socket), { code: 'ENOENT' });
  await assert.rejects(stat(join(root, 'berth.pid')), { code: 'ENOENT' });
});
