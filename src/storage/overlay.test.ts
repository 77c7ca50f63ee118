import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openDatabase, type Db } from '../db/index.js';
import { isCode } from '../errors/index.js';
import { sys } from '../native/index.js';
import { tempRoot } from '../testing/index.js';
import { sha256, type Digest } from '../util/index.js';
import { applyLayer } from './apply.js';
import { mountAll, unmount } from './mount.js';
import { OverlaySnapshotter } from './overlay.js';
import { packTar, type TestEntry } from './testlayers.js';

async function setup(t: TestContext): Promise<{ root: string; db: Db; sn: OverlaySnapshotter }> {
  const root = await tempRoot(t);
  const db = openDatabase(join(root, 'berth.db'));
  t.after(() => db.close());
  return { root, db, sn: await OverlaySnapshotter.open(join(root, 'overlay'), db) };
}

async function commitLayer(sn: OverlaySnapshotter, entries: TestEntry[], parent: Digest | null): Promise<Digest> {
  const staged = await sn.stage();
  const { diffId, unpackedSize } = await applyLayer(Readable.from([await packTar(entries)]), staged.dir);
  const chainId = parent === null ? diffId : sha256(`${parent} ${diffId}`);
  const snap = await staged.commit(chainId, parent, unpackedSize);
  assert.equal(snap.chainId, chainId);
  assert.ok(existsSync(snap.dir));
  return chainId;
}

const lower: TestEntry[] = [
  { name: 'keep.txt', type: 'file', content: 'keep' },
  { name: 'gone.txt', type: 'file', content: 'gone' },
  { name: 'opq/', type: 'directory' },
  { name: 'opq/old.txt', type: 'file', content: 'old' },
  { name: 'dir/', type: 'directory' },
  { name: 'dir/lower.txt', type: 'file', content: 'lower' },
];

const upper: TestEntry[] = [
  { name: '.wh.gone.txt', type: 'file', content: '' },
  { name: 'opq/', type: 'directory' },
  { name: 'opq/.wh..wh..opq', type: 'file', content: '' },
  { name: 'opq/new.txt', type: 'file', content: 'new' },
  { name: 'dir/upper.txt', type: 'file', content: 'upper' },
  { name: 'bin/', type: 'directory' },
  { name: 'bin/su', type: 'file', mode: 0o4755, uid: 0, gid: 0, content: 'su' },
  { name: 'bin/su2', type: 'link', linkname: 'bin/su' },
  { name: 'bin/sh', type: 'symlink', linkname: 'su' },
  { name: 'noted', type: 'file', content: 'n', pax: { 'SCHILY.xattr.user.note': 'kept' } },
  { name: 'dev/', type: 'directory' },
  { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 },
];

