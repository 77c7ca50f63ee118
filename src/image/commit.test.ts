import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { LocalContentStore } from '../content/index.js';
import { openDatabase } from '../db/index.js';
import { parseReference } from '../reference/index.js';
import { createRegistryClient } from '../registry/index.js';
import { applyLayer, mountAll, OverlaySnapshotter, unmount } from '../storage/index.js';
import { tempRoot } from '../testing/index.js';
import { nullLogger, type Digest } from '../util/index.js';
import { chainIds, createImageService, mergeCommitConfig } from './index.js';

async function rootfsTar(files: Record<string, string | null>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const [name, body] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === null) pack.entry({ name, type: 'directory', mode: 0o755 }, cb);
      else pack.entry({ name, mode: 0o644 }, body, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function setup(t: Parameters<typeof tempRoot>[0]) {
  const root = await tempRoot(t, 'berth-commit-');
  const db = openDatabase(join(root, 'berth.db'));
  t.after(() => {
    db.close();
  });
  const content = await LocalContentStore.open(join(root, 'content'));
  const snapshots = await OverlaySnapshotter.open(join(root, 'overlay'), db);
  const registry = createRegistryClient({ insecureRegistries: [], userAgent: 'berth-test' });
  const images = await createImageService({ db, content, snapshots, registry, log: nullLogger, root, applyLayer });
  const base = await images.import(Readable.from([await rootfsTar({ 'keep': 'keep', 'change': 'old', 'gone': 'bye', 'd/': null, 'd/x': 'x' })]), {
    repo: 'base',
    tag: 'latest',
    changes: ['CMD ["sh"]', 'ENV A=1'],
  });
  return { root, images, snapshots, base: base as Digest };
}

/** A real overlay over the base image: change things through it, as a container would. */
async function containerChanges(root: string, snapshots: OverlaySnapshotter, chain: Digest): Promise<string> {
  const upper = join(root, 'c', 'upper');
  const work = join(root, 'c', 'work');
  const merged = join(root, 'c', 'merged');
  await mkdir(upper, { recursive: true });
  await mkdir(work, { recursive: true });
  await mkdir(merged, { recursive: true });
  mountAll(snapshots.mountsFor(chain, upper, work), merged);
  try {
    await writeFile(join(merged, 'change'), 'new');
    await writeFile(join(merged, 'added'), 'added');
    await rm(join(merged, 'gone'));
    await rm(join(merged, 'd'), { recursive: true });
    await mkdir(join(merged, 'd'));
    await writeFile(join(merged, 'd', 'y'), 'y');
  } finally {
    unmount(merged);
  }
  return upper;
}

test('commit turns an upper dir into a layer on its parent: diff_ids, history, config, snapshot tree', async (t) => {
  const { root, images, snapshots, base } = await setup(t);
  const baseConfig = await images.config(base);
  const upper = await containerChanges(root, snapshots, chainIds(baseConfig.rootfs.diff_ids).at(-1) as Digest);
  const id = await images.commit({
    parent: 'base:latest',
    upperDir: upper,
    config: { Cmd: ['cat', '/added'], Env: ['A=1'] },
    history: { created_by: 'sh -c make', comment: 'my change' },
    author: 'Ann <ann@example.invalid>',
    container: 'c0ffee',
    tags: [parseReference('committed:v1')],
  });
  assert.equal(images.resolve('committed:v1').id, id);
  const c = await images.config(id);
  assert.equal(c.rootfs.diff_ids.length, 2);
  assert.equal(c.rootfs.diff_ids[0], baseConfig.rootfs.diff_ids[0]);
  assert.notEqual(c.rootfs.diff_ids[1], c.rootfs.diff_ids[0]);
  assert.deepEqual(c.config, { Cmd: ['cat', '/added'], Env: ['A=1'] });
  assert.equal(c.author, 'Ann <ann@example.invalid>');
  assert.equal(c.container, 'c0ffee');
  assert.deepEqual([c.architecture, c.os], [baseConfig.architecture, baseConfig.os]);
  assert.equal(c.history?.length, 2);
  assert.deepEqual(c.history?.[0], baseConfig.history?.[0]);
  assert.equal(c.history?.[1]?.created_by, 'sh -c make');
  assert.equal(c.history?.[1]?.comment, 'my change');
  assert.ok(Date.now() - Date.parse(c.created ?? '') < 600_000, 'created is now');
  const inspect = await images.inspect('committed:v1');
  assert.deepEqual(inspect.RootFS.Layers, c.rootfs.diff_ids);
  assert.equal(inspect.Comment, 'my change');
  const hist = await images.history('committed:v1');
  assert.equal(hist[0]?.CreatedBy, 'sh -c make');
  assert.ok((hist[0]?.Size ?? 0) > 0);
  // the layer blob is stored, uncompressed (blob = diff ID), so save/push can send it
  const blob = images.records.layerBlob(c.rootfs.diff_ids[1] as Digest);
  assert.equal(blob?.blob, c.rootfs.diff_ids[1]);

  // the new chain mounts to the container's view of the tree
  const view = join(root, 'view');
  await mkdir(view);
  mountAll(snapshots.view(chainIds(c.rootfs.diff_ids).at(-1) as Digest), view);
  // tempRoot unmounts it after the test
  assert.deepEqual((await readdir(view)).sort(), ['added', 'change', 'd', 'keep']);
  assert.equal(await readFile(join(view, 'change'), 'utf8'), 'new');
  assert.equal(await readFile(join(view, 'keep'), 'utf8'), 'keep');
  assert.deepEqual(await readdir(join(view, 'd')), ['y'], 'the removed-and-recreated dir is opaque');
  assert.equal(await lstat(join(view, 'gone')).catch(() => null), null);
});

test('commit of an empty upper dir still adds a layer; empty_layer adds only history', async (t) => {
  const { root, images, base } = await setup(t);
  const empty = join(root, 'empty');
  await mkdir(empty);
  const one = await images.commit({ parent: base, upperDir: empty, config: {}, history: {} });
  const c1 = await images.config(one as Digest);
  assert.equal(c1.rootfs.diff_ids.length, 2);
  assert.equal(c1.history?.length, 2);
  const meta = await images.commit({ parent: one, upperDir: empty, config: { WorkingDir: '/w' }, history: { created_by: 'WORKDIR /w', empty_layer: true } });
  const c2 = await images.config(meta as Digest);
  assert.deepEqual(c2.rootfs.diff_ids, c1.rootfs.diff_ids);
  assert.equal(c2.history?.length, 3);
  assert.equal(c2.history?.[2]?.empty_layer, true);
  const hist = await images.history(meta);
  assert.deepEqual(hist.map((h) => h.CreatedBy), ['WORKDIR /w', '', '']);
  assert.equal(hist[0]?.Size, 0);
  // from scratch
  const scratch = await images.commit({ parent: null, upperDir: empty, config: {}, history: {} });
  assert.equal((await images.config(scratch as Digest)).rootfs.diff_ids.length, 1);
  await assert.rejects(images.commit({ parent: 'nope:latest', upperDir: empty, config: {}, history: {} }), /No such image: nope:latest/);
});

test('mergeCommitConfig follows dockerd: unions for env, ports, labels, volumes; Cmd only without Entrypoint', () => {
  const container = {
    User: 'app',
    Env: ['A=1', 'B=2'],
    Cmd: ['sh'],
    Entrypoint: null,
    ExposedPorts: { '80/tcp': {} },
    Labels: { a: '1', b: '2' },
    WorkingDir: '/srv',
    Volumes: { '/v': {} },
    StopSignal: 'SIGINT',
  };
  const merged = mergeCommitConfig({ Env: ['B=3'], Labels: { b: 'x' }, ExposedPorts: { '443/tcp': {} } }, container);
  assert.deepEqual(merged.Env, ['B=3', 'A=1']);
  assert.deepEqual(merged.Labels, { a: '1', b: 'x' });
  assert.deepEqual(Object.keys(merged.ExposedPorts ?? {}).sort(), ['443/tcp', '80/tcp']);
  assert.deepEqual(merged.Cmd, ['sh']);
  assert.equal(merged.User, 'app');
  assert.equal(merged.WorkingDir, '/srv');
  assert.equal(merged.StopSignal, 'SIGINT');
  assert.deepEqual(merged.Volumes, { '/v': {} });
  const withEntrypoint = mergeCommitConfig({ Entrypoint: ['/bin/true'] }, container);
  assert.equal(withEntrypoint.Cmd, undefined);
  assert.deepEqual(mergeCommitConfig({ Cmd: ['echo'] }, container).Cmd, ['echo']);
});

test('local parents: intermediate images hide from list without all, go with their child, and cannot be removed under it', async (t) => {
  const { root, images, base } = await setup(t);
  const upper = join(root, 'up1');
  await mkdir(upper, { recursive: true });
  await writeFile(join(upper, 'one'), '1');
  const mid = await images.commit({ parent: base, upperDir: upper, config: {}, history: { created_by: 'step one' } });
  const top = await images.commit({ parent: mid, upperDir: '', config: { Cmd: ['x'] }, history: { created_by: 'step two', empty_layer: true }, precedingHistory: [{ created_by: 'meta', empty_layer: true }] });
  assert.equal((await images.inspect(top)).Parent, mid);
  assert.deepEqual((await images.history(top)).slice(0, 3).map((h) => h.CreatedBy), ['step two', 'meta', 'step one']);
  const ids = async (all: boolean) => (await images.list({ all })).map((i) => i.Id).sort();
  assert.deepEqual(await ids(false), [base, top].sort(), 'the untagged parent is hidden');
  assert.deepEqual(await ids(true), [base, mid, top].sort());
  assert.deepEqual((await images.list({ filters: { dangling: ['true'] } })).map((i) => i.Id), [top]);
  await assert.rejects(images.remove(mid), /image has dependent child images/);
  // removing the child takes its untagged parent along (dockerd's implicit prune), not the tagged base
  const deleted = (await images.remove(top)).filter((d) => 'Deleted' in d).map((d) => (d as { Deleted: string }).Deleted);
  assert.ok(deleted.includes(top) && deleted.includes(mid), JSON.stringify(deleted));
  assert.deepEqual(await ids(true), [base]);
});
