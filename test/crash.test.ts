// A daemon killed with SIGKILL in the middle of a pull restarts consistent:
// nothing half-written stays, and the same pull then succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, startRegistry } from './harness/index.js';
import { debianMinbase, pushFixture } from './fixtures/index.js';

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

test('kill -9 during a pull: the restarted daemon is consistent and the pull completes', async (t) => {
  const reg = await startRegistry(t);
  const deb = await debianMinbase();
  await pushFixture(deb, reg.host, 'debian:minbase');
  const d = await startDaemon(t);
  const ref = `${reg.host}/debian:minbase`;

  // Start the pull and kill the daemon once the layer is streaming in.
  const pull = d.cli(['pull', ref]);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const staging = await list(join(d.root, 'overlay', 'staging'));
    const ingests = await list(join(d.root, 'content', 'ingest'));
    if (staging.length > 0 && ingests.length > 0) break;
    if (Date.now() > deadline) assert.fail('the pull never started writing');
    await new Promise((r) => setTimeout(r, 20));
  }
  await d.kill9();
  const interrupted = await pull;
  assert.notEqual(interrupted.code, 0, 'the CLI must report the lost connection');

  await d.restart();
  assert.deepEqual(await list(join(d.root, 'overlay', 'staging')), []);
  assert.deepEqual(await list(join(d.root, 'content', 'ingest')), []);
  assert.deepEqual(await list(join(d.root, 'overlay', 'snapshots')), []);
  const images = await d.request('GET', '/v1.50/images/json');
  assert.deepEqual(images.json(), []);

  const again = await d.cli(['pull', ref]);
  assert.equal(again.code, 0, again.stderr);
  const info = await d.request('GET', `/v1.50/images/${ref}/json`);
  assert.equal(info.json<{ Id: string }>().Id, deb.configDigest);
});