test('a two-layer chain mounts on overlay with whiteouts, opaque dirs, hardlinks, setuid, symlinks, xattrs and devices', async (t) => {
  const { root, sn } = await setup(t);
  const bottom = await commitLayer(sn, lower, null);
  const top = await commitLayer(sn, upper, bottom);
  assert.deepEqual(
    sn.list().map((s) => [s.chainId, s.parent]),
    [
      [bottom, null],
      [top, bottom],
    ],
  );

  const target = join(root, 'rootfs');
  mkdirSync(target);
  const mounts = sn.view(top);
  assert.equal(mounts.length, 1);
  assert.equal(mounts[0]!.type, 'overlay');
  assert.deepEqual(mounts[0]!.options, [`lowerdir=${sn.get(top)!.dir}:${sn.get(bottom)!.dir}`]);
  mountAll(mounts, target);

  assert.deepEqual(readdirSync(target).sort(), ['bin', 'dev', 'dir', 'keep.txt', 'noted', 'opq']);
  assert.equal(existsSync(join(target, 'gone.txt')), false, 'whiteout hides the lower file');
  assert.deepEqual(readdirSync(join(target, 'opq')), ['new.txt'], 'opaque dir hides lower content');
  assert.deepEqual(readdirSync(join(target, 'dir')).sort(), ['lower.txt', 'upper.txt'], 'plain dirs merge');
  const su = lstatSync(join(target, 'bin/su'));
  assert.equal(su.mode & 0o7777, 0o4755);
  assert.equal(lstatSync(join(target, 'bin/su2')).ino, su.ino);
  assert.equal(readlinkSync(join(target, 'bin/sh')), 'su');
  assert.equal(readFileSync(join(target, 'bin/sh'), 'utf8'), 'su');
  assert.equal(sys.lgetxattr(join(target, 'noted'), 'user.note')?.toString(), 'kept');
  assert.equal(lstatSync(join(target, 'dev/null')).rdev, (1 << 8) | 3);
  assert.throws(() => writeFileSync(join(target, 'new'), 'x'), (err) => (err as NodeJS.ErrnoException).code === 'EROFS');
  unmount(target);

  // A single layer is a read-only bind mount.
  const single = sn.view(bottom);
  assert.equal(single[0]!.type, 'bind');
  mountAll(single, target);
  assert.deepEqual(readdirSync(target).sort(), ['dir', 'gone.txt', 'keep.txt', 'opq']);
  assert.throws(() => writeFileSync(join(target, 'new'), 'x'), (err) => (err as NodeJS.ErrnoException).code === 'EROFS');
  unmount(target);

  // A writable container layer over the chain.
  const upperDir = join(root, 'upper');
  const workDir = join(root, 'work');
  mkdirSync(upperDir);
  mkdirSync(workDir);
  mountAll(sn.mountsFor(top, upperDir, workDir), target);
  writeFileSync(join(target, 'written'), 'w');
  assert.equal(readFileSync(join(upperDir, 'written'), 'utf8'), 'w');
  assert.equal(readFileSync(join(target, 'keep.txt'), 'utf8'), 'keep');
  unmount(target);

  await assert.rejects(sn.remove(bottom), (err) => isCode(err, 'conflict'));
  await sn.remove(top);
  await sn.remove(bottom);
  assert.deepEqual(sn.list(), []);
  assert.deepEqual(readdirSync(join(root, 'overlay', 'snapshots')), []);
  await assert.rejects(sn.remove(bottom), (err) => isCode(err, 'not_found'));
  assert.throws(() => sn.view(bottom), (err) => isCode(err, 'not_found'));
});

test('commit is idempotent per chain ID; a missing parent is not_found', async (t) => {
  const { sn } = await setup(t);
  const first = await commitLayer(sn, lower, null);
  const again = await commitLayer(sn, lower, null);
  assert.equal(again, first);
  assert.equal(sn.list().length, 1);
  const staged = await sn.stage();
  await assert.rejects(staged.commit(sha256('child'), sha256('no such parent'), 0), (err) => isCode(err, 'not_found'));
  assert.equal(existsSync(staged.dir), false, 'a failed commit releases its staging dir');
});

test('open sweeps staging dirs, snapshot dirs without rows, and rows without dirs', async (t) => {
  const { root, db, sn } = await setup(t);
  const kept = await commitLayer(sn, lower, null);
  const lost = await commitLayer(sn, upper, null);
  const crashed = await sn.stage(); // never committed, as if the daemon died mid-unpack
  writeFileSync(join(crashed.dir, 'partial'), 'p');
  const orphan = join(root, 'overlay', 'snapshots', '77', 'fs'); // renamed, row never written
  mkdirSync(orphan, { recursive: true });
  const lostDir = join(sn.get(lost)!.dir, '..');
  rmSync(lostDir, { recursive: true });

  const reopened = await OverlaySnapshotter.open(join(root, 'overlay'), db);
  assert.deepEqual(readdirSync(join(root, 'overlay', 'staging')), []);
  assert.equal(existsSync(join(root, 'overlay', 'snapshots', '77')), false);
  assert.equal(reopened.get(lost), undefined);
  assert.ok(reopened.get(kept));
  assert.equal(readFileSync(join(reopened.get(kept)!.dir, 'keep.txt'), 'utf8'), 'keep');
  // New ids never collide with surviving ones.
  const next = await commitLayer(reopened, [{ name: 'x', type: 'file', content: 'x' }], kept);
  assert.notEqual(reopened.get(next)!.dir, reopened.get(kept)!.dir);
});
