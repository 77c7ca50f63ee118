import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../db/index.js';
import { isCode } from '../errors/index.js';
import { tempRoot } from '../testing/index.js';
import { ANONYMOUS_LABEL, validVolumeName, VolumeStore } from './index.js';

test('volume names follow the local driver rule', () => {
  for (const ok of ['data', 'a1', 'my_vol.2-x', '0abc']) assert.ok(validVolumeName(ok), ok);
  for (const bad of ['', 'a', '-x', '.x', '_x', 'a/b', 'a:b', 'a b', '/abs']) assert.ok(!validVolumeName(bad), bad);
});

async function store(t: { after(fn: () => Promise<void> | void): void }) {
  // registered before tempRoot's cleanup (hooks run in order): close, then remove
  const held: { close?: () => void } = {};
  t.after(() => held.close?.());
  const root = await tempRoot(t);
  const db = openDatabase(join(root, 'berth.db'));
  held.close = () => {
    db.close();
  };
  return { root, volumes: new VolumeStore({ db, root }) };
}

test('create is idempotent, random names, driver options refused, get/remove errors', async (t) => {
  const { root, volumes } = await store(t);
  const v = await volumes.create({ Name: 'data', Labels: { a: 'b' } });
  assert.equal(v.Mountpoint, join(root, 'volumes', 'data', '_data'));
  assert.ok((await stat(v.Mountpoint)).isDirectory());
  assert.deepEqual(await volumes.create({ Name: 'data' }), v);
  const anon = await volumes.create({});
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  await assert.rejects(volumes.create({ Name: 'x', DriverOpts: { type: 'nfs' } }), (e) => isCode(e, 'invalid_argument'));
  await assert.rejects(volumes.create({ Name: 'a/b' }), (e) => isCode(e, 'invalid_argument'));
  assert.throws(() => volumes.get('nope'), (e) => isCode(e, 'not_found') && e.message === 'get nope: no such volume');
  await volumes.remove('nope', { force: true });
  volumes.setUsedBy((name) => (name === 'data' ? ['c1'] : []));
  await assert.rejects(volumes.remove('data', { force: true }), (e) => isCode(e, 'conflict') && e.message === 'remove data: volume is in use - [c1]');
  assert.deepEqual((await volumes.list({ dangling: ['false'] })).Volumes.map((x) => x.Name), ['data']);
  assert.deepEqual((await volumes.list({ label: ['a=b'] })).Volumes.map((x) => x.Name), ['data']);
  await assert.rejects(volumes.list({ bogus: ['1'] }), (e) => isCode(e, 'invalid_argument'));
});

test('prune: anonymous only unless all=true, never a used one', async (t) => {
  const { volumes } = await store(t);
  await volumes.create({ Name: 'named' });
  await volumes.create({ Name: 'used', Labels: { [ANONYMOUS_LABEL]: '' } });
  const anon = await volumes.create({ Labels: { [ANONYMOUS_LABEL]: '' } });
  volumes.setUsedBy((name) => (name === 'used' ? ['c'] : []));
  assert.deepEqual((await volumes.prune()).VolumesDeleted, [anon.Name]);
  assert.deepEqual((await volumes.prune({ all: ['true'] })).VolumesDeleted, ['named']);
  assert.deepEqual((await volumes.list()).Volumes.map((v) => v.Name), ['used']);
});
